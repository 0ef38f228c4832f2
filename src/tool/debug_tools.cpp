#include "tool/debug_tools.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>

namespace agentd::tool {

namespace asio = boost::asio;
namespace bj = boost::json;

namespace {

model::ToolSchema schema(std::string name, std::string description, bj::object properties, bj::array required) {
    return model::ToolSchema{std::move(name), std::move(description),
                             bj::object{{"type", "object"}, {"properties", std::move(properties)},
                                        {"required", std::move(required)}}};
}

/// Debug tools that run without asking: they touch nothing but their output.
class AllowedTool : public agent::Tool {
public:
    permission::Decision check_permissions(const bj::object&, const permission::Context&) const override {
        return permission::Decision::allow();
    }
};

class EchoTool final : public AllowedTool {
public:
    const model::ToolSchema& schema() const override {
        static const auto kSchema = tool::schema("debug_echo", "Returns the given text.",
                                                 bj::object{{"text", bj::object{{"type", "string"}}}}, {"text"});
        return kSchema;
    }
    bool concurrency_safe() const override { return true; }
    asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        std::string text = input.contains("text") && input.at("text").is_string()
                               ? std::string(input.at("text").as_string())
                               : bj::serialize(input);
        emit(agent::ToolChunk{text, std::nullopt});
        co_return agent::ToolOutcome{"success", bj::value(text), {}};
    }
};

/// `debug_sleep`, and `debug_sleep_parallel`, which runs concurrently with the
/// concurrency-safe calls next to it.
class SleepTool final : public AllowedTool {
public:
    explicit SleepTool(bool parallel = false)
        : parallel_(parallel),
          schema_(tool::schema(parallel ? "debug_sleep_parallel" : "debug_sleep",
                               "Waits for the given number of milliseconds.",
                               bj::object{{"ms", bj::object{{"type", "integer"}}}}, {"ms"})) {}
    const model::ToolSchema& schema() const override { return schema_; }
    bool concurrency_safe() const override { return parallel_; }
    asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext& ctx,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        std::int64_t ms = input.contains("ms") && input.at("ms").is_int64() ? input.at("ms").as_int64() : 0;
        auto executor = co_await asio::this_coro::executor;
        // Shared with the cancel callback: it may run on another thread just as the sleep ends.
        auto timer = std::make_shared<asio::steady_timer>(executor, std::chrono::milliseconds(ms));
        auto reg = Cancellation::on_cancel(ctx.cancel, [timer] {
            asio::post(timer->get_executor(), [timer] { timer->cancel(); });
        });
        co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
        reg.reset();
        if (ctx.cancel && ctx.cancel->requested()) co_return agent::ToolOutcome{"interrupted", bj::value("interrupted"), {}};
        std::string text = "slept " + std::to_string(ms) + " ms";
        emit(agent::ToolChunk{text, std::nullopt});
        co_return agent::ToolOutcome{"success", bj::value(text), {}};
    }

private:
    bool parallel_;
    model::ToolSchema schema_;
};

class FailTool final : public AllowedTool {
public:
    const model::ToolSchema& schema() const override {
        static const auto kSchema = tool::schema("debug_fail", "Always fails.", bj::object{}, {});
        return kSchema;
    }
    asio::awaitable<agent::ToolOutcome> run(const bj::object&, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>&) override {
        throw std::runtime_error("debug_fail was called");
        co_return agent::ToolOutcome{};
    }
};

class ChunksTool final : public AllowedTool {
public:
    const model::ToolSchema& schema() const override {
        static const auto kSchema = tool::schema("debug_chunks", "Streams `count` numbered lines.",
                                                 bj::object{{"count", bj::object{{"type", "integer"}}}}, {"count"});
        return kSchema;
    }
    asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        std::int64_t n = input.contains("count") && input.at("count").is_int64() ? input.at("count").as_int64() : 1;
        n = std::clamp<std::int64_t>(n, 0, 10000);
        std::string all;
        for (std::int64_t i = 0; i < n; ++i) {
            std::string line = "line " + std::to_string(i + 1) + "\n";
            emit(agent::ToolChunk{line, std::nullopt});
            all += line;
        }
        co_return agent::ToolOutcome{"success", bj::value(all), {}};
    }
};

