// agentd: wires the components together and runs the chosen command.
#include <fcntl.h>
#include <sodium.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <thread>

#include "api/services.hpp"
#include "bus/memory/memory_bus.hpp"
#include "http/server.hpp"
#include "model/fallback_chat_model.hpp"
#include "model/http_transport.hpp"
#include "model/model_factory.hpp"
#include "net/send_batch.hpp"
#include "service/background_tasks.hpp"
#include "service/chat_service.hpp"
#include "service/run_dispatchers.hpp"
#include "api/workspace_routes.hpp"
#include "service/workspace_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "tool/builtin/bash_tool.hpp"
#include "tool/builtin/file_tools.hpp"
#include "tool/builtin/task_tools.hpp"
#include "tool/debug_tools.hpp"
#include "workspace/directory_workspace_manager.hpp"
#include "workspace/isolation_policy.hpp"

namespace {

struct Settings {
    std::string host = "127.0.0.1";
    unsigned short port = 8000;
    std::string data_dir = "./data";
    std::size_t threads = 0;  // 0: one per core
    std::string port_file;
    std::string isolation = "per_agent";
    std::string cors_origins = "*";
    std::size_t max_body_bytes = 10 * 1024 * 1024;
    std::size_t max_header_bytes = 16 * 1024;
    int request_timeout_s = 30;
    std::string log_level = "info";
    bool access_log = true;
    bool io_uring = true;
    int sse_heartbeat_ms = 30000;
    int event_log_retention_s = 600;
    bool debug_tools = false;
    double tool_offload_timeout_s = 10.0;
    std::string workspace = "local";
    bool workspace_network = false;
    std::string download_secret;
    int wal_checkpoint_pages = agentd::storage::sqlite::SqliteStorage::kDefaultCheckpointPages;
};

void add_common_options(CLI::App& cmd, Settings& s) {
    cmd.add_option("--data-dir", s.data_dir, "Folder for the database, keys and workspaces")
        ->envname("AGENTD_DATA_DIR")->capture_default_str();
    cmd.add_option("--log-level", s.log_level, "trace, debug, info, warn, error")
        ->envname("AGENTD_LOG_LEVEL")->capture_default_str();
}

/// One server per data dir: the SQLite file and in-process caches assume it.
int lock_data_dir(const std::filesystem::path& dir) {
    int fd = ::open((dir / "agentd.lock").c_str(), O_RDWR | O_CREAT, 0600);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        throw std::runtime_error("data dir " + dir.string() + " is in use by another agentd");
    }
    return fd;
}

std::unique_ptr<agentd::storage::sqlite::SqliteStorage> open_storage(const Settings& s, std::size_t pool) {
    std::filesystem::path dir(s.data_dir);
    std::filesystem::create_directories(dir);
    auto secrets = agentd::SecretBox::from_environment_or_file(dir);
    auto storage = std::make_unique<agentd::storage::sqlite::SqliteStorage>(dir / "agentd.db", secrets, pool,
                                                                           s.wal_checkpoint_pages);
    storage->migrate();
    return storage;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return out;
}

