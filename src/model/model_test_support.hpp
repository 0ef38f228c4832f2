#pragma once
// Test helpers for the model layer (header-only: only *_test.cpp include it).
// A scripted HttpTransport, a sleeper that records instead of waiting, a way
// to run one coroutine to completion, and the history of spec/models.md §6.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "model/chat_model.hpp"
#include "model/http_transport.hpp"
#include "model/retry_policy.hpp"
#include "net/sse_parser.hpp"

namespace agentd::model::testing {

/// One scripted exchange.
struct Exchange {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers{};
    std::vector<std::string> body{};  ///< pieces handed to on_data one by one
    /// Thrown before the head (connect failure…) when set.
    std::optional<net::TransportError::Kind> fail_before_head{};
    /// Thrown after the body pieces when set (a broken stream).
    std::optional<net::TransportError::Kind> fail_after_body{};
    /// Fires the caller's cancellation after this many body pieces.
    std::optional<std::size_t> cancel_after{};
};

class FakeTransport : public HttpTransport {
public:
    std::deque<Exchange> script;
    std::vector<net::HttpRequest> requests;
    std::vector<std::string> fetched;
    std::map<std::string, std::string> media;  ///< url → bytes served by fetch
    CancellationPtr cancel_target;             ///< what cancel_after fires

    boost::asio::awaitable<void> stream(const net::HttpRequest& request,
                                        std::function<void(const net::HttpResponseHead&)> on_head,
                                        std::function<void(std::string_view)> on_data,
                                        CancellationPtr cancel) override {
        // Kept as one body text, the bytes a server would read.
        requests.push_back(request);
        requests.back().body = request.whole_body();
        requests.back().body_tail.clear();
        if (script.empty())
            throw net::TransportError(net::TransportError::Kind::kConnect, "script exhausted");
        Exchange ex = script.front();
        script.pop_front();
        if (ex.fail_before_head)
            throw net::TransportError(*ex.fail_before_head, "scripted failure");
        net::HttpResponseHead head;
        head.status = ex.status;
        head.headers = ex.headers;
        on_head(head);
        std::size_t n = 0;
        for (const auto& piece : ex.body) {
            if (cancel && cancel->requested())
                throw net::TransportError(net::TransportError::Kind::kCancelled, "cancelled");
            on_data(piece);
            ++n;
            if (ex.cancel_after && n == *ex.cancel_after && cancel_target) cancel_target->request();
        }
        if (cancel && cancel->requested())
            throw net::TransportError(net::TransportError::Kind::kCancelled, "cancelled");
        if (ex.fail_after_body)
            throw net::TransportError(*ex.fail_after_body, "scripted broken stream");
        co_return;
    }

    boost::asio::awaitable<net::HttpResponse> fetch(const net::HttpRequest& request,
                                                    CancellationPtr, std::size_t) override {
        fetched.push_back(request.url);
        net::HttpResponse r;
        auto it = media.find(request.url);
        r.head.status = it == media.end() ? 404 : 200;
        if (it != media.end()) r.body = it->second;
        co_return r;
    }
};

/// Records the delays instead of sleeping.
struct RecordingSleeper {
    std::shared_ptr<std::vector<std::chrono::milliseconds>> delays =
        std::make_shared<std::vector<std::chrono::milliseconds>>();
    Sleeper sleeper() const {
        auto d = delays;
        return
            [d](std::chrono::milliseconds delay, CancellationPtr) -> boost::asio::awaitable<void> {
                d->push_back(delay);
                co_return;
            };
    }
};

/// Runs `fn()` (returning awaitable<T>) on a fresh io_context and returns its result (or rethrows).
template <typename Fn>
auto run_coro(Fn fn) {
    boost::asio::io_context ctx;
    auto future = boost::asio::co_spawn(ctx, fn(), boost::asio::use_future);
    ctx.run();
    return future.get();
}

inline bj::value parse(std::string_view text) { return bj::parse(text); }

/// Compact, order-preserving serialisation for exact comparisons.
inline std::string dump(const bj::value& v) { return json::write(v); }

/// Body of an SSE stream: one `data:` event per payload.
inline std::string sse_body(const std::vector<std::string>& payloads) {
    std::string out;
    for (const auto& p : payloads) out += "data: " + p + "\n\n";
    return out;
}

/// Feeds `bytes` to `decoder` through an SSE parser, cut into pieces of `step`
/// bytes; returns the surfaced chunks.
template <typename Decoder>
std::vector<ModelChunk> decode_sse(Decoder& decoder, std::string_view bytes, std::size_t step) {
    std::vector<ModelChunk> out;
    net::SseParser parser;
    auto on_event = [&](const net::SseEvent& ev) {
        if (ev.data.empty()) return;
        for (auto& c : decoder.feed(ev.data)) out.push_back(std::move(c));
    };
    for (std::size_t i = 0; i < bytes.size(); i += step)
        parser.feed(bytes.substr(i, step), on_event);
    parser.finish(on_event);
    return out;
}

/// The history of spec/models.md §6 (agent "Friday", one tool round).
inline ChatRequest worked_example_request() {
    ChatRequest r;
    r.system_prompt = "You are a helpful assistant.";
    r.messages = parse(R"([
      {"name":"user","role":"user","content":[
         {"type":"text","text":"What's the weather in Paris? Here is a photo."},
         {"type":"data","id":"d1","source":{"type":"base64","data":"iVBORw0KGgo=","media_type":"image/png"}}]},
      {"name":"Friday","role":"assistant","content":[
         {"type":"thinking","id":"k1","thinking":"I should call the weather tool.","signature":"EqQBCkYIBxgCKkA"},
         {"type":"text","id":"t1","text":"Let me check."},
         {"type":"tool_call","id":"call_abc123","name":"get_weather","input":"{\"city\": \"Paris\"}","state":"finished"},
         {"type":"tool_result","id":"call_abc123","name":"get_weather","output":[{"type":"text","text":"18°C, cloudy"}],"state":"success"},
         {"type":"text","id":"t2","text":"It is 18°C and cloudy in Paris."}]},
      {"name":"user","role":"user","content":[{"type":"text","text":"Thanks!"}]}
    ])")
                     .as_array();
    r.tools.push_back(ToolSchema{
        "get_weather", "Get the current weather.",
        parse(R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")
            .as_object()});
    return r;
}

}  // namespace agentd::model::testing