/// Echoes `text`, but only after the user approved it: it always asks (a plain
/// ask, so bypass and dont_ask decide without a prompt). A rule's content
/// matches a `text` that starts with it; the suggested rule is the text itself.
class GuardedTool final : public agent::Tool {
public:
    /// `debug_guarded`, or `debug_guarded_parallel`, which is concurrency-safe:
    /// it asks while its concurrent siblings run.
    explicit GuardedTool(bool parallel = false)
        : parallel_(parallel),
          schema_(tool::schema(parallel ? "debug_guarded_parallel" : "debug_guarded",
                               "Returns the given text once the user allows it.",
                               bj::object{{"text", bj::object{{"type", "string"}}}}, {"text"})) {}
    const model::ToolSchema& schema() const override { return schema_; }
    bool concurrency_safe() const override { return parallel_; }
    bool match_rule(const std::string& rule_content, const bj::object& input) const override {
        auto text = input.contains("text") && input.at("text").is_string() ? std::string_view(input.at("text").get_string())
                                                                           : std::string_view();
        return text.substr(0, rule_content.size()) == rule_content;
    }
    std::vector<permission::Rule> suggestions(const bj::object& input) const override {
        std::string text = input.contains("text") && input.at("text").is_string() ? std::string(input.at("text").get_string())
                                                                                  : std::string();
        return {permission::Rule{schema_.name, text, permission::Behavior::kAllow, "suggested"}};
    }
    asio::awaitable<agent::ToolOutcome> run(const bj::object& input, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>& emit) override {
        std::string text = input.contains("text") && input.at("text").is_string()
                               ? std::string(input.at("text").as_string())
                               : std::string();
        emit(agent::ToolChunk{"guarded: " + text, std::nullopt});
        co_return agent::ToolOutcome{"success", bj::value("guarded: " + text), {}};
    }

private:
    bool parallel_;
    model::ToolSchema schema_;
};

/// Executed by the client: the agent parks with REQUIRE_EXTERNAL_EXECUTION.
class ExternalTool final : public AllowedTool {
public:
    const model::ToolSchema& schema() const override {
        static const auto kSchema = tool::schema("debug_external", "Runs on the client; returns what the client sends.",
                                                 bj::object{{"query", bj::object{{"type", "string"}}}}, {"query"});
        return kSchema;
    }
    bool external() const override { return true; }
    asio::awaitable<agent::ToolOutcome> run(const bj::object&, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>&) override {
        throw std::logic_error("debug_external runs on the client");
        co_return agent::ToolOutcome{};
    }
};

/// Executed by the client, after the user allowed it (spec §6.4, mixed).
class GuardedExternalTool final : public agent::Tool {
public:
    const model::ToolSchema& schema() const override {
        static const auto kSchema = tool::schema("debug_guarded_external",
                                                 "Runs on the client once the user allows it.",
                                                 bj::object{{"query", bj::object{{"type", "string"}}}}, {"query"});
        return kSchema;
    }
    bool external() const override { return true; }
    asio::awaitable<agent::ToolOutcome> run(const bj::object&, agent::ToolContext&,
                                            const std::function<void(const agent::ToolChunk&)>&) override {
        throw std::logic_error("debug_guarded_external runs on the client");
        co_return agent::ToolOutcome{};
    }
};

}  // namespace

void add_debug_tools(agent::Toolkit& toolkit) {
    toolkit.add(std::make_shared<EchoTool>());
    toolkit.add(std::make_shared<SleepTool>());
    toolkit.add(std::make_shared<FailTool>());
    toolkit.add(std::make_shared<ChunksTool>());
    toolkit.add(std::make_shared<GuardedTool>());
    toolkit.add(std::make_shared<SleepTool>(true));
    toolkit.add(std::make_shared<GuardedTool>(true));
    toolkit.add(std::make_shared<ExternalTool>());
    toolkit.add(std::make_shared<GuardedExternalTool>());
}

}  // namespace agentd::tool
