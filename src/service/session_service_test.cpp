#include "service/session_service.hpp"

#include <gtest/gtest.h>

#include <array>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "bus/memory/memory_bus.hpp"
#include "common/blake2b.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "common/ids.hpp"
#include "common/json.hpp"
#include "common/secret_box.hpp"
#include "domain/credential.hpp"
#include "domain/session.hpp"
#include "storage/sqlite/sqlite_storage.hpp"

namespace agentd::service {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using validation::Issues;

SecretBox test_secret_box() {
    std::array<unsigned char, SecretBox::kKeyBytes> key{};
    key.fill(42);
    return SecretBox(key);
}

/// Runs `f` and returns the agentd::Error it throws (a test failure when it throws none).
template <typename F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    ADD_FAILURE() << "expected an agentd::Error";
    return Error(ErrorCode::kInternal, "<no error>");
}

class SessionServiceTest : public ::testing::Test {
protected:
    SessionServiceTest()
        : dir_(fs::temp_directory_path() / ("agentd-session-test-" + new_id())),
          storage_((fs::create_directories(dir_), dir_ / "agentd.db"), test_secret_box(), 2),
          agents_(storage_, bus_),
          credentials_(storage_),
          sessions_(storage_, bus_, agents_, credentials_, workspace::IsolationPolicy::kPerAgent) {
        storage_.migrate();
        add_agent("alice", "agent-1");
        add_agent("alice", "agent-2");
        add_credential("alice", "cred-1");
        add_credential("alice", "cred-2");
    }
    ~SessionServiceTest() override {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }

    void add_agent(const std::string& user, const std::string& id) {
        domain::AgentRecord a;
        a.id = id;
        a.user_id = user;
        a.created_us = a.updated_us = clock::now_us();
        a.data = bj::object{{"id", new_id()}, {"name", id}};
        storage_.insert_agent(a);
    }

    void add_credential(const std::string& user, const std::string& id) {
        Issues issues;
        auto data = domain::parse_credential_data(
            bj::object{{"id", id}, {"type", "openai_credential"}, {"api_key", "sk-" + id}}, issues);
        ASSERT_TRUE(data);
        domain::CredentialRecord r;
        r.user_id = user;
        r.id = id;
        r.data = *data;
        storage_.upsert_credential(r);
    }

    std::string create(const std::string& user, std::string_view body,
                       SessionService* svc = nullptr) {
        Issues issues;
        auto input = parse_create_session(bj::parse(body), issues);
        issues.throw_if_any();
        return (svc ? *svc : sessions_).create(user, input);
    }

    bj::object patch(const std::string& user, const std::string& id, std::string_view body) {
        Issues issues;
        auto p = parse_session_patch(bj::parse(body), issues);
        issues.throw_if_any();
        return sessions_.patch(user, id, p);
    }

    domain::SessionRecord stored(const std::string& user, const std::string& id) {
        auto r = storage_.get_session(user, id, false);
        EXPECT_TRUE(r) << id;
        return r ? *r : domain::SessionRecord{};
    }

    bj::object list(const std::string& user, const std::string& agent) {
        return bj::parse(*sessions_.list_body(user, agent)).as_object();
    }

    std::string lock(const std::string& session_id,
                     std::chrono::milliseconds ttl = std::chrono::minutes(1)) {
        auto token = bus_.try_lock(bus::session_lock_key(session_id), ttl);
        EXPECT_TRUE(token);
        return token.value_or("");
    }
    void unlock(const std::string& session_id, const std::string& token) {
        EXPECT_TRUE(bus_.unlock(bus::session_lock_key(session_id), token));
    }

    static std::string chat_config(const std::string& credential_id) {
        return R"({"type":"openai_credential","credential_id":")" + credential_id +
               R"(","model":"gpt-4.1-mini","parameters":{"temperature":0.2}})";
    }

    fs::path dir_;
    storage::sqlite::SqliteStorage storage_;
    bus::MemoryBus bus_;
    AgentService agents_;
    CredentialService credentials_;
    SessionService sessions_;
};

// ---- create -----------------------------------------------------------------------------

