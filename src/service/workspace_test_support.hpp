#pragma once
// Test doubles for the workspace routes and service: a workspace over a temp
// directory (its commands come from a script), a manager handing it out, and a
// SQLite storage holding one agent's sessions. Tests only.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/secret_box.hpp"
#include "domain/agent.hpp"
#include "domain/session.hpp"
#include "service/workspace_service.hpp"
#include "storage/sqlite/sqlite_storage.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service::testing {

namespace fs = std::filesystem;
namespace bj = boost::json;

/// A workspace over a host temp dir, seen by the agent as `workdir`. exec()
/// answers from `script` (git output), or exit 127 when the script is empty.
class TempWorkspace final : public workspace::Workspace {
public:
    TempWorkspace(std::string id, std::string workdir, fs::path host_dir)
        : Workspace(std::move(id), std::move(workdir), std::move(host_dir)) {}

    std::string_view kind() const override { return "local"; }

    boost::asio::awaitable<workspace::ExecResult> exec(workspace::ExecRequest request) override {
        workspace::ExecResult result;
        {
            std::lock_guard lock(mutex_);
            requests.push_back(request);
            if (script.empty()) {
                result.exit_code = 127;
            } else {
                result = script.front();
                script.pop_front();
            }
        }
        co_return result;
    }

    std::mutex mutex_;  // guards script and requests (exec runs on the io thread)
    std::deque<workspace::ExecResult> script;
    std::vector<workspace::ExecRequest> requests;
};

/// Hands out one TempWorkspace per workspace id, recording what was asked.
class FakeWorkspaceManager final : public workspace::WorkspaceManager {
public:
    explicit FakeWorkspaceManager(std::shared_ptr<TempWorkspace> ws) : ws_(std::move(ws)) {}
    std::string_view kind() const override { return "local"; }
    std::shared_ptr<workspace::Workspace> get(const std::string& user_id, const std::string& agent_id,
                                              const std::string& workspace_id) override {
        std::lock_guard lock(mutex_);
        calls.push_back(user_id + "|" + agent_id + "|" + workspace_id);
        return ws_;
    }
    void purge_session(const std::string& user_id, const std::string& workspace_id,
                       const std::string& session_id) override {
        std::lock_guard lock(mutex_);
        purged.push_back(user_id + "|" + workspace_id + "|" + session_id);
    }
    std::mutex mutex_;
    std::vector<std::string> purged;
    std::vector<std::string> calls;

private:
    std::shared_ptr<TempWorkspace> ws_;
};

inline SecretBox test_secret_box() {
    std::array<unsigned char, SecretBox::kKeyBytes> key{};
    key.fill(7);
    return SecretBox(key);
}

inline void write_file(const fs::path& p, std::string_view content) {
    fs::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary);
    f << content;
}

/// A temp tree: <root>/host is the workspace, <root>/outside a sibling the
/// workspace must never reveal. Storage holds alice's agent "agent-1" with a
/// session "s1" (workspace "ws-1") and bob's "agent-2".
class WorkspaceFixture : public ::testing::Test {
protected:
    WorkspaceFixture()
        : root_(fs::temp_directory_path() / ("agentd-ws-test-" + new_id())),
          host_((fs::create_directories(root_ / "host"), root_ / "host")),
          outside_((fs::create_directories(root_ / "outside"), root_ / "outside")),
          storage_(root_ / "agentd.db", test_secret_box(), 2),
          ws_(std::make_shared<TempWorkspace>("ws-1", "/workspace", host_)),
          manager_(ws_),
          work_(boost::asio::make_work_guard(io_)),
          io_thread_([this] { io_.run(); }),
          service_(storage_, manager_, io_.get_executor(), pool_.get_executor(), std::string("fixed-secret")) {
        storage_.migrate();
        add_agent("alice", "agent-1");
        add_agent("alice", "agent-2");
        add_session("alice", "agent-1", "s1", bj::object{{"workspace_id", "ws-1"}, {"cwd", nullptr}});
        write_file(host_ / "notes.txt", "hello world");
        write_file(host_ / "reports" / "q3.md", "# Q3\n");
        fs::create_directories(host_ / "subdir");
        write_file(outside_ / "secret.txt", "host secret");
    }
    ~WorkspaceFixture() override {
        work_.reset();
        io_thread_.join();
        pool_.join();
        std::error_code ec;
        fs::remove_all(root_, ec);
    }

    void add_agent(const std::string& user, const std::string& id) {
        domain::AgentRecord a;
        a.id = id;
        a.user_id = user;
        a.created_us = a.updated_us = clock::now_us();
        a.data = bj::object{{"id", id}, {"name", id}};
        storage_.insert_agent(a);
    }

    void add_session(const std::string& user, const std::string& agent, const std::string& id, bj::object config) {
        domain::SessionRecord s;
        s.id = id;
        s.user_id = user;
        s.agent_id = agent;
        s.created_us = s.updated_us = clock::now_us();
        s.config = std::move(config);
        s.state = domain::SessionState::fresh();
        ASSERT_TRUE(storage_.insert_session(s));
    }

    /// Drains a streamed body on a private io_context.
    static std::string drain(http::StreamBody& body) {
        boost::asio::io_context io;
        std::string out;
        bool ended = false;
        boost::asio::co_spawn(io, collect(&body, &out, &ended), boost::asio::detached);
        io.run();
        EXPECT_TRUE(ended);
        return out;
    }

    fs::path root_;
    fs::path host_;
    fs::path outside_;
    storage::sqlite::SqliteStorage storage_;
    std::shared_ptr<TempWorkspace> ws_;
    FakeWorkspaceManager manager_;
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread io_thread_;
    boost::asio::thread_pool pool_{2};
    WorkspaceService service_;

private:
    static boost::asio::awaitable<void> collect(http::StreamBody* body, std::string* out, bool* ended) {
        for (;;) {
            auto next = body->next();
            auto piece = co_await std::move(next);
            if (!piece) break;
            *out += *piece;
        }
        *ended = true;
    }
};

}  // namespace agentd::service::testing
