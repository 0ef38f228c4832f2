#pragma once
// The diff that Write and Edit put in their metadata: Python's
// difflib.unified_diff(a_lines, b_lines, fromfile, tofile, n=3) joined into
// one string (spec/tools-workspace.md §4.4). The matcher follows difflib's
// SequenceMatcher (longest matching block, recursively, with the "popular
// line" heuristic for sequences of 200+ lines) so that hunks are identical to
// the reference's, not merely a valid diff.
#include <string>
#include <string_view>
#include <vector>

namespace agentd::tool {

/// Lines are kept with their line endings (splitlines(keepends=True)); a last
/// line without one is emitted without one, and no "\ No newline" marker is
/// added. No timestamps. Empty when the sequences are equal.
std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view fromfile, std::string_view tofile, int context = 3);

/// One difflib opcode: tag is 'e'qual, 'r'eplace, 'd'elete or 'i'nsert.
struct DiffOpcode {
    char tag;
    std::size_t i1, i2, j1, j2;
};

/// SequenceMatcher(None, a, b).get_opcodes().
std::vector<DiffOpcode> diff_opcodes(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace agentd::tool
