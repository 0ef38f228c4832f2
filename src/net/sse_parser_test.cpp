#include "net/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace agentd::net {
namespace {

struct Ev {
    std::string event, data, id;
    bool operator==(const Ev&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Ev& e) {
    return os << "{event=" << e.event << " data=" << e.data << " id=" << e.id << "}";
}

/// Feeds `parts` in order, then finish(); returns every event.
std::vector<Ev> feed_all(const std::vector<std::string_view>& parts) {
    SseParser p;
    std::vector<Ev> out;
    auto on = [&](const SseEvent& e) { out.push_back({e.event, e.data, e.id}); };
    for (auto part : parts) p.feed(part, on);
    p.finish(on);
    return out;
}

std::vector<Ev> parse(std::string_view s) { return feed_all({s}); }

/// Rewrites every '\n' of `s` as `eol`.
std::string with_eol(std::string_view s, std::string_view eol) {
    std::string out;
    for (char c : s) {
        if (c == '\n')
            out += eol;
        else
            out += c;
    }
    return out;
}

/// Every way to cut `s` in two, and byte by byte, must give `expected`.
void expect_all_splits(const std::string& s, const std::vector<Ev>& expected) {
    for (std::size_t k = 0; k <= s.size(); ++k) {
        std::string_view v = s;
        ASSERT_EQ(feed_all({v.substr(0, k), v.substr(k)}), expected) << "split at " << k;
    }
    SseParser p;
    std::vector<Ev> out;
    auto on = [&](const SseEvent& e) { out.push_back({e.event, e.data, e.id}); };
    for (char c : s) p.feed(std::string_view(&c, 1), on);
    p.finish(on);
    EXPECT_EQ(out, expected) << "byte by byte";
}

const char* const kEols[] = {"\n", "\r\n", "\r"};

// Shaped like a real OpenAI chat.completions stream, with a keep-alive comment and
// multi-byte UTF-8 that byte-by-byte feeding cuts mid-character.
const std::string kOpenAi =
    "data: "
    "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":"
    "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n"
    "\n"
    ": keep-alive\n"
    "\n"
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo "
    "\xC3\xA9\xE6\x97\xA5\"}}]}\n"
    "\n"
    "data: "
    "{\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2}}\n"
    "\n"
    "data: [DONE]\n"
    "\n";

const std::vector<Ev> kOpenAiEvents = {
    {"",
     "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
     "\"delta\":{\"role\":"
     "\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
     ""},
    {"", "{\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}", ""},
    {"",
     "{\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo "
     "\xC3\xA9\xE6\x97\xA5\"}}]}",
     ""},
    {"",
     "{\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
     "\"usage\":{"
     "\"prompt_tokens\":9,\"completion_tokens\":2}}",
     ""},
    {"", "[DONE]", ""},
};

// Shaped like a real Anthropic Messages stream: named events, a ping, no "[DONE]".
const std::string kAnthropic =
    "event: message_start\n"
    "data: "
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
    "\"assistant\","
    "\"content\":[],\"model\":\"claude-x\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: "
    "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":"
    "\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: "
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
    "\"Hi\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: message_delta\n"
    "data: "
    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_"
    "tokens\":3}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n"
    "\n";

const std::vector<Ev> kAnthropicEvents = {
    {"message_start",
     "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
     "\"assistant\","
     "\"content\":[],\"model\":\"claude-x\",\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}",
     ""},
    {"content_block_start",
     "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":"
     "\"\"}}",
     ""},
    {"ping", "{\"type\": \"ping\"}", ""},
    {"content_block_delta",
     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
     "\"Hi\"}}",
     ""},
    {"content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}", ""},
    {"message_delta",
     "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_"
     "tokens\":3}}",
     ""},
    {"message_stop", "{\"type\":\"message_stop\"}", ""},
};

TEST(SseParser, OpenAiStreamAtEverySplitPointWithEveryLineEnding) {
    for (const char* eol : kEols) {
        SCOPED_TRACE(testing::PrintToString(std::string(eol)));
        expect_all_splits(with_eol(kOpenAi, eol), kOpenAiEvents);
    }
}

TEST(SseParser, AnthropicStreamAtEverySplitPointWithEveryLineEnding) {
    for (const char* eol : kEols) {
        SCOPED_TRACE(testing::PrintToString(std::string(eol)));
        expect_all_splits(with_eol(kAnthropic, eol), kAnthropicEvents);
    }
}

TEST(SseParser, MultiLineDataIsJoinedWithNewlines) {
    // A spurious blank line from a mishandled "\r\n" split would cut this in two.
    for (const char* eol : kEols) {
        SCOPED_TRACE(testing::PrintToString(std::string(eol)));
        expect_all_splits(with_eol("data: a\ndata:b\ndata\ndata:  c\n\n", eol),
                          {{"", "a\nb\n\n c", ""}});
    }
}

TEST(SseParser, CrLfSplitAcrossFeedsIsOneLineEnd) {
    EXPECT_EQ(feed_all({"data: a\r", "\ndata: b\r\n\r", "\n"}),
              (std::vector<Ev>{{"", "a\nb", ""}}));
    // Empty feeds between the halves change nothing.
    EXPECT_EQ(feed_all({"data: a\r", "", "", "\ndata: b\r", "", "\n\r\n"}),
              (std::vector<Ev>{{"", "a\nb", ""}}));
    // A lone '\r' at the end of a feed followed by another line is a line end on its own.
    EXPECT_EQ(feed_all({"data: a\r", "data: b\r", "\r"}), (std::vector<Ev>{{"", "a\nb", ""}}));
}

TEST(SseParser, MixedLineEndingsInOneStream) {
    expect_all_splits("data: a\r\ndata: b\rdata: c\n\r\nevent: e\rdata: d\r\r",
                      {{"", "a\nb\nc", ""}, {"e", "d", ""}});
}

TEST(SseParser, CommentsAreIgnoredAnywhere) {
    expect_all_splits(":hello\ndata: a\n: in between\ndata: b\n:\n\n: trailing\n\n",
                      {{"", "a\nb", ""}});
}

TEST(SseParser, LeadingBomIsSkippedEvenWhenSplit) {
    expect_all_splits(
        "\xEF\xBB\xBF"
        "data: x\n\n",
        {{"", "x", ""}});
    EXPECT_EQ(feed_all({"\xEF", "\xBB", "\xBF", "data: y\n\n"}), (std::vector<Ev>{{"", "y", ""}}));
    // Only a leading BOM is special: later, it is part of a (thus unknown) field name.
    EXPECT_EQ(parse("data: a\n\n\xEF\xBB\xBF"
                    "data: b\n\n"),
              (std::vector<Ev>{{"", "a", ""}}));
    // A stream that starts like a BOM but is not one keeps its bytes.
    EXPECT_EQ(feed_all({"\xEF", "data: b\n\ndata: c\n\n"}), (std::vector<Ev>{{"", "c", ""}}));
}

TEST(SseParser, EventWithoutDataIsNotDispatchedAndResetsType) {
    EXPECT_EQ(parse("event: lonely\n\ndata: x\n\n"), (std::vector<Ev>{{"", "x", ""}}));
    EXPECT_EQ(parse("event: a\nid: 1\n\n\n\n"), std::vector<Ev>{});
}

TEST(SseParser, EmptyDataFieldStillDispatches) {
    EXPECT_EQ(parse("data\n\ndata:\n\n"), (std::vector<Ev>{{"", "", ""}, {"", "", ""}}));
}

TEST(SseParser, FieldValueKeepsAllButOneLeadingSpaceAndColonsAfterTheFirst) {
    EXPECT_EQ(parse("event:x\ndata:  two: colons\n\n"),
              (std::vector<Ev>{{"x", " two: colons", ""}}));
}

TEST(SseParser, IdPersistsAcrossEventsAndIgnoresNul) {
    using namespace std::string_literals;
    EXPECT_EQ(parse("id: 7\ndata: a\n\ndata: b\n\nid: 8\0x\ndata: c\n\nid\ndata: d\n\n"s),
              (std::vector<Ev>{{"", "a", "7"}, {"", "b", "7"}, {"", "c", "7"}, {"", "d", ""}}));
}

TEST(SseParser, UnknownFieldsAndRetryAreIgnored) {
    EXPECT_EQ(parse("retry: 100\nfoo: bar\ndata: x\nData: y\n\n"),
              (std::vector<Ev>{{"", "x", ""}}));
}

TEST(SseParser, FinishEmitsAnUnterminatedLastEvent) {
    EXPECT_EQ(parse("data: a\n\nevent: e\ndata: b\n"),
              (std::vector<Ev>{{"", "a", ""}, {"e", "b", ""}}));
    EXPECT_EQ(parse("data: a\n\ndata: partial"),
              (std::vector<Ev>{{"", "a", ""}, {"", "partial", ""}}));
    EXPECT_EQ(parse("data: a\r"), (std::vector<Ev>{{"", "a", ""}}));
    EXPECT_EQ(parse("\xEF\xBB"), std::vector<Ev>{});
    EXPECT_EQ(parse(""), std::vector<Ev>{});
}

TEST(SseParser, LongLineAcrossManyFeeds) {
    std::string payload(100'000, 'x');
    std::string s = "data: " + payload + "\n\n";
    SseParser p;
    std::vector<Ev> out;
    auto on = [&](const SseEvent& e) { out.push_back({e.event, e.data, e.id}); };
    for (std::size_t i = 0; i < s.size(); i += 7) p.feed(std::string_view(s).substr(i, 7), on);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data, payload);
}

std::vector<std::string> ndjson(const std::vector<std::string_view>& parts) {
    NdjsonParser p;
    std::vector<std::string> out;
    auto on = [&](std::string_view l) { out.emplace_back(l); };
    for (auto part : parts) p.feed(part, on);
    p.finish(on);
    return out;
}

TEST(NdjsonParser, LinesAtEverySplitPoint) {
    const std::string s =
        "{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":"
        "false}\n"
        "\n"
        "{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"\xC3\xA9\"},"
        "\"done\":false}\r\n"
        "   \n"
        "{\"model\":\"llama3\",\"done\":true}\n";
    const std::vector<std::string> expected = {
        "{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":"
        "false}",
        "{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"\xC3\xA9\"},"
        "\"done\":false}",
        "{\"model\":\"llama3\",\"done\":true}",
    };
    for (std::size_t k = 0; k <= s.size(); ++k) {
        std::string_view v = s;
        ASSERT_EQ(ndjson({v.substr(0, k), v.substr(k)}), expected) << "split at " << k;
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < s.size(); ++i) bytes.push_back(std::string_view(s).substr(i, 1));
    EXPECT_EQ(ndjson(bytes), expected);
}

TEST(NdjsonParser, FinishEmitsAnUnterminatedLastLine) {
    EXPECT_EQ(ndjson({"{\"a\":1}\n{\"b\"", ":2}"}),
              (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
    EXPECT_EQ(ndjson({"{\"a\":1}\r"}), (std::vector<std::string>{"{\"a\":1}"}));
    EXPECT_EQ(ndjson({"", "\n\n", " "}), std::vector<std::string>{});
}

}  // namespace
}  // namespace agentd::net