int serve(const Settings& s) {
    auto policy = agentd::workspace::parse_isolation_policy(s.isolation);
    if (!policy) throw std::runtime_error("unknown workspace isolation policy: " + s.isolation);
    auto workspace_kind = agentd::workspace::parse_workspace_kind(s.workspace);
    if (!workspace_kind) throw std::runtime_error("unknown workspace backend: " + s.workspace + " (local or bwrap)");
    std::size_t threads = s.threads ? s.threads : std::max(1u, std::thread::hardware_concurrency());
    std::size_t blocking = std::max<std::size_t>(4, threads * 2);

    std::filesystem::create_directories(s.data_dir);
    int lock_fd = lock_data_dir(s.data_dir);
    auto storage = open_storage(s, blocking);
    agentd::bus::MemoryBus bus;
    agentd::service::AgentService agents(*storage, bus);
    agentd::service::CredentialService credentials(*storage);
    // bwrap: probes the sandbox now, so a host without user namespaces fails at start.
    agentd::workspace::DirectoryWorkspaceManager workspaces(s.data_dir, *workspace_kind, s.workspace_network);
    agentd::service::SessionService sessions(*storage, bus, agents, credentials, *policy, &workspaces);
    agentd::service::CatalogService catalog;

    agentd::http::Router router;
    agentd::http::ServerOptions opts;
    opts.host = s.host;
    opts.port = s.port;
    opts.io_threads = threads;
    opts.blocking_threads = blocking;
    opts.body_limit = s.max_body_bytes;
    opts.header_limit = s.max_header_bytes;
    opts.request_timeout = std::chrono::seconds(s.request_timeout_s);
    opts.port_file = s.port_file;
    opts.access_log = s.access_log;
    agentd::net::SendBatch::allow_io_uring(s.io_uring);
    // The server's options are final once it exists; the shutdown hooks reach the
    // chat service through this pointer, set below.
    agentd::service::ChatService* chat_ptr = nullptr;
    agentd::service::BackgroundTasks* background_ptr = nullptr;
    agentd::service::RunDispatchers* dispatchers_ptr = nullptr;
    // Listeners first (no new runs), then the runs, then the background tasks.
    opts.on_shutdown = [&] {
        if (dispatchers_ptr) dispatchers_ptr->stop();
        if (chat_ptr) chat_ptr->cancel_all();
        if (background_ptr) background_ptr->cancel_all();
    };
    opts.background_idle = [&] {
        return (!chat_ptr || chat_ptr->active_runs() == 0) && (!background_ptr || background_ptr->running() == 0) &&
               (!dispatchers_ptr || dispatchers_ptr->idle());
    };
    agentd::http::Server server(opts, router);
    agentd::service::BackgroundTasks background(bus, server.blocking_pool().get_executor());
    background_ptr = &background;

    agentd::service::ChatOptions chat_options;
    chat_options.heartbeat = std::chrono::milliseconds(s.sse_heartbeat_ms);
    chat_options.log_retention = std::chrono::seconds(s.event_log_retention_s);
    chat_options.tool_offload_timeout = std::chrono::milliseconds(static_cast<long long>(s.tool_offload_timeout_s * 1000));
    chat_options.run_executor = [&server] { return server.next_io_executor(); };
    // One transport for every run: the provider connections it keeps alive serve the
    // next run too, not only the next step of the same one.
    auto provider_transport = agentd::model::make_http_transport();
    agentd::service::ChatService chat(
        *storage, bus, server.io_executor(), server.blocking_pool(),
        [provider_transport](boost::asio::any_io_executor, const boost::json::object& credential,
                             const std::string& model, const boost::json::object& parameters,
                             std::unique_ptr<agentd::model::ChatModel> fallback) -> std::unique_ptr<agentd::model::ChatModel> {
            auto primary = agentd::model::make_chat_model(provider_transport, credential, model, parameters);
            if (!fallback) return primary;
            return std::make_unique<agentd::model::FallbackChatModel>(std::move(primary), std::move(fallback));
        },
        // The run's toolkit, in the reference's order: the workspace tools, the task tools,
        // ToolStop, then (tests, demos) the debug tools.
        [debug = s.debug_tools](agentd::agent::Toolkit& toolkit,
                                const std::shared_ptr<agentd::workspace::Workspace>& workspace,
                                const std::vector<std::shared_ptr<agentd::agent::Tool>>& session_tools) {
            if (workspace) {
                toolkit.add(std::make_shared<agentd::tool::BashTool>(workspace));
                for (auto& t : agentd::tool::make_file_tools(workspace)) toolkit.add(std::move(t));
            }
            for (auto& t : agentd::tool::make_task_tools()) toolkit.add(std::move(t));
            for (const auto& t : session_tools) toolkit.add(t);
            if (debug) agentd::tool::add_debug_tools(toolkit);
        },
        chat_options, &workspaces, &background);
    chat_ptr = &chat;
    sessions.set_run_probe([&chat](const std::string& session_id) { return chat.runs_here(session_id); });
    agentd::service::RunDispatchers dispatchers(bus, *storage, chat, background, server.io_executor(),
                                                server.blocking_pool().get_executor());
    dispatchers.start();
    dispatchers_ptr = &dispatchers;
    agentd::api::Services services{agents, credentials, sessions, catalog, chat, *storage, bus, AGENTD_VERSION};
    agentd::api::register_routes(router, services);
    agentd::service::WorkspaceService workspace_service(
        *storage, workspaces, server.io_executor(), server.blocking_pool().get_executor(),
        s.download_secret.empty() ? std::nullopt : std::optional<std::string>(s.download_secret));
    agentd::api::register_workspace_routes(router, workspace_service);
    agentd::http::CorsPolicy cors;
    cors.allowed_origins = split_list(s.cors_origins);
    cors.enabled = !cors.allowed_origins.empty();
    router.set_cors(cors);

    server.run();
    ::close(lock_fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (sodium_init() < 0) {
        std::cerr << "libsodium failed to initialise\n";
        return 1;
    }
    Settings s;
    CLI::App app{"agentd: a multi-tenant agent service speaking the AgentScope HTTP API"};
    app.require_subcommand(1);

    auto* serve_cmd = app.add_subcommand("serve", "Run the HTTP server");
    serve_cmd->set_config("--config", "", "TOML file with the same keys as the long flags (host = \"0.0.0.0\")");
    serve_cmd->add_option("--host", s.host, "Address to listen on")->envname("AGENTD_HOST")->capture_default_str();
    serve_cmd->add_option("--port", s.port, "Port (0 picks a free one)")->envname("AGENTD_PORT")->capture_default_str();
    serve_cmd->add_option("--threads", s.threads, "I/O threads (0: one per core)")->envname("AGENTD_THREADS");
    serve_cmd->add_option("--port-file", s.port_file, "Write the bound port to this file once listening")
        ->envname("AGENTD_PORT_FILE");
    serve_cmd->add_option("--workspace-isolation", s.isolation, "per_agent, per_user or per_session")
        ->envname("AGENTD_WORKSPACE_ISOLATION")->capture_default_str();
    serve_cmd->add_option("--cors-origins", s.cors_origins, "Comma-separated allowed origins, * for any, empty for none")
        ->envname("AGENTD_CORS_ORIGINS")->capture_default_str();
    serve_cmd->add_option("--max-body-bytes", s.max_body_bytes, "Larger request bodies get 413")
        ->envname("AGENTD_MAX_BODY_BYTES")->capture_default_str();
    serve_cmd->add_option("--max-header-bytes", s.max_header_bytes, "Larger header blocks get 431")
        ->envname("AGENTD_MAX_HEADER_BYTES")->capture_default_str();
    serve_cmd->add_option("--request-timeout", s.request_timeout_s, "Seconds a client has to send a whole request")
        ->envname("AGENTD_REQUEST_TIMEOUT")->capture_default_str();
    serve_cmd->add_option("--access-log", s.access_log, "One log line per request (true/false)")
        ->envname("AGENTD_ACCESS_LOG")->capture_default_str();
    serve_cmd->add_option("--io-uring", s.io_uring,
                          "Send a stream's live events to many clients in io_uring batches where the kernel allows (true/false)")
        ->envname("AGENTD_IO_URING")->capture_default_str();
    serve_cmd->add_option("--sse-heartbeat-ms", s.sse_heartbeat_ms, "Comment frame after this much stream silence")
        ->envname("AGENTD_SSE_HEARTBEAT_MS")->capture_default_str();
    serve_cmd->add_option("--event-log-retention", s.event_log_retention_s,
                          "Seconds a session's event log is kept after its run (for reconnects)")
        ->envname("AGENTD_EVENT_LOG_RETENTION")->capture_default_str();
    serve_cmd->add_option("--tool-offload-timeout", s.tool_offload_timeout_s,
                          "Seconds a tool call may run before it moves to the background")
        ->envname("AGENTD_TOOL_OFFLOAD_TIMEOUT")->check(CLI::Range(0.001, 86400.0))->capture_default_str();
    serve_cmd->add_option("--wal-checkpoint-pages", s.wal_checkpoint_pages,
                          "Pages of SQLite write-ahead log after which it is copied back into the database")
        ->envname("AGENTD_WAL_CHECKPOINT_PAGES")->check(CLI::Range(100, 1000000))->capture_default_str();
    serve_cmd->add_flag("--debug-tools", s.debug_tools, "Give agents the deterministic debug_* tools (tests, demos)")
        ->envname("AGENTD_DEBUG_TOOLS");
    serve_cmd->add_option("--workspace", s.workspace, "Where tools run: local (a directory) or bwrap (a bubblewrap sandbox)")
        ->envname("AGENTD_WORKSPACE")->capture_default_str();
    serve_cmd->add_option("--workspace-network", s.workspace_network, "Give bwrap sandboxes the host's network (true/false)")
        ->envname("AGENTD_WORKSPACE_NETWORK")->capture_default_str();
    serve_cmd->add_option("--download-secret", s.download_secret,
                          "HMAC key of file download tokens (default: random per process)")
        ->envname("AGENTD_DOWNLOAD_SECRET");
    add_common_options(*serve_cmd, s);

    auto* migrate_cmd = app.add_subcommand("migrate", "Apply database migrations and exit");
    add_common_options(*migrate_cmd, s);
    app.add_subcommand("version", "Print the version");

    CLI11_PARSE(app, argc, argv);
    // Logging is asynchronous so that the per-request line costs the io thread a
    // queue push, not a write(2); problems are flushed at once.
    spdlog::init_thread_pool(16384, 1);
    auto logger = spdlog::stderr_color_mt<spdlog::async_factory>("agentd");
    spdlog::set_default_logger(logger);
    spdlog::flush_on(spdlog::level::warn);
    spdlog::set_level(spdlog::level::from_str(s.log_level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    try {
        if (app.got_subcommand("version")) {
            std::cout << "agentd " << AGENTD_VERSION << "\n";
            return 0;
        }
        if (app.got_subcommand("migrate")) {
            open_storage(s, 1);
            std::cout << "migrations applied\n";
            return 0;
        }
        int rc = serve(s);
        spdlog::shutdown();  // drains the async queue
        return rc;
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        spdlog::shutdown();
        return 1;
    }
}