TEST_F(SessionServiceTest, CreateBindsThePerAgentWorkspaceAndFreshState) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    EXPECT_EQ(id.size(), 32u);
    auto rec = stored("alice", id);
    // Python: hashlib.blake2b(b"alice::agent-1", digest_size=8).hexdigest()
    EXPECT_EQ(rec.config.at("workspace_id"), "80f6bcca52037445");
    EXPECT_EQ(rec.config.at("workspace_id"), bj::value(blake2b_hex("alice::agent-1", 8)));
    std::vector<std::string> keys;
    for (const auto& kv : rec.config) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"workspace_id", "name", "cwd", "chat_model_config",
                                              "fallback_chat_model_config", "tts_model_config",
                                              "knowledge_config"}));
    // Default name: local "YYYY-MM-DD HH:MM:SS".
    std::string name(rec.config.at("name").as_string());
    ASSERT_EQ(name.size(), 19u) << name;
    EXPECT_EQ(name[4], '-');
    EXPECT_EQ(name[10], ' ');
    EXPECT_EQ(name[13], ':');
    EXPECT_TRUE(rec.config.at("cwd").is_null());
    EXPECT_TRUE(rec.config.at("chat_model_config").is_null());
    EXPECT_EQ(rec.source, "user");
    EXPECT_EQ(rec.agent_id, "agent-1");
    EXPECT_EQ(rec.state.permission_context.at("mode"), "default");
    EXPECT_EQ(rec.tail_status, "idle");

    // Every call makes a new session; the per-agent workspace is shared between them.
    auto id2 = create("alice", R"({"agent_id":"agent-1","name":null,"workspace_id":""})");
    EXPECT_NE(id2, id);
    EXPECT_EQ(stored("alice", id2).config.at("workspace_id"), "80f6bcca52037445");
    EXPECT_NE(stored("alice", id2).state.session_id, rec.state.session_id);
}

TEST_F(SessionServiceTest, CreateKeepsAnExplicitWorkspaceAndName) {
    auto id =
        create("alice", R"({"agent_id":"agent-1","workspace_id":"my-ws","name":"Market scan"})");
    auto rec = stored("alice", id);
    EXPECT_EQ(rec.config.at("workspace_id"), "my-ws");
    EXPECT_EQ(rec.config.at("name"), "Market scan");
}

TEST_F(SessionServiceTest, CreateWithOtherIsolationPolicies) {
    SessionService per_user(storage_, bus_, agents_, credentials_,
                            workspace::IsolationPolicy::kPerUser);
    EXPECT_EQ(stored("alice", create("alice", R"({"agent_id":"agent-1"})", &per_user))
                  .config.at("workspace_id"),
              "982aa9b33217069a");  // blake2b("user::alice", 8)
    SessionService per_session(storage_, bus_, agents_, credentials_,
                               workspace::IsolationPolicy::kPerSession);
    auto a = stored("alice", create("alice", R"({"agent_id":"agent-1"})", &per_session))
                 .config.at("workspace_id");
    auto b = stored("alice", create("alice", R"({"agent_id":"agent-1"})", &per_session))
                 .config.at("workspace_id");
    EXPECT_NE(a, b);
    EXPECT_EQ(a.as_string().size(), 32u);
}

