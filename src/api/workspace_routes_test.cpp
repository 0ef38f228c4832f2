#include "api/workspace_routes.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"
#include "service/workspace_test_support.hpp"

namespace agentd::api {
namespace {

namespace bj = boost::json;
using service::testing::WorkspaceFixture;

http::Request make_request(std::string method, std::string target,
                           std::map<std::string, std::string> headers = {{"x-user-id", "alice"}}) {
    http::Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    auto q = r.target.find('?');
    std::string raw_path = r.target.substr(0, q);
    if (q != std::string::npos) r.raw_query = r.target.substr(q + 1);
    auto decoded = http::decode_path(raw_path);
    r.path = decoded ? *decoded : raw_path;
    r.query = http::parse_query(r.raw_query);
    r.headers = std::move(headers);
    return r;
}

const std::string* find_header(const http::Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return &v;
    return nullptr;
}

std::string url_encode(std::string_view s) {
    static const char* kHex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += '%';
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

class WorkspaceRoutesTest : public WorkspaceFixture {
protected:
    WorkspaceRoutesTest() { register_workspace_routes(router_, service_); }

    http::Response get(const std::string& target, std::map<std::string, std::string> headers = {{"x-user-id", "alice"}}) {
        return router_.handle(make_request("GET", target, std::move(headers)));
    }
    http::Response post(const std::string& target) { return router_.handle(make_request("POST", target)); }

    std::string mint(const std::string& path) {
        auto r = post("/workspace/files/download-token?agent_id=agent-1&session_id=s1&path=" + url_encode(path));
        EXPECT_EQ(r.status, 200) << r.body;
        return std::string(bj::parse(r.body).at("token").as_string());
    }

    http::Router router_;
};

// ---- identity and query validation ------------------------------------------------------------

TEST_F(WorkspaceRoutesTest, MissingHeaderAndQueryAre422InFastApiOrder) {
    auto r = get("/workspace/directories", {});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body,
              R"({"detail":[{"type":"missing","loc":["header","x-user-id"],"msg":"Field required","input":null},)"
              R"({"type":"missing","loc":["query","agent_id"],"msg":"Field required","input":null},)"
              R"({"type":"missing","loc":["query","session_id"],"msg":"Field required","input":null}]})");
    auto token = post("/workspace/files/download-token?agent_id=agent-1&session_id=s1");
    EXPECT_EQ(token.status, 422);
    EXPECT_EQ(token.body,
              R"({"detail":[{"type":"missing","loc":["query","path"],"msg":"Field required","input":null}]})");
    EXPECT_EQ(get("/workspace/status?agent_id=agent-1").status, 422);
}

TEST_F(WorkspaceRoutesTest, EmptyHeaderIs401) {
    for (const char* target : {"/workspace/directories?agent_id=agent-1&session_id=s1",
                               "/workspace/status?agent_id=agent-1&session_id=s1"}) {
        auto r = get(target, {{"x-user-id", ""}});
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.body, R"({"detail":"X-User-ID header is required."})");
    }
}

TEST_F(WorkspaceRoutesTest, FilesQueryIsValidatedBeforeIdentity) {
    auto r = get("/workspace/files?agent_id=agent-1&download=maybe", {});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.body,
              R"({"detail":[{"type":"missing","loc":["query","session_id"],"msg":"Field required","input":null},)"
              R"({"type":"missing","loc":["query","path"],"msg":"Field required","input":null},)"
              R"({"type":"bool_parsing","loc":["query","download"],)"
              R"("msg":"Input should be a valid boolean, unable to interpret input","input":"maybe"}]})");
}

TEST_F(WorkspaceRoutesTest, FilesWithoutHeaderOrTokenIs401) {
    for (auto headers : {std::map<std::string, std::string>{}, std::map<std::string, std::string>{{"x-user-id", ""}}}) {
        auto r = get("/workspace/files?agent_id=agent-1&session_id=s1&path=notes.txt", headers);
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(r.body, R"({"detail":"X-User-ID header or download token is required."})");
    }
}

// ---- directories and status --------------------------------------------------------------------

TEST_F(WorkspaceRoutesTest, DirectoriesAnswers) {
    auto ok = get("/workspace/directories?agent_id=agent-1&session_id=s1&path=reports");
    EXPECT_EQ(ok.status, 200);
    auto body = bj::parse(ok.body);
    EXPECT_EQ(body.at("path"), "/workspace/reports");
    ASSERT_EQ(body.at("entries").as_array().size(), 1u);
    EXPECT_EQ(body.at("entries").at(0).at("name"), "q3.md");

    auto root = get("/workspace/directories?agent_id=agent-1&session_id=s1");
    EXPECT_EQ(bj::parse(root.body).at("path"), "/workspace");

    auto file = get("/workspace/directories?agent_id=agent-1&session_id=s1&path=notes.txt");
    EXPECT_EQ(file.status, 400);
    EXPECT_EQ(file.body, R"({"detail":"Requested path is a file, not a directory."})");
    auto outside = get("/workspace/directories?agent_id=agent-1&session_id=s1&path=..%2Foutside");
    EXPECT_EQ(outside.status, 404);
    EXPECT_EQ(outside.body, R"({"detail":"Directory not found."})");
    auto session = get("/workspace/directories?agent_id=agent-2&session_id=s1");
    EXPECT_EQ(session.status, 404);
    EXPECT_EQ(session.body, R"({"detail":"Session 's1' not found."})");
}

