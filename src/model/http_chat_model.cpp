#include "model/http_chat_model.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <set>

#include "common/json.hpp"
#include "model/history.hpp"
#include "model/provider_error.hpp"
#include "model/structured_output.hpp"
#include "net/sse_parser.hpp"

namespace agentd::model {

namespace {

constexpr std::size_t kMaxErrorBody = 64 * 1024;

/// A status that means "try again later": timeouts, conflicts, rate limits, 5xx.
bool transient_status(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

double default_random() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

bool is_http_url(std::string_view url) {
    return url.substr(0, 7) == "http://" || url.substr(0, 8) == "https://";
}

/// Reads a `file://` medium confined to `root`, symlinks resolved. Blocking,
/// but bounded by `max_bytes`; such media are rare (uploads arrive as base64).
std::optional<std::string> read_confined_file(const std::string& url, const std::string& root,
                                              std::size_t max_bytes) {
    auto path = confined_file_path(url, root);
    if (!path) return std::nullopt;
    namespace fs = std::filesystem;
    std::error_code ec;
    auto real_root = fs::weakly_canonical(root, ec);
    if (ec) return std::nullopt;
    auto real = fs::weakly_canonical(*path, ec);
    if (ec) return std::nullopt;
    auto rel = real.lexically_relative(real_root);
    if (rel.empty() || *rel.begin() == "..") return std::nullopt;
    if (!fs::is_regular_file(real, ec) || fs::file_size(real, ec) > max_bytes || ec)
        return std::nullopt;
    std::ifstream in(real, std::ios::binary);
    if (!in) return std::nullopt;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return base64_encode(bytes);
}

}  // namespace

HttpChatModel::HttpChatModel(std::string model, bj::object parameters,
                             std::shared_ptr<HttpTransport> transport, CallSettings settings)
    : model_(std::move(model)),
      parameters_(std::move(parameters)),
      transport_(std::move(transport)),
      settings_(std::move(settings)) {
    if (!settings_.random) settings_.random = default_random;
    if (!settings_.sleeper) settings_.sleeper = timer_sleeper();
}

bool HttpChatModel::accepts_input_media(std::string_view media_type) const {
    return MediaPolicy(input_types_ ? *input_types_ : default_input_types()).accepts(media_type);
}

bool HttpChatModel::retryable_status(int status, const net::HttpResponseHead& head) const {
    if (auto explicit_answer = should_retry_header(head)) return *explicit_answer;
    return transient_status(status);
}

bool HttpChatModel::retryable_transport(net::TransportError::Kind kind) const {
    return kind != net::TransportError::Kind::kCancelled;
}

net::HttpRequest HttpChatModel::json_post(std::string url,
                                          std::vector<std::pair<std::string, std::string>> headers,
                                          const RequestBody& body) const {
    net::HttpRequest req;
    req.method = "POST";
    req.url = std::move(url);
    req.headers = std::move(headers);
    req.headers.emplace_back("content-type", "application/json");
    req.headers.emplace_back(
        "accept", framing() == Framing::kSse ? "text/event-stream" : "application/x-ndjson");
    req.body = body.write_prefix(req.body_tail);
    req.connect_timeout = settings_.connect_timeout;
    req.idle_timeout = settings_.idle_timeout;
    return req;
}

boost::asio::awaitable<ModelResponse> HttpChatModel::call(const ChatRequest& request,
                                                          const ChunkSink& on_chunk,
                                                          CancellationPtr cancel) {
    if (request.structured_schema) co_return co_await call_structured(request, std::move(cancel));
    co_return co_await call_plain(request, bj::object{}, on_chunk, std::move(cancel));
}

boost::asio::awaitable<ModelResponse> HttpChatModel::call_plain(const ChatRequest& request,
                                                                const bj::object& extra_body,
                                                                const ChunkSink& on_chunk,
                                                                CancellationPtr cancel) {
    // First pass records the `url` media the provider needs inlined; the
    // second formats with what could be loaded.
    std::vector<std::string> wanted;
    MediaResolver recorder = [&wanted](const std::string& url) -> std::optional<std::string> {
        wanted.push_back(url);
        return std::nullopt;
    };
    net::HttpRequest http = build_request(request, extra_body, recorder);
    if (!wanted.empty()) {
        auto loaded = co_await load_media(wanted, request.media_root, cancel);
        if (!loaded.empty()) {
            MediaResolver lookup = [&loaded](const std::string& url) -> std::optional<std::string> {
                auto it = loaded.find(url);
                if (it == loaded.end()) return std::nullopt;
                return it->second;
            };
            http = build_request(request, extra_body, lookup);
        }
    }
    co_return co_await stream_with_retries(http, on_chunk, std::move(cancel));
}

boost::asio::awaitable<std::map<std::string, std::string>> HttpChatModel::load_media(
    const std::vector<std::string>& urls, const std::string& media_root, CancellationPtr cancel) {
    std::map<std::string, std::string> loaded;
    std::set<std::string> seen;
    for (const auto& url : urls) {
        if (!seen.insert(url).second) continue;
        if (is_file_url(url)) {
            if (auto b64 = read_confined_file(url, media_root, settings_.max_media_bytes))
                loaded[url] = std::move(*b64);
            continue;
        }
        if (!is_http_url(url)) continue;
        net::HttpRequest req;
        req.method = "GET";
        req.url = url;
        req.connect_timeout = settings_.connect_timeout;
        req.idle_timeout = settings_.media_timeout;
        std::optional<net::HttpResponse> response;
        try {
            response = co_await transport_->fetch(req, cancel, settings_.max_media_bytes);
        } catch (const std::exception&) {
            // An unreachable medium becomes a text note in the request rather than failing the
            // call.
        }
        if (cancel && cancel->requested()) throw ModelInterrupted(ModelResponse{});
        if (response && response->head.status >= 200 && response->head.status < 300)
            loaded[url] = base64_encode(response->body);
    }
    co_return loaded;
}

boost::asio::awaitable<ModelResponse> HttpChatModel::stream_with_retries(
    const net::HttpRequest& http, const ChunkSink& on_chunk, CancellationPtr cancel) {
    for (int attempt = 0;; ++attempt) {
        if (cancel && cancel->requested()) throw ModelInterrupted(ModelResponse{});

        auto decoder = make_decoder();
        net::SseParser sse;
        net::NdjsonParser ndjson;
        net::HttpResponseHead head;
        bool head_ok = false, body_started = false;
        std::string error_body;
        std::exception_ptr callback_error;
        // Aborts this exchange when the caller cancels or a callback fails.
        auto abort = std::make_shared<Cancellation>();
        auto link = Cancellation::on_cancel(cancel, [abort] { abort->request(); });

        auto deliver = [&](std::string_view payload) {
            for (const auto& chunk : decoder->feed(payload))
                if (on_chunk) on_chunk(chunk);
        };
        auto guarded = [&](auto&& fn) {
            if (callback_error) return;
            try {
                fn();
            } catch (...) {
                callback_error = std::current_exception();
                abort->request();
            }
        };
        auto on_event = [&](const net::SseEvent& ev) {
            if (!ev.data.empty()) deliver(ev.data);
        };
        auto on_line = [&](std::string_view line) { deliver(line); };

        std::exception_ptr failure;
        try {
            co_await transport_->stream(
                http,
                [&](const net::HttpResponseHead& h) {
                    head = h;
                    head_ok = h.status >= 200 && h.status < 300;
                },
                [&](std::string_view bytes) {
                    if (!head_ok) {
                        if (error_body.size() < kMaxErrorBody)
                            error_body.append(bytes.substr(0, kMaxErrorBody - error_body.size()));
                        return;
                    }
                    body_started = true;
                    guarded([&] {
                        if (framing() == Framing::kSse)
                            sse.feed(bytes, on_event);
                        else
                            ndjson.feed(bytes, on_line);
                    });
                },
                abort);
            if (head_ok)
                guarded([&] {
                    if (framing() == Framing::kSse)
                        sse.finish(on_event);
                    else
                        ndjson.finish(on_line);
                });
        } catch (...) {
            failure = std::current_exception();
        }
        link.reset();

        if (callback_error) std::rethrow_exception(callback_error);
        if (cancel && cancel->requested()) throw ModelInterrupted(decoder->response());

        std::chrono::milliseconds delay{0};
        if (failure) {
            net::TransportError::Kind kind = net::TransportError::Kind::kProtocol;
            std::string what;
            try {
                std::rethrow_exception(failure);
            } catch (const net::TransportError& e) {
                kind = e.kind();
                what = e.what();
            }  // anything else propagates as is
            if (head_ok && body_started)
                throw ModelError(0, false, std::string(provider()) + " stream broken: " + what);
            bool retryable = retryable_transport(kind);
            if (!retryable || attempt >= settings_.retry.max_retries)
                throw ModelError(0, retryable,
                                 std::string(provider()) + " request failed: " + what);
            delay = backoff_delay(settings_.retry, attempt, settings_.random());
        } else if (!head_ok) {
            bool retryable = retryable_status(head.status, head);
            std::string what = std::string(provider()) + " HTTP " + std::to_string(head.status) +
                               ": " + error_message_of(error_body);
            // A status that does not say "later" (Gemini's 400s, which the reference
            // retries too) is not worth the whole backoff: three retries at most.
            const int limit =
                transient_status(head.status) ? settings_.retry.max_retries : std::min(settings_.retry.max_retries, 3);
            if (!retryable || attempt >= limit)
                throw ModelError(head.status, retryable, what);
            auto hinted = retry_after(head, settings_.retry.max_retry_after);
            delay = hinted ? *hinted : backoff_delay(settings_.retry, attempt, settings_.random());
        } else {
            co_return decoder->response();
        }
        co_await settings_.sleeper(delay, cancel);
    }
}

boost::asio::awaitable<ModelResponse> HttpChatModel::call_structured(const ChatRequest& request,
                                                                     CancellationPtr cancel) {
    const bj::object& schema = *request.structured_schema;
    const auto no_thinking = disable_thinking_body();
    std::exception_ptr last_error;
    for (auto strategy : structured_strategies(request, no_thinking.has_value())) {
        ChatRequest attempt = structured_request(request, strategy);
        const bj::object extra =
            strategy == StructuredStrategy::kNoThinking ? *no_thinking : bj::object{};
        std::optional<ModelResponse> response;
        try {
            response = co_await call_plain(attempt, extra, ChunkSink{}, cancel);
        } catch (const ModelError& e) {
            if (!structured_fallback_status(e.status())) throw;
            last_error = std::current_exception();
        }
        if (!response) continue;
        if (auto output = read_structured_output(*response, schema)) {
            response->structured_output = std::move(output);
            co_return std::move(*response);
        }
        last_error = std::make_exception_ptr(StructuredOutputError(
            "Failed to generate structured output for model " + model_ + "."));
    }
    std::rethrow_exception(last_error);
}

}  // namespace agentd::model