TEST_F(SessionServiceTest, CreateForAnUnknownAgentIs404) {
    auto e = error_of([&] { create("alice", R"({"agent_id":"x"})"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Agent 'x' not found.");
    // Another user's agent does not exist for bob.
    auto foreign = error_of([&] { create("bob", R"({"agent_id":"agent-1"})"); });
    EXPECT_EQ(foreign.detail(), "Agent 'agent-1' not found.");
    EXPECT_TRUE(storage_.list_sessions("bob", "agent-1").empty());
}

TEST_F(SessionServiceTest, CreateChecksModelConfigCredentials) {
    auto e = error_of([&] {
        create("alice",
               R"({"agent_id":"agent-1","chat_model_config":)" + chat_config("nope") + "}");
    });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Credential 'nope' not found.");

    auto fb = error_of([&] {
        create("alice", R"({"agent_id":"agent-1","chat_model_config":)" + chat_config("cred-1") +
                            R"(,"fallback_chat_model_config":)" + chat_config("gone") + "}");
    });
    EXPECT_EQ(fb.detail(), "Credential 'gone' not found.");
    // The agent is checked first.
    auto order = error_of([&] {
        create("alice", R"({"agent_id":"x","chat_model_config":)" + chat_config("nope") + "}");
    });
    EXPECT_EQ(order.detail(), "Agent 'x' not found.");
    // bob cannot use alice's credential
    add_agent("bob", "bob-agent");
    auto foreign = error_of([&] {
        create("bob",
               R"({"agent_id":"bob-agent","chat_model_config":)" + chat_config("cred-1") + "}");
    });
    EXPECT_EQ(foreign.detail(), "Credential 'cred-1' not found.");
    EXPECT_TRUE(storage_.list_sessions("alice", "agent-1").empty());

    auto id = create("alice",
                     R"({"agent_id":"agent-1","chat_model_config":)" + chat_config("cred-1") + "}");
    EXPECT_EQ(json::write(stored("alice", id).config.at("chat_model_config")),
              chat_config("cred-1"));
}

TEST_F(SessionServiceTest, ModelParametersOutOfRangeAre422AndChangeNothing) {
    // The reference would accept them and fail every chat of the session.
    const std::string hot = R"({"type":"openai_credential","credential_id":"cred-1","model":"gpt-4.1-mini",)"
                            R"("parameters":{"temperature":5}})";
    auto e = error_of([&] { create("alice", R"({"agent_id":"agent-1","fallback_chat_model_config":)" + hot + "}"); });
    EXPECT_EQ(e.code(), ErrorCode::kValidation);
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_EQ(e.issues()[0].loc, (bj::array{"body", "fallback_chat_model_config", "parameters"}));
    EXPECT_NE(e.issues()[0].msg.find("temperature"), std::string::npos) << e.issues()[0].msg;
    EXPECT_TRUE(storage_.list_sessions("alice", "agent-1").empty());

    auto id = create("alice", R"({"agent_id":"agent-1","chat_model_config":)" + chat_config("cred-1") + "}");
    auto p = error_of([&] { patch("alice", id, R"({"chat_model_config":)" + hot + "}"); });
    EXPECT_EQ(p.code(), ErrorCode::kValidation);
    EXPECT_EQ(json::write(stored("alice", id).config.at("chat_model_config")), chat_config("cred-1"));
    // In range, lax-typed values as pydantic reads them pass.
    patch("alice", id, R"({"chat_model_config":{"type":"openai_credential","credential_id":"cred-1",)"
                       R"("model":"gpt-4.1-mini","parameters":{"temperature":"0.5","max_tokens":"4096"}}})");
    EXPECT_EQ(stored("alice", id).config.at("chat_model_config").at("parameters").at("temperature"), "0.5");
}

TEST_F(SessionServiceTest, CreateRejectsEveryKnowledgeBaseForNow) {
    auto e = error_of([&] {
        create("alice",
               R"({"agent_id":"agent-1","knowledge_config":{"knowledge_base_ids":["kb1"]}})");
    });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Knowledge Base 'kb1' not found.");
    auto id = create("alice", R"({"agent_id":"agent-1","knowledge_config":{}})");
    EXPECT_EQ(json::write(stored("alice", id).config.at("knowledge_config")),
              R"({"knowledge_base_ids":[],"parameters":{}})");
}

TEST_F(SessionServiceTest, CreateBodyValidation) {
    Issues issues;
    bj::value body =
        bj::parse(R"({"workspace_id":5,"chat_model_config":{"type":"openai_credential"}})");
    parse_create_session(body, issues);
    ASSERT_EQ(issues.size(), 5u);
    EXPECT_EQ(issues.list()[0].type, "missing");
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "agent_id"}));
    EXPECT_EQ(issues.list()[1].type, "string_type");
    EXPECT_EQ(issues.list()[1].loc, (bj::array{"body", "workspace_id"}));
    EXPECT_EQ(issues.list()[2].loc, (bj::array{"body", "chat_model_config", "credential_id"}));
    EXPECT_EQ(issues.list()[3].loc, (bj::array{"body", "chat_model_config", "model"}));
    EXPECT_EQ(issues.list()[4].loc, (bj::array{"body", "chat_model_config", "parameters"}));

    Issues not_object;
    parse_create_session(bj::value("x"), not_object);
    ASSERT_EQ(not_object.size(), 1u);
    EXPECT_EQ(not_object.list()[0].type, "model_attributes_type");
}

// ---- patch ---------------------------------------------------------------------------------

