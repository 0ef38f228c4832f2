#include "common/json.hpp"

#include <gtest/gtest.h>

namespace agentd::json {

TEST(Json, DoublesPrintLikePythonRepr) {
    EXPECT_EQ(format_double(25000.0), "25000.0");
    EXPECT_EQ(format_double(0.8), "0.8");
    EXPECT_EQ(format_double(0.1), "0.1");
    EXPECT_EQ(format_double(1.0), "1.0");
    EXPECT_EQ(format_double(-2.5), "-2.5");
    EXPECT_EQ(format_double(1e16), "1e+16");
    EXPECT_EQ(format_double(1e15), "1000000000000000.0");
    EXPECT_EQ(format_double(0.0001), "0.0001");
    EXPECT_EQ(format_double(0.00001), "1e-05");
    EXPECT_EQ(format_double(1.5e-7), "1.5e-07");
    EXPECT_EQ(format_double(123456.789), "123456.789");
    EXPECT_EQ(format_double(0.0), "0.0");
}

TEST(Json, CompactAndPythonStyles) {
    boost::json::object o{{"a", 1}, {"b", boost::json::array{true, nullptr, 0.5}}};
    EXPECT_EQ(write(o), R"({"a":1,"b":[true,null,0.5]})");
    EXPECT_EQ(write(o, Style::kPython), R"({"a": 1, "b": [true, null, 0.5]})");
}

TEST(Json, ObjectArrayAndValueWritesAgree) {
    const boost::json::object o{{"k", boost::json::array{1, "x", boost::json::object{{"n", nullptr}}}}, {"d", 2.0}};
    const boost::json::array a{o, 3, "y"};
    EXPECT_EQ(write(o), write(boost::json::value(o)));
    EXPECT_EQ(write(a, Style::kPython), write(boost::json::value(a), Style::kPython));
    std::string appended = "prefix:";
    write_to(appended, o);
    EXPECT_EQ(appended, "prefix:" + write(o));
}

TEST(Json, WritesAfterAHugeDocumentAreUnaffected) {
    // The per-thread scratch buffer is dropped after a document past 1 MiB; later
    // writes must not see what it held.
    const boost::json::object big{{"blob", std::string(3u << 20, 'z')}};
    EXPECT_EQ(write(big).size(), (3u << 20) + 11);
    EXPECT_EQ(write(boost::json::object{{"a", 1}}), R"({"a":1})");
    EXPECT_EQ(write(boost::json::array{}), "[]");
}

TEST(Json, StringsKeepUnicodeAndEscapeControls) {
    std::string out;
    write_string(out, std::string("h\xC3\xA9\"\\\n\x01", 7));
    EXPECT_EQ(out, "\"h\xC3\xA9\\\"\\\\\\n\\u0001\"");
    out.clear();
    write_string(out, std::string("a\0b", 3));
    EXPECT_EQ(out, "\"a\\u0000b\"");
}

// Every byte value, at every offset of long plain runs (the 8-byte fast path), is
// written as a byte-at-a-time escaper writes it.
TEST(Json, LongStringsEscapeEveryByteAtEveryOffset) {
    auto reference = [](std::string_view s) {
        std::string out = "\"";
        for (unsigned char c : s) {
            static const char* kHex = "0123456789abcdef";
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                case '\b': out += "\\b"; break;
                case '\f': out += "\\f"; break;
                default:
                    if (c < 0x20) {
                        out += "\\u00";
                        out.push_back(kHex[c >> 4]);
                        out.push_back(kHex[c & 15]);
                    } else {
                        out.push_back(static_cast<char>(c));
                    }
            }
        }
        return out + "\"";
    };
    for (int byte = 0; byte < 256; ++byte) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string s(37, 'a');
            s[at % s.size()] = static_cast<char>(byte);
            if (at >= s.size()) s.push_back(static_cast<char>(byte));  // also past the last whole 8 bytes
            std::string out;
            write_string(out, s);
            ASSERT_EQ(out, reference(s)) << "byte " << byte << " at " << at;
        }
    }
    // Neighbours of the special bytes next to each other, and UTF-8 throughout.
    const std::string mixed = std::string("\x1f\x20\x21\x22\x5b\x5c\x5d\x7f\x80\xff", 10) + "caf\xC3\xA9 \xE2\x80\x94 ok";
    for (std::size_t pad = 0; pad < 9; ++pad) {
        std::string s = std::string(pad, 'x') + mixed + std::string(pad, 'y');
        std::string out;
        write_string(out, s);
        EXPECT_EQ(out, reference(s)) << pad;
    }
}

