#pragma once
// JSON text in the exact forms the reference produces.
//
// Boost.JSON holds values in insertion order, which we use as the field order of
// every record. Its own serializer writes doubles as "2.5E4"; clients of the
// reference see Python's repr ("25000.0"), so writing goes through here.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace agentd::json {

namespace bj = boost::json;

enum class Style {
    kCompact,  ///< pydantic model_dump_json: no spaces (HTTP bodies, storage)
    kPython,   ///< json.dumps defaults: ", " and ": " (SSE frames, bus payloads)
};

/// Serialises like the reference: non-ASCII written raw, floats as Python repr.
/// The object and array overloads matter: passing a bj::object where a
/// bj::value is expected would deep-copy it first.
std::string write(const bj::value& v, Style style = Style::kCompact);
std::string write(const bj::object& o, Style style = Style::kCompact);
std::string write(const bj::array& a, Style style = Style::kCompact);
void write_to(std::string& out, const bj::value& v, Style style = Style::kCompact);
void write_to(std::string& out, const bj::object& o, Style style = Style::kCompact);
void write_to(std::string& out, const bj::array& a, Style style = Style::kCompact);

/// Python's repr() of a float ("0.8", "25000.0", "1e+16").
std::string format_double(double d);

/// Appends `s` as a JSON string literal.
void write_string(std::string& out, std::string_view s);

/// Result of parsing untrusted text; on failure `error_offset` is the character
/// offset the way Python's json module reports it, and `error_message` its wording.
struct ParseResult {
    std::optional<bj::value> value;
    std::size_t error_offset = 0;
    std::string error_message;
};
ParseResult parse(std::string_view text);

/// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// Parses trusted text (our own storage); throws on malformed input.
bj::value parse_trusted(std::string_view text);

/// a == b where every object of `a` lists its keys in the order of `b`'s (a copy
/// of b, or b changed in place); false when the order differs. Compares keys
/// side by side where == looks each one up in the other object.
bool equal_in_order(const bj::value& a, const bj::value& b);

/// JSON Schema's equality (enum, const, as Python's jsonschema has it): numbers
/// compare by exact value, so 1 equals 1.0 but 2^53 + 1 does not equal 2^53;
/// a boolean equals only a boolean (true is not 1); objects ignore key order.
bool schema_equal(const bj::value& a, const bj::value& b);

}  // namespace agentd::json