TEST_F(SessionServiceTest, PatchOmittedFieldsKeep) {
    auto id = create("alice", R"({"agent_id":"agent-1","name":"N","chat_model_config":)" +
                                  chat_config("cred-1") + "}");
    patch("alice", id, R"({"cwd":"src"})");
    auto before = stored("alice", id);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto out = patch("alice", id, "{}");
    auto after = stored("alice", id);
    EXPECT_EQ(after.config, before.config);
    EXPECT_EQ(after.state.permission_context, before.state.permission_context);
    EXPECT_EQ(after.state.reply_context, before.state.reply_context);
    EXPECT_GT(after.updated_us, before.updated_us);
    EXPECT_EQ(out.at("config"), bj::value(before.config));
}

TEST_F(SessionServiceTest, PatchNullClearsAndValuesReplace) {
    auto id =
        create("alice", R"({"agent_id":"agent-1","chat_model_config":)" + chat_config("cred-1") +
                            R"(,"fallback_chat_model_config":)" + chat_config("cred-1") + "}");
    patch("alice", id, R"({"cwd":"src/app"})");
    auto out = patch(
        "alice", id,
        R"({"fallback_chat_model_config":null,"cwd":null,"name":"Renamed","workspace_id":"other","chat_model_config":)" +
            chat_config("cred-2") + "}");
    auto rec = stored("alice", id);
    EXPECT_TRUE(rec.config.at("fallback_chat_model_config").is_null());
    EXPECT_TRUE(rec.config.at("cwd").is_null());
    EXPECT_EQ(rec.config.at("name"), "Renamed");
    EXPECT_EQ(rec.config.at("chat_model_config").at("credential_id"), "cred-2");
    EXPECT_EQ(rec.config.at("workspace_id"), "80f6bcca52037445");  // cannot be changed
    // The answer is the full record.
    EXPECT_EQ(out.at("id"), bj::value(id));
    EXPECT_EQ(out.at("config").at("name"), "Renamed");
    EXPECT_TRUE(out.at("state").at("context").is_array());

    patch("alice", id, R"({"cwd":"src/app"})");
    EXPECT_EQ(stored("alice", id).config.at("cwd"), "src/app");
}

TEST_F(SessionServiceTest, PatchNameNullIs422) {
    Issues issues;
    parse_session_patch(bj::parse(R"({"name":null})"), issues);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues.list()[0].type, "string_type");
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "name"}));
    EXPECT_EQ(issues.list()[0].msg, "Input should be a valid string");
    EXPECT_TRUE(issues.list()[0].input.is_null());
}

TEST_F(SessionServiceTest, PatchIssuesComeInTheReferenceModelsFieldOrder) {
    // UpdateSessionRequest: name, the model configs, knowledge_config, permission_mode, cwd.
    Issues issues;
    parse_session_patch(bj::parse(R"({"cwd":5,"permission_mode":"yolo","tts_model_config":"x",)"
                                  R"("chat_model_config":"x","name":7})"),
                        issues);
    std::vector<std::string> fields;
    for (const auto& i : issues.list()) fields.emplace_back(i.loc.at(1).as_string());
    EXPECT_EQ(fields, (std::vector<std::string>{"name", "chat_model_config", "tts_model_config",
                                                "permission_mode", "cwd"}));
}

TEST_F(SessionServiceTest, PatchPermissionModeLandsInState) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    auto before = stored("alice", id);
    auto out = patch("alice", id, R"({"permission_mode":"accept_edits"})");
    auto rec = stored("alice", id);
    EXPECT_EQ(rec.state.permission_context.at("mode"), "accept_edits");
    EXPECT_FALSE(rec.config.contains("permission_mode"));
    EXPECT_EQ(rec.config, before.config);
    EXPECT_EQ(rec.state.reply_context, before.state.reply_context);  // only the mode changes
    EXPECT_EQ(out.at("state").at("permission_context").at("mode"), "accept_edits");
    // null keeps
    patch("alice", id, R"({"permission_mode":null})");
    EXPECT_EQ(stored("alice", id).state.permission_context.at("mode"), "accept_edits");

    Issues issues;
    parse_session_patch(bj::parse(R"({"permission_mode":"yolo"})"), issues);
    ASSERT_EQ(issues.size(), 1u);
    EXPECT_EQ(issues.list()[0].type, "enum");
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "permission_mode"}));
}

