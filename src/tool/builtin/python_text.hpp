#pragma once
// Python str semantics the file tools must reproduce on UTF-8 byte strings
// (spec/tools-workspace.md §4.3–4.5, Traps 3 and 19): decoding with
// replacement, newline normalisation, splitlines(keepends=True), len, count
// and replace. Inputs are UTF-8; all functions are pure.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tool {

/// bytes.decode("utf-8", errors="replace"): every maximal invalid subpart
/// becomes one U+FFFD, as CPython does.
std::string decode_utf8_replace(std::string_view bytes);
/// bytes.decode("utf-8", errors="ignore"): invalid bytes are dropped.
std::string decode_utf8_ignore(std::string_view bytes);
/// Whether the bytes are valid UTF-8 (a strict decode would succeed).
bool is_valid_utf8(std::string_view bytes);

/// "\r\n" → "\n", then a lone "\r" → "\n".
std::string normalize_newlines(std::string_view text);

/// str.splitlines(keepends=True): splits after \n, \r, \r\n, \v, \f, \x1c,
/// \x1d, \x1e, U+0085, U+2028 and U+2029. `text` must be valid UTF-8.
std::vector<std::string> split_lines_keepends(std::string_view text);

/// len(str): the number of code points of valid UTF-8.
std::size_t code_point_count(std::string_view text);
/// The byte length of the first `n` code points (all of `text` if shorter).
std::size_t code_point_prefix_bytes(std::string_view text, std::size_t n);

/// str.count(needle): non-overlapping; an empty needle counts len + 1.
std::size_t python_count(std::string_view haystack, std::string_view needle);
/// str.replace(old, new[, max_count]); max_count < 0 means all. An empty `old`
/// inserts `replacement` before every code point and at the end.
std::string python_replace(std::string_view text, std::string_view old, std::string_view replacement,
                           long max_count = -1);

}  // namespace agentd::tool