TEST_F(WorkspaceRoutesTest, StatusAnswers) {
    auto r = get("/workspace/status?agent_id=agent-1&session_id=s1");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, R"({"workdir":"/workspace","cwd":"/workspace","git":null})");
}

// ---- tokens and files --------------------------------------------------------------------------

TEST_F(WorkspaceRoutesTest, DownloadTokenBody) {
    auto r = post("/workspace/files/download-token?agent_id=agent-1&session_id=s1&path=reports%2Fq3.md");
    EXPECT_EQ(r.status, 200);
    auto body = bj::parse(r.body).as_object();
    ASSERT_TRUE(body.at("expires_at").is_double());
    auto expires = static_cast<std::int64_t>(body.at("expires_at").as_double());
    EXPECT_EQ(r.body, R"({"token":")" + std::string(body.at("token").as_string()) + R"(","expires_at":)" +
                          std::to_string(expires) + R"(.0})");
    EXPECT_EQ(std::string(body.at("token").as_string()).rfind(std::to_string(expires) + ".YWxpY2U.", 0), 0u);
    EXPECT_EQ(post("/workspace/files/download-token?agent_id=agent-1&session_id=s9&path=x").status, 404);
}

TEST_F(WorkspaceRoutesTest, FileWithHeaderStreamsWithHeaders) {
    auto r = get("/workspace/files?agent_id=agent-1&session_id=s1&path=notes.txt");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
    ASSERT_NE(find_header(r, "content-length"), nullptr);
    EXPECT_EQ(*find_header(r, "content-length"), "11");
    EXPECT_EQ(find_header(r, "content-disposition"), nullptr);
    ASSERT_TRUE(r.stream);
    EXPECT_EQ(drain(*r.stream), "hello world");
}

TEST_F(WorkspaceRoutesTest, FileWithTokenAndDownload) {
    auto token = mint("reports/q3.md");
    auto r = get("/workspace/files?agent_id=agent-1&session_id=s1&path=reports%2Fq3.md&download=true&token=" + token,
                 {});
    EXPECT_EQ(r.status, 200);
    ASSERT_NE(find_header(r, "content-disposition"), nullptr);
    EXPECT_EQ(*find_header(r, "content-disposition"), "attachment; filename*=UTF-8''q3.md");
    EXPECT_EQ(r.content_type, "text/markdown; charset=utf-8");
    ASSERT_TRUE(r.stream);
    EXPECT_EQ(drain(*r.stream), "# Q3\n");
    // download=0 is a valid false.
    auto plain = get("/workspace/files?agent_id=agent-1&session_id=s1&path=reports%2Fq3.md&download=0&token=" + token,
                     {});
    EXPECT_EQ(plain.status, 200);
    EXPECT_EQ(find_header(plain, "content-disposition"), nullptr);
}

TEST_F(WorkspaceRoutesTest, TokenWinsOverTheHeader) {
    auto bad = get("/workspace/files?agent_id=agent-1&session_id=s1&path=notes.txt&token=garbage");
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(bad.body, R"({"detail":"Malformed download token."})");
    // Minted for another spelling of the same file: the signed string must match exactly.
    auto token = mint("./notes.txt");
    auto other = get("/workspace/files?agent_id=agent-1&session_id=s1&path=notes.txt&token=" + token);
    EXPECT_EQ(other.status, 401);
    EXPECT_EQ(other.body, R"({"detail":"Invalid download token."})");
}

TEST_F(WorkspaceRoutesTest, TokenUserMustOwnTheSession) {
    // bob's token (same secret) cannot reach alice's session even with alice's header.
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    auto bobs = service::sign_download_token("fixed-secret", "bob", "notes.txt", now);
    auto r = get("/workspace/files?agent_id=agent-1&session_id=s1&path=notes.txt&token=" + bobs.token);
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body, R"({"detail":"Session 's1' not found."})");
}

TEST_F(WorkspaceRoutesTest, FileErrors) {
    auto dir = get("/workspace/files?agent_id=agent-1&session_id=s1&path=subdir");
    EXPECT_EQ(dir.status, 400);
    EXPECT_EQ(dir.body, R"({"detail":"Requested path is a directory, not a file."})");
    auto outside = get("/workspace/files?agent_id=agent-1&session_id=s1&path=" + url_encode((outside_ / "secret.txt").string()));
    EXPECT_EQ(outside.status, 404);
    EXPECT_EQ(outside.body, R"({"detail":"File not found."})");
    EXPECT_FALSE(outside.stream);
}

TEST_F(WorkspaceRoutesTest, OpenApiDocumentsTheRoutes) {
    auto doc = router_.openapi("t", "v");
    const auto& paths = doc.at("paths").as_object();
    for (const char* p : {"/workspace/directories", "/workspace/status", "/workspace/files/download-token",
                          "/workspace/files"})
        EXPECT_TRUE(paths.contains(p)) << p;
    EXPECT_TRUE(paths.at("/workspace/files/download-token").as_object().contains("post"));
}

}  // namespace
}  // namespace agentd::api