TEST_F(SessionServiceTest, PatchWhileLockedIs409AndWritesNothing) {
    auto id = create("alice", R"({"agent_id":"agent-1","name":"N"})");
    auto token = lock(id);
    auto e = error_of([&] { patch("alice", id, R"({"name":"X","permission_mode":"bypass"})"); });
    EXPECT_EQ(e.code(), ErrorCode::kConflict);
    EXPECT_EQ(http_status(e.code()), 409);
    EXPECT_EQ(e.detail(), "Cannot modify session configuration while the session is running.");
    EXPECT_EQ(stored("alice", id).config.at("name"), "N");
    EXPECT_EQ(stored("alice", id).state.permission_context.at("mode"), "default");
    // 409 comes before the credential check.
    auto busy = error_of(
        [&] { patch("alice", id, R"({"chat_model_config":)" + chat_config("nope") + "}"); });
    EXPECT_EQ(busy.code(), ErrorCode::kConflict);
    unlock(id, token);
    patch("alice", id, R"({"name":"X"})");
    EXPECT_EQ(stored("alice", id).config.at("name"), "X");
}

// A run holds the session's lock from the state it loads to the state it stores;
// a PATCH that read the state before a run and wrote it after would put back
// what that run replaced. Runs here are simulated: lock, read, store, unlock.
TEST_F(SessionServiceTest, PatchNeverOverwritesWhatARunStoredMeanwhile) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    std::atomic<bool> stop{false};
    std::atomic<int> patches{0};
    std::thread patcher([&] {
        for (int i = 0; !stop; ++i) {
            try {
                patch("alice", id, i % 2 ? R"({"permission_mode":"bypass"})" : R"({"permission_mode":"default"})");
                ++patches;
            } catch (const Error& e) {
                EXPECT_EQ(e.code(), ErrorCode::kConflict);  // a run holds the session
            }
        }
    });
    int runs = 0, overwritten = 0;
    std::int64_t last_marker = -1;
    // Ends on counts, not on time: on a loaded machine the runs (which retry the
    // lock without pause) can starve the PATCHes for a while. Every eighth run
    // leaves the lock free for longer than a PATCH's 2 ms retry.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until && (runs < 200 || patches < 50)) {
        if (runs % 8 == 7) std::this_thread::sleep_for(std::chrono::milliseconds(3));
        auto token = bus_.try_lock(bus::session_lock_key(id), std::chrono::minutes(1));
        if (!token) continue;  // a PATCH holds it
        auto rec = storage_.get_session("alice", id, false);
        ASSERT_TRUE(rec);
        const auto* marker = rec->state.reply_context.if_contains("marker");
        const std::int64_t seen = marker ? marker->as_int64() : -1;
        if (seen != last_marker) ++overwritten;
        rec->state.reply_context["marker"] = ++last_marker;
        storage::StepDelta delta;
        delta.state = rec->state;
        ASSERT_TRUE(storage_.persist_step("alice", id, delta));
        bus_.unlock(bus::session_lock_key(id), *token);
        ++runs;
    }
    stop = true;
    patcher.join();
    EXPECT_GE(runs, 200);
    EXPECT_GE(patches.load(), 50);
    EXPECT_EQ(overwritten, 0) << "of " << runs << " runs, with " << patches << " patches";
    EXPECT_FALSE(bus_.is_locked(bus::session_lock_key(id)));
}