TEST(Json, ParseReportsOffsets) {
    auto ok = parse(R"({"a": [1, 2]} )");
    ASSERT_TRUE(ok.value);
    auto bad = parse(R"({"a": )");
    EXPECT_FALSE(bad.value);
    EXPECT_EQ(bad.error_message, "Expecting value");
    auto extra = parse("{} x");
    EXPECT_FALSE(extra.value);
    EXPECT_EQ(extra.error_offset, 3u);
    auto invalid_utf8 = parse("\"\xff\"");
    EXPECT_FALSE(invalid_utf8.value);
}

TEST(Json, DeepNestingIsRejectedNotOverflowed) {
    std::string deep(100000, '[');
    auto r = parse(deep);
    EXPECT_FALSE(r.value);
}

TEST(Json, EqualInOrderComparesLikeEqualityWhenKeysKeepTheirOrder) {
    const bj::value block = bj::parse(
        R"({"type":"tool_result","id":"c1","output":[{"type":"text","text":"ok"}],"n":5,"x":1.5,"ok":true,"z":null})");
    bj::value copy = block;
    EXPECT_TRUE(equal_in_order(block, copy));
    // Every change, at any depth, is seen.
    auto changed = [&](auto edit) {
        bj::value v = block;
        edit(v.as_object());
        return equal_in_order(block, v);
    };
    EXPECT_FALSE(changed([](bj::object& o) { o["output"].as_array()[0].as_object()["text"] = "ok!"; }));
    EXPECT_FALSE(changed([](bj::object& o) { o["output"].as_array().push_back(nullptr); }));
    EXPECT_FALSE(changed([](bj::object& o) { o["n"] = 6; }));
    EXPECT_FALSE(changed([](bj::object& o) { o["x"] = 1; }));
    EXPECT_FALSE(changed([](bj::object& o) { o["ok"] = false; }));
    EXPECT_FALSE(changed([](bj::object& o) { o["z"] = 0; }));
    EXPECT_FALSE(changed([](bj::object& o) { o["extra"] = 1; }));
    EXPECT_FALSE(changed([](bj::object& o) { o.erase("z"); }));
    // The same number of either integer kind is the same value, as with ==.
    EXPECT_TRUE(changed([](bj::object& o) { o["n"] = std::uint64_t{5}; }));
    // Equal objects whose keys come in another order: == holds, this does not
    // (the memo that uses it then just writes the block out again).
    const bj::value reordered = bj::parse(
        R"({"id":"c1","type":"tool_result","output":[{"type":"text","text":"ok"}],"n":5,"x":1.5,"ok":true,"z":null})");
    EXPECT_TRUE(block == reordered);
    EXPECT_FALSE(equal_in_order(block, reordered));
    EXPECT_TRUE(equal_in_order(bj::value(bj::array{}), bj::value(bj::array{})));
    EXPECT_FALSE(equal_in_order(bj::value(bj::array{}), bj::value(bj::object{})));
}


TEST(JsonSchemaEqual, NumbersByExactValueBooleansApartKeysInAnyOrder) {
    const auto v = [](std::string_view text) { return boost::json::parse(text); };
    EXPECT_TRUE(schema_equal(v("1"), v("1.0")));
    EXPECT_TRUE(schema_equal(v("18446744073709551615"), v("18446744073709551615")));
    EXPECT_TRUE(schema_equal(v("5"), boost::json::value(std::uint64_t{5})));
    EXPECT_FALSE(schema_equal(v("9007199254740993"), v("9007199254740992.0")));  // 2^53 + 1
    EXPECT_FALSE(schema_equal(v("true"), v("1")));
    EXPECT_FALSE(schema_equal(v("1.5"), v("1")));
    EXPECT_TRUE(schema_equal(v(R"({"a":[1,{"b":2.0}],"c":null})"), v(R"({"c":null,"a":[1.0,{"b":2}]})")));
    EXPECT_FALSE(schema_equal(v(R"({"a":1})"), v(R"({"a":1,"b":2})")));
    EXPECT_FALSE(schema_equal(v("[1,2]"), v("[2,1]")));
}

}  // namespace agentd::json