// A run holds its session for seconds, not milliseconds: a PATCH that a run of
// this process blocks is refused without first waiting out its patience.
TEST_F(SessionServiceTest, PatchOfASessionARunHereHoldsIs409AtOnce) {
    auto id = create("alice", R"({"agent_id":"agent-1","name":"N"})");
    auto token = lock(id);
    const auto timed_409 = [&] {
        const auto start = std::chrono::steady_clock::now();
        auto e = error_of([&] { patch("alice", id, R"({"name":"X"})"); });
        EXPECT_EQ(e.code(), ErrorCode::kConflict);
        EXPECT_EQ(e.detail(), "Cannot modify session configuration while the session is running.");
        return std::chrono::steady_clock::now() - start;
    };
    // Held by someone else (another PATCH, another process): waited out first.
    EXPECT_GE(timed_409(), std::chrono::milliseconds(45));
    sessions_.set_run_probe([&id](const std::string& session_id) { return session_id == id; });
    // The quickest of five: a stall of the machine does not make a wait.
    auto quickest = timed_409();
    for (int i = 0; i < 4; ++i) quickest = std::min(quickest, timed_409());
    EXPECT_LT(quickest, std::chrono::milliseconds(25));
    EXPECT_EQ(stored("alice", id).config.at("name"), "N");
    // A 404 still comes first.
    auto e = error_of([&] { patch("bob", id, R"({"name":"X"})"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    unlock(id, token);
}

TEST_F(SessionServiceTest, Patch404ComesBefore409) {
    lock("ghost");
    auto e = error_of([&] { patch("alice", "ghost", R"({"name":"X"})"); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Session 'ghost' not found.");
    // Another tenant's running session is a 404 too.
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    lock(id);
    auto foreign = error_of([&] { patch("bob", id, R"({"name":"X"})"); });
    EXPECT_EQ(foreign.code(), ErrorCode::kNotFound);
}

TEST_F(SessionServiceTest, PatchWithAnUnknownCredentialIs404AndWritesNothing) {
    auto id = create("alice", R"({"agent_id":"agent-1","name":"N"})");
    auto e = error_of([&] {
        patch("alice", id, R"({"name":"X","chat_model_config":)" + chat_config("nope") + "}");
    });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Credential 'nope' not found.");
    EXPECT_EQ(stored("alice", id).config.at("name"), "N");
}

// ---- list, status --------------------------------------------------------------------------

TEST_F(SessionServiceTest, ListShowsTrimmedSessionsNewestFirst) {
    auto s1 = create("alice", R"({"agent_id":"agent-1","name":"first"})");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    auto s2 = create("alice", R"({"agent_id":"agent-1","name":"second"})");
    create("alice", R"({"agent_id":"agent-2"})");
    auto out = list("alice", "agent-1");
    EXPECT_EQ(out.at("total"), 2);
    const auto& items = out.at("sessions").as_array();
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].at("session").at("id"), bj::value(s2));
    EXPECT_EQ(items[1].at("session").at("id"), bj::value(s1));
    const auto& view = items[0].as_object();
    std::vector<std::string> keys;
    for (const auto& kv : view) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"session", "is_running", "status", "team"}));
    EXPECT_EQ(view.at("is_running"), false);
    EXPECT_EQ(view.at("status"), "idle");
    EXPECT_TRUE(view.at("team").is_null());
    EXPECT_EQ(view.at("session").at("state").at("context"), bj::array{});
    EXPECT_EQ(view.at("session").at("state").at("summary"), "");
    EXPECT_EQ(
        json::write(view.at("session").at("state").at("tool_context")),
        R"({"max_cache_files":100,"max_cache_bytes":25000.0,"read_file_cache":[],"activated_groups":[]})");

    auto empty = list("alice", "agent-2");
    EXPECT_EQ(empty.at("total"), 1);
}

TEST_F(SessionServiceTest, ListOfAnUnknownOrForeignAgentIs404) {
    EXPECT_EQ(error_of([&] { sessions_.list_body("alice", "nope"); }).detail(),
              "Agent 'nope' not found.");
    list("alice", "agent-1");  // cached for alice ...
    EXPECT_EQ(error_of([&] { sessions_.list_body("bob", "agent-1"); }).code(),
              ErrorCode::kNotFound);  // ... not bob
}

TEST_F(SessionServiceTest, ListCacheFollowsWritesAndLocks) {
    auto id = create("alice", R"({"agent_id":"agent-1","name":"before"})");
    auto first = list("alice", "agent-1");
    EXPECT_EQ(first.at("sessions").at(0).at("session").at("config").at("name"), "before");
    EXPECT_EQ(sessions_.list_body("alice", "agent-1"),
              sessions_.list_body("alice", "agent-1"));  // served from cache

    patch("alice", id, R"({"name":"after","permission_mode":"explore"})");
    auto patched = list("alice", "agent-1");
    EXPECT_EQ(patched.at("sessions").at(0).at("session").at("config").at("name"), "after");
    EXPECT_EQ(
        patched.at("sessions").at(0).at("session").at("state").at("permission_context").at("mode"),
        "explore");

    auto token = lock(id);
    auto locked = list("alice", "agent-1");
    EXPECT_EQ(locked.at("sessions").at(0).at("status"), "running");
    EXPECT_EQ(locked.at("sessions").at(0).at("is_running"), true);

    unlock(id, token);
    auto unlocked = list("alice", "agent-1");
    EXPECT_EQ(unlocked.at("sessions").at(0).at("status"), "idle");
    EXPECT_EQ(unlocked.at("sessions").at(0).at("is_running"), false);

    auto id2 = create("alice", R"({"agent_id":"agent-1"})");
    EXPECT_EQ(list("alice", "agent-1").at("total"), 2);
    sessions_.remove("alice", id2);
    EXPECT_EQ(list("alice", "agent-1").at("total"), 1);

    // Writes that bypass the service (a chat run persisting its state) show up too.
    auto rec = stored("alice", id);
    rec.state.permission_context["mode"] = "bypass";
    storage_.update_session("alice", id, rec.config, &rec.state);
    EXPECT_EQ(list("alice", "agent-1")
                  .at("sessions")
                  .at(0)
                  .at("session")
                  .at("state")
                  .at("permission_context")
                  .at("mode"),
              "bypass");

    // The inline shortcut answers only the user the entry was rendered for.
    ASSERT_TRUE(sessions_.cached_list_body("alice", "agent-1"));
    EXPECT_FALSE(sessions_.cached_list_body("bob", "agent-1"));
    EXPECT_FALSE(sessions_.cached_list_body("alice", "agent-2"));

    // Deleting the agent invalidates its cached list: the next read is a 404.
    agents_.remove("alice", "agent-1");
    EXPECT_FALSE(sessions_.cached_list_body("alice", "agent-1"));
    EXPECT_EQ(error_of([&] { sessions_.list_body("alice", "agent-1"); }).detail(),
              "Agent 'agent-1' not found.");
}

// A run's lock has a lease (600 s in the reference). When the holder dies, the lease runs
// out and the session is idle again.
TEST_F(SessionServiceTest, ListCacheNoticesAnExpiredLease) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    lock(id, std::chrono::milliseconds(50));
    EXPECT_EQ(list("alice", "agent-1").at("sessions").at(0).at("status"), "running");
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
    auto out = list("alice", "agent-1");
    EXPECT_EQ(out.at("sessions").at(0).at("status"), "idle");
    EXPECT_EQ(out.at("sessions").at(0).at("is_running"), false);
    EXPECT_EQ(sessions_.status("alice", id).at("status"), "idle");
}

TEST_F(SessionServiceTest, StatusDerivation) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    EXPECT_EQ(json::write(sessions_.status("alice", id)),
              R"({"session_id":")" + id + R"(","status":"idle"})");
    auto token = lock(id);
    EXPECT_EQ(sessions_.status("alice", id).at("status"), "running");
    // Ownership first: a locked session of another tenant is still a 404.
    auto e = error_of([&] { sessions_.status("bob", id); });
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_EQ(e.detail(), "Session '" + id + "' not found.");
    unlock(id, token);

    // A parked session: the status the context's tail implies, also in the list.
    auto rec = stored("alice", id);
    rec.id = "parked";
    rec.tail_status = "awaiting_permission";
    ASSERT_TRUE(storage_.insert_session(rec));
    EXPECT_EQ(sessions_.status("alice", "parked").at("status"), "awaiting_permission");
    bool found = false;
    auto listed = list("alice", "agent-1");
    for (const auto& v : listed.at("sessions").as_array()) {
        if (v.at("session").at("id") != "parked") continue;
        found = true;
        EXPECT_EQ(v.at("status"), "awaiting_permission");
        EXPECT_EQ(v.at("is_running"), false);
    }
    EXPECT_TRUE(found);
    auto t2 = lock("parked");
    EXPECT_EQ(sessions_.status("alice", "parked").at("status"), "running");
}

TEST(SessionTailStatus, FollowsTheLastAssistantMessage) {
    auto ctx = [](std::string_view text) { return bj::parse(text).as_array(); };
    EXPECT_EQ(domain::derive_tail_status(bj::array{}), "idle");
    EXPECT_EQ(domain::derive_tail_status(
                  ctx(R"([{"role":"user","content":[{"type":"tool_call","state":"asking"}]}])")),
              "idle");
    EXPECT_EQ(domain::derive_tail_status(
                  ctx(R"([{"role":"assistant","content":[{"type":"text","text":"hi"}]}])")),
              "idle");
    EXPECT_EQ(
        domain::derive_tail_status(
            ctx(R"([{"role":"assistant","content":[{"type":"tool_call","state":"submitted"}]}])")),
        "awaiting_external_result");
    EXPECT_EQ(
        domain::derive_tail_status(ctx(
            R"([{"role":"assistant","content":[{"type":"tool_call","state":"submitted"},{"type":"tool_call","state":"asking"}]}])")),
        "awaiting_permission");
    // Only the last message counts.
    EXPECT_EQ(
        domain::derive_tail_status(ctx(
            R"([{"role":"assistant","content":[{"type":"tool_call","state":"asking"}]},{"role":"user","content":[]}])")),
        "idle");
}

// ---- messages, delete ---------------------------------------------------------------------

TEST_F(SessionServiceTest, MessagesPageReportsRunningAndScoping) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    for (const char* m : {"m1", "m2", "m3"})
        storage_.upsert_message("alice", id,
                                bj::object{{"id", m}, {"role", "user"}, {"content", bj::array{}}});
    auto page = sessions_.messages("alice", id, std::nullopt, 2);
    EXPECT_EQ(page.at("messages").as_array().size(), 2u);
    EXPECT_EQ(page.at("messages").at(0).at("id"), "m2");
    EXPECT_EQ(page.at("has_more"), true);
    EXPECT_EQ(page.at("is_running"), false);
    std::vector<std::string> keys;
    for (const auto& kv : page) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"messages", "is_running", "has_more"}));
    lock(id);
    EXPECT_EQ(sessions_.messages("alice", id, std::string("m2"), 50).at("is_running"), true);
    EXPECT_EQ(sessions_.messages("alice", id, std::string("unknown"), 50).at("messages"),
              bj::array{});
    EXPECT_EQ(error_of([&] { sessions_.messages("bob", id, std::nullopt, 50); }).detail(),
              "Session '" + id + "' not found.");
}

TEST_F(SessionServiceTest, RemoveDeletesAndThen404s) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    EXPECT_EQ(error_of([&] { sessions_.remove("bob", id); }).code(), ErrorCode::kNotFound);
    sessions_.remove("alice", id);
    EXPECT_FALSE(storage_.get_session("alice", id, false));
    EXPECT_EQ(error_of([&] { sessions_.remove("alice", id); }).detail(),
              "Session '" + id + "' not found.");
}

TEST_F(SessionServiceTest, RemovePurgesTheFilesTheSessionLeftInItsWorkspace) {
    class PurgeLog final : public workspace::WorkspaceManager {
    public:
        std::vector<std::string> purged;
        std::string_view kind() const override { return "local"; }
        std::shared_ptr<workspace::Workspace> get(const std::string&, const std::string&, const std::string&) override {
            ADD_FAILURE() << "a purge must not build the workspace";
            return nullptr;
        }
        void purge_session(const std::string& user, const std::string& workspace_id, const std::string& session) override {
            purged.push_back(user + "|" + workspace_id + "|" + session);
        }
    } workspaces;
    SessionService svc(storage_, bus_, agents_, credentials_, workspace::IsolationPolicy::kPerAgent, &workspaces);
    auto id = create("alice", R"({"agent_id":"agent-1","workspace_id":"ws-7"})", &svc);
    EXPECT_EQ(error_of([&] { svc.remove("bob", id); }).code(), ErrorCode::kNotFound);
    EXPECT_TRUE(workspaces.purged.empty());  // another tenant's delete touches nothing
    svc.remove("alice", id);
    EXPECT_EQ(workspaces.purged, std::vector<std::string>{"alice|ws-7|" + id});
}

TEST_F(SessionServiceTest, RemoveWaitsForTheRunLockToClear) {
    auto id = create("alice", R"({"agent_id":"agent-1"})");
    auto token = lock(id);
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        unlock(id, token);
    });
    auto started = std::chrono::steady_clock::now();
    sessions_.remove("alice", id);
    auto waited = std::chrono::steady_clock::now() - started;
    releaser.join();
    EXPECT_GE(waited, std::chrono::milliseconds(140));
    EXPECT_LT(waited, std::chrono::seconds(5));
    EXPECT_FALSE(storage_.get_session("alice", id, false));
}

}  // namespace
}  // namespace agentd::service
