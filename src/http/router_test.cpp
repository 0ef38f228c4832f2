#include "http/router.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <stdexcept>

#include "common/error.hpp"
#include "common/json.hpp"

namespace agentd::http {
namespace {

namespace bj = boost::json;

/// Builds a Request the way http/server.cpp does from a raw target.
Request make_request(std::string method, std::string target,
                     std::map<std::string, std::string> headers = {{"x-user-id", "alice"}},
                     std::string body = "") {
    Request r;
    r.method = std::move(method);
    r.target = std::move(target);
    auto q = r.target.find('?');
    std::string raw_path = r.target.substr(0, q);
    if (q != std::string::npos) r.raw_query = r.target.substr(q + 1);
    auto decoded = decode_path(raw_path);
    r.path = decoded ? *decoded : raw_path;
    r.query = parse_query(r.raw_query);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return r;
}

const std::string* find_header(const Response& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return &v;
    return nullptr;
}

bj::value body_json(const Response& r) { return bj::parse(r.body); }

Response text(std::string s) { return Response::json(200, bj::value(s)); }

class RouterTest : public ::testing::Test {
protected:
    void SetUp() override {
        router_.add(Route{"GET", "/health", [](RouteContext& c) {
                              c.issues.throw_if_any();
                              return text("health:" + c.user_id);
                          }});
        router_.add(Route{"GET", "/items/", [](RouteContext& c) {
                              c.issues.throw_if_any();
                              return text("list");
                          }});
        // A POST that, like the real handlers, reads a required query parameter and a body.
        router_.add(Route{
            "POST", "/items/",
            [](RouteContext& c) {
                if (!c.request.query_param("kind"))
                    c.issues.add("missing", bj::array{"query", "kind"}, "Field required", nullptr);
                if (c.request.body.empty())
                    c.issues.add("missing", bj::array{"body"}, "Field required", nullptr);
                c.issues.throw_if_any();
                return Response::json(201, bj::object{{"user", c.user_id}});
            },
            RouteDoc{"Create an item", "items", {{"kind", "query", true}}, true, 201}});
        router_.add(Route{"GET", "/items/{item_id}",
                          [](RouteContext& c) {
                              c.issues.throw_if_any();
                              return text("item:" + c.path_param("item_id"));
                          },
                          RouteDoc{"Get", "items", {{"item_id", "path", true}}}});
        router_.add(Route{"DELETE", "/items/{item_id}", [](RouteContext& c) {
                              c.issues.throw_if_any();
                              return Response::empty(204);
                          }});
        // Registered after the parameter route: only reachable through its method.
        router_.add(Route{"PUT", "/items/special", [](RouteContext&) { return text("special"); }});
        router_.add(Route{"GET", "/items/{item_id}/parts/{part_id}", [](RouteContext& c) {
                              c.issues.throw_if_any();
                              return text(c.path_param("item_id") + "/" + c.path_param("part_id"));
                          }});
        router_.add(Route{"GET", "/public",
                          [](RouteContext& c) { return text("public:" + c.user_id); },
                          RouteDoc{"Public"}, /*requires_user=*/false});
        router_.add(Route{"GET", "/conflict", [](RouteContext&) -> Response {
                              throw Error::conflict("Session 'x' is busy.");
                          }});
        router_.add(Route{
            "GET", "/invalid", [](RouteContext&) -> Response {
                validation::Issues issues;
                issues.add("int_parsing", bj::array{"query", "limit"},
                           "Input should be a valid integer, unable to parse string as an integer",
                           "x");
                issues.throw_if_any();
                return text("unreachable");
            }});
        router_.add(Route{"GET", "/boom", [](RouteContext&) -> Response {
                              throw std::runtime_error("secret internal detail");
                          }});
    }

    Response handle(Request r) { return router_.handle(r); }

    Router router_;
};

// ---- matching -----------------------------------------------------------------------

TEST_F(RouterTest, ExactMatchPassesTheUser) {
    auto r = handle(make_request("GET", "/health"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_json(r), "health:alice");
    EXPECT_EQ(r.content_type, "application/json");
}

TEST_F(RouterTest, PathParametersAreDecoded) {
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/abc"))), "item:abc");
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/a%20b"))), "item:a b");
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/a+b"))),
              "item:a+b");  // '+' is literal in paths
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/i1/parts/p2?x=1"))), "i1/p2");
}

TEST_F(RouterTest, CollectionPathIsNotAnEmptyParameter) {
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/"))), "list");
}

TEST_F(RouterTest, FullMatchLaterWinsOverEarlierMethodMismatch) {
    auto r = handle(make_request("PUT", "/items/special"));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(body_json(r), "special");
    // while GET still reaches the parameter route registered first
    EXPECT_EQ(body_json(handle(make_request("GET", "/items/special"))), "item:special");
}

TEST_F(RouterTest, UnknownPathIs404) {
    for (const char* target : {"/nope", "/items/a/b", "/items/a/parts/", "/", "/health/x"}) {
        auto r = handle(make_request("GET", target));
        EXPECT_EQ(r.status, 404) << target;
        EXPECT_EQ(r.body, R"({"detail":"Not Found"})") << target;
        EXPECT_EQ(r.content_type, "application/json");
    }
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
    auto r = handle(make_request("PATCH", "/items/abc"));
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.body, R"({"detail":"Method Not Allowed"})");
    const std::string* allow = find_header(r, "allow");
    ASSERT_NE(allow, nullptr);
    std::set<std::string> methods;
    for (std::size_t pos = 0; pos <= allow->size();) {
        auto comma = allow->find(", ", pos);
        methods.insert(allow->substr(pos, comma - pos));
        if (comma == std::string::npos) break;
        pos = comma + 2;
    }
    EXPECT_EQ(methods, (std::set<std::string>{"GET", "HEAD", "DELETE"}));

    auto post_only = handle(make_request("DELETE", "/items/"));
    EXPECT_EQ(post_only.status, 405);
}

TEST_F(RouterTest, NoIdentityCheckBeforeRouting) {
    // 404 / 405 come from routing; a missing header does not turn them into 422.
    EXPECT_EQ(handle(make_request("GET", "/nope", {})).status, 404);
    EXPECT_EQ(handle(make_request("PATCH", "/items/x", {})).status, 405);
}

// ---- trailing slashes ------------------------------------------------------------------

TEST_F(RouterTest, MissingSlashRedirectsToCollectionKeepingQuery) {
    auto r = handle(make_request("GET", "/items?x=1&y=a%20b", {{"host", "api.example:8000"}}));
    EXPECT_EQ(r.status, 307);
    ASSERT_NE(find_header(r, "location"), nullptr);
    EXPECT_EQ(*find_header(r, "location"), "http://api.example:8000/items/?x=1&y=a%20b");
    EXPECT_TRUE(r.body.empty());

    // Any method: the client repeats it (and its body) at the new URL.
    auto post = handle(make_request("POST", "/items", {{"host", "h"}}, "{}"));
    EXPECT_EQ(post.status, 307);
    EXPECT_EQ(*find_header(post, "location"), "http://h/items/");
}

TEST_F(RouterTest, ExtraSlashRedirectsToItem) {
    auto r = handle(make_request("GET", "/health/", {{"host", "h"}}));
    EXPECT_EQ(r.status, 307);
    EXPECT_EQ(*find_header(r, "location"), "http://h/health");

    // The still-encoded path is kept, so the client retries the same resource.
    auto enc = handle(make_request("DELETE", "/items/a%20b/?q=%2B", {{"host", "h"}}));
    EXPECT_EQ(enc.status, 307);
    EXPECT_EQ(*find_header(enc, "location"), "http://h/items/a%20b?q=%2B");
}

TEST_F(RouterTest, RedirectNeedsNoIdentity) {
    EXPECT_EQ(handle(make_request("GET", "/items", {})).status, 307);
}

// ---- HEAD --------------------------------------------------------------------------------

TEST_F(RouterTest, HeadIsServedByGetRoutes) {
    auto res = router_.resolve(make_request("HEAD", "/items/abc"));
    ASSERT_NE(res.route, nullptr);
    EXPECT_EQ(res.route->method, "GET");
    EXPECT_EQ(res.params.at("item_id"), "abc");
    EXPECT_EQ(handle(make_request("HEAD", "/health")).status, 200);
    // A path with no GET route does not answer HEAD.
    auto r = handle(make_request("HEAD", "/items/special/x"));
    EXPECT_EQ(r.status, 404);
}

// ---- identity ------------------------------------------------------------------------------

TEST_F(RouterTest, MissingUserIs422MergedWithOtherIssuesHeaderFirst) {
    auto r = handle(make_request("POST", "/items/", {}));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(
        r.body,
        R"({"detail":[{"type":"missing","loc":["header","x-user-id"],"msg":"Field required","input":null},)"
        R"({"type":"missing","loc":["query","kind"],"msg":"Field required","input":null},)"
        R"({"type":"missing","loc":["body"],"msg":"Field required","input":null}]})");
}

TEST_F(RouterTest, MissingUserAloneIs422) {
    auto r = handle(make_request("GET", "/health", {}));
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(
        r.body,
        R"({"detail":[{"type":"missing","loc":["header","x-user-id"],"msg":"Field required","input":null}]})");
}

TEST_F(RouterTest, EmptyUserIs401EvenWhenTheRequestIsOtherwiseInvalid) {
    auto r = handle(make_request("POST", "/items/", {{"x-user-id", ""}}));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"detail":"X-User-ID header is required."})");
    EXPECT_EQ(find_header(r, "www-authenticate"), nullptr);
}

TEST_F(RouterTest, UndecodableJsonBodyIsTheOnlyErrorReported) {
    // FastAPI decodes the body before it reads the header or the query.
    for (const char* user : std::initializer_list<const char*>{"", nullptr}) {
        std::map<std::string, std::string> headers;
        if (user) headers["x-user-id"] = user;
        auto r = handle(make_request("POST", "/items/", headers, R"({"a":)"));
        EXPECT_EQ(r.status, 422);
        EXPECT_EQ(r.body,
                  R"({"detail":[{"type":"json_invalid","loc":["body",5],"msg":"JSON decode error",)"
                  R"("input":{},"ctx":{"error":"Expecting value"}}]})");
        r = handle(make_request("POST", "/items/", headers, "{\"a\":\"\xff\"}"));
        EXPECT_EQ(r.status, 400);
        EXPECT_EQ(r.body, R"({"detail":"There was an error parsing the body"})");
    }
}

TEST_F(RouterTest, DecodedBodyReachesTheHandler) {
    Router router;
    router.add(Route{"POST", "/echo",
                     [](RouteContext& c) {
                         EXPECT_TRUE(c.body_json.has_value());
                         return Response::json(200, c.body_json ? *c.body_json : bj::value());
                     },
                     RouteDoc{"Echo", "items", {}, true}});
    auto r = router.handle(make_request("POST", "/echo", {{"x-user-id", "a"}}, R"({"k":[1,2]})"));
    EXPECT_EQ(r.body, R"({"k":[1,2]})");
}

TEST_F(RouterTest, BodyOfAnotherMediaTypeIsLeftToTheHandler) {
    // Not decoded, so not refused here: the handler validates the raw text.
    auto r = handle(make_request("POST", "/items/?kind=a", {{"x-user-id", "a"}, {"content-type", "text/plain"}},
                                 R"({"a":)"));
    EXPECT_EQ(r.status, 201);
}

TEST(BodyDeclaredJson, FollowsFastApi) {
    auto with = [](std::optional<std::string> type) {
        Request r;
        if (type) r.headers["content-type"] = *type;
        return body_declared_json(r);
    };
    EXPECT_TRUE(with(std::nullopt));
    EXPECT_TRUE(with(""));
    EXPECT_TRUE(with("application/json"));
    EXPECT_TRUE(with("Application/JSON ; charset=utf-8"));
    EXPECT_TRUE(with("application/vnd.api+json"));
    EXPECT_TRUE(with("application/+json"));
    EXPECT_FALSE(with(" "));
    EXPECT_FALSE(with("text/plain"));
    EXPECT_FALSE(with("text/json"));
    EXPECT_FALSE(with("json"));
    EXPECT_FALSE(with("application/jsonp"));
    EXPECT_FALSE(with("application/x-www-form-urlencoded"));
    EXPECT_FALSE(with("multipart/form-data; boundary=x"));
}

TEST(QueryParam, TheLastOfARepeatedParameterCounts) {
    Request r;
    r.query = parse_query("limit=5&x=1&limit=500");
    ASSERT_NE(r.query_param("limit"), nullptr);
    EXPECT_EQ(*r.query_param("limit"), "500");
    EXPECT_EQ(*r.query_param("x"), "1");
    EXPECT_EQ(r.query_param("y"), nullptr);
}

TEST_F(RouterTest, UserIdIsUsedVerbatim) {
    auto r = handle(make_request("POST", "/items/?kind=a", {{"x-user-id", " Bob "}}, "{}"));
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.body, R"({"user":" Bob "})");
}

TEST_F(RouterTest, PublicRoutesIgnoreTheHeader) {
    EXPECT_EQ(body_json(handle(make_request("GET", "/public", {}))), "public:");
    EXPECT_EQ(handle(make_request("GET", "/public", {{"x-user-id", ""}})).status, 200);
}

// ---- errors ---------------------------------------------------------------------------------

TEST_F(RouterTest, AgentdErrorMapsToStatusAndDetail) {
    auto r = handle(make_request("GET", "/conflict"));
    EXPECT_EQ(r.status, 409);
    EXPECT_EQ(r.body, R"({"detail":"Session 'x' is busy."})");

    auto v = handle(make_request("GET", "/invalid"));
    EXPECT_EQ(v.status, 422);
    EXPECT_EQ(
        v.body,
        R"({"detail":[{"type":"int_parsing","loc":["query","limit"],)"
        R"("msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"}]})");
}

// The brief for Agentd asks for a JSON 500; spec api-core §1.4 says the reference answers
// text/plain "Internal Server Error". Either way the exception text must not leak.
TEST_F(RouterTest, UnexpectedExceptionIs500WithoutDetails) {
    auto r = handle(make_request("GET", "/boom"));
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("Internal Server Error"), std::string::npos);
    EXPECT_EQ(r.body.find("secret"), std::string::npos);
}

// ---- CORS --------------------------------------------------------------------------------------

Request preflight(std::string path, std::string origin) {
    return make_request("OPTIONS", std::move(path),
                        {{"origin", std::move(origin)},
                         {"access-control-request-method", "POST"},
                         {"access-control-request-headers", "x-user-id,content-type"}});
}

TEST_F(RouterTest, PreflightFromAListedOrigin) {
    router_.set_cors(CorsPolicy{true, {"https://ui.example", "https://other.example"}});
    auto r = handle(preflight("/items/", "https://ui.example"));
    EXPECT_EQ(r.status, 200);
    ASSERT_NE(find_header(r, "access-control-allow-origin"), nullptr);
    EXPECT_EQ(*find_header(r, "access-control-allow-origin"), "https://ui.example");
    ASSERT_NE(find_header(r, "vary"), nullptr);
    EXPECT_EQ(*find_header(r, "vary"), "Origin");
    ASSERT_NE(find_header(r, "access-control-allow-headers"), nullptr);
    EXPECT_EQ(*find_header(r, "access-control-allow-headers"), "x-user-id,content-type");
    ASSERT_NE(find_header(r, "access-control-allow-methods"), nullptr);
    EXPECT_NE(find_header(r, "access-control-allow-methods")->find("POST"), std::string::npos);
    EXPECT_NE(find_header(r, "access-control-max-age"), nullptr);
}

TEST_F(RouterTest, PreflightFromAnUnlistedOriginIsRejected) {
    router_.set_cors(CorsPolicy{true, {"https://ui.example"}});
    auto r = handle(preflight("/items/", "https://evil.example"));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body, "Disallowed CORS origin");
    EXPECT_EQ(find_header(r, "access-control-allow-origin"), nullptr);
}

TEST_F(RouterTest, PreflightWithWildcardAnswersStar) {
    auto r = handle(preflight("/items/abc", "https://anything.example"));  // default policy: "*"
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(*find_header(r, "access-control-allow-origin"), "*");
}

TEST_F(RouterTest, CorsHeadersOnOrdinaryAndErrorResponses) {
    router_.set_cors(CorsPolicy{true, {"https://ui.example"}});
    auto ok = handle(
        make_request("GET", "/health", {{"x-user-id", "a"}, {"origin", "https://ui.example"}}));
    EXPECT_EQ(*find_header(ok, "access-control-allow-origin"), "https://ui.example");
    auto err = handle(
        make_request("GET", "/boom", {{"x-user-id", "a"}, {"origin", "https://ui.example"}}));
    EXPECT_EQ(err.status, 500);
    EXPECT_NE(find_header(err, "access-control-allow-origin"), nullptr);
    auto nf = handle(make_request("GET", "/nope", {{"origin", "https://ui.example"}}));
    EXPECT_NE(find_header(nf, "access-control-allow-origin"), nullptr);
    auto denied = handle(
        make_request("GET", "/health", {{"x-user-id", "a"}, {"origin", "https://evil.example"}}));
    EXPECT_EQ(denied.status, 200);
    EXPECT_EQ(find_header(denied, "access-control-allow-origin"), nullptr);
}

TEST_F(RouterTest, OptionsWithoutPreflightHeadersIsRouted) {
    auto r = handle(make_request("OPTIONS", "/items/", {{"origin", "https://ui.example"}}));
    EXPECT_EQ(r.status, 405);
    router_.set_cors(CorsPolicy{false, {}});
    EXPECT_EQ(handle(preflight("/items/", "https://ui.example")).status, 405);
}

// ---- inline shortcut (Route::fast) ----------------------------------------------------------

TEST(RouterFast, ShortcutAnswersFirstAndFallsBackToTheHandler) {
    Router router;
    int slow_calls = 0;
    int fast_calls = 0;
    std::shared_ptr<const std::string> cached;
    bool fast_throws = false;
    router.add(Route{"GET", "/cached/",
                     [&](RouteContext& c) {
                         ++slow_calls;
                         c.issues.throw_if_any();
                         return text("slow:" + c.user_id);
                     },
                     RouteDoc{}, true, true,
                     [&](RouteContext& c) -> std::optional<Response> {
                         ++fast_calls;
                         EXPECT_FALSE(c.user_id.empty());
                         if (fast_throws) throw std::runtime_error("cache broke");
                         if (!cached) return std::nullopt;
                         Response r;
                         r.shared_body = cached;
                         return r;
                     }});
    router.set_cors(CorsPolicy{true, {"https://ui.example"}});

    auto miss = router.handle(make_request("GET", "/cached/"));
    EXPECT_EQ(miss.body_view(), "\"slow:alice\"");
    EXPECT_EQ(slow_calls, 1);

    cached = std::make_shared<const std::string>("{\"cached\":true}");
    auto hit = router.handle(make_request(
        "GET", "/cached/", {{"x-user-id", "alice"}, {"origin", "https://ui.example"}}));
    EXPECT_EQ(hit.status, 200);
    EXPECT_EQ(hit.body_view(), "{\"cached\":true}");
    EXPECT_EQ(slow_calls, 1);
    ASSERT_NE(find_header(hit, "access-control-allow-origin"), nullptr);

    // Identity problems are the full handler's to report; the shortcut is not consulted.
    int before = fast_calls;
    EXPECT_EQ(router.handle(make_request("GET", "/cached/", {})).status, 422);
    EXPECT_EQ(router.handle(make_request("GET", "/cached/", {{"x-user-id", ""}})).status, 401);
    EXPECT_EQ(fast_calls, before);

    // A shortcut that throws falls through to the handler.
    fast_throws = true;
    auto fallback = router.handle(make_request("GET", "/cached/"));
    EXPECT_EQ(fallback.status, 200);
    EXPECT_EQ(fallback.body_view(), "\"slow:alice\"");
}

// ---- query and path decoding ------------------------------------------------------------

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(ParseQuery, DecodesPairsInOrder) {
    EXPECT_EQ(parse_query("a=1&b=%20x"), (Pairs{{"a", "1"}, {"b", " x"}}));
    EXPECT_EQ(parse_query("q=a+b%2Bc"), (Pairs{{"q", "a b+c"}}));
    EXPECT_EQ(parse_query("k%3D=v%26w"), (Pairs{{"k=", "v&w"}}));
    EXPECT_EQ(parse_query("a=1&a=2"), (Pairs{{"a", "1"}, {"a", "2"}}));
    EXPECT_EQ(parse_query("a=1=2"), (Pairs{{"a", "1=2"}}));
    EXPECT_EQ(parse_query("%E2%82%AC=%e2%82%ac"), (Pairs{{"\xE2\x82\xAC", "\xE2\x82\xAC"}}));
}

TEST(ParseQuery, BlankValuesAndEmptyParts) {
    EXPECT_EQ(parse_query(""), Pairs{});
    EXPECT_EQ(parse_query("flag"), (Pairs{{"flag", ""}}));
    EXPECT_EQ(parse_query("a=&b"), (Pairs{{"a", ""}, {"b", ""}}));
    EXPECT_EQ(parse_query("&&a=1&"), (Pairs{{"a", "1"}}));
}

TEST(ParseQuery, MalformedEscapesAreKeptLiterally) {
    EXPECT_EQ(parse_query("a=%zz"), (Pairs{{"a", "%zz"}}));
    EXPECT_EQ(parse_query("a=%4"), (Pairs{{"a", "%4"}}));
    EXPECT_EQ(parse_query("a=100%"), (Pairs{{"a", "100%"}}));
}

// Starlette (urllib.parse.parse_qsl → unquote_plus) keeps only the malformed escape
// literally and still decodes the rest of the value: "%41%zz+b" → "A%zz b".
TEST(ParseQuery, MalformedEscapeDoesNotStopTheRestFromDecoding) {
    EXPECT_EQ(parse_query("a=%41%zz+b"), (Pairs{{"a", "A%zz b"}}));
    EXPECT_EQ(parse_query("before=x+y%"), (Pairs{{"before", "x y%"}}));
}

TEST(DecodePath, PercentEscapes) {
    EXPECT_EQ(decode_path("/a%20b"), "/a b");
    EXPECT_EQ(decode_path("/a+b"), "/a+b");
    EXPECT_EQ(decode_path("/x%2Fy"), "/x/y");
    EXPECT_EQ(decode_path("/%4a%4A"), "/JJ");
    EXPECT_EQ(decode_path("/%25"), "/%");
    EXPECT_EQ(decode_path(""), "");
}

TEST(DecodePath, MalformedEscapesAreRejected) {
    for (const char* bad : {"/a%", "/a%2", "/a%zz", "/%g0", "%", "/a%2x/b"})
        EXPECT_EQ(decode_path(bad), std::nullopt) << bad;
}

// What reaches a handler is valid UTF-8, so no JSON written back (an error echoing
// an id, a 422's "input") carries raw bytes. Python's unquote(errors="replace")
// gives one U+FFFD per maximal ill-formed subsequence; these are its answers.
TEST(ValidUtf8, IllFormedSubsequencesBecomeOneReplacementEach) {
    const std::string r = "\xEF\xBF\xBD";
    EXPECT_EQ(to_valid_utf8("plain"), "plain");
    EXPECT_EQ(to_valid_utf8("\xE2\x82\xAC \xF0\x9F\x98\x80"), "\xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(to_valid_utf8("\xFF"), r);
    EXPECT_EQ(to_valid_utf8("a\xFF\xFE" "b"), "a" + r + r + "b");
    EXPECT_EQ(to_valid_utf8("\xE2\x82"), r);             // cut short: one for the prefix
    EXPECT_EQ(to_valid_utf8("\xE2\x82x"), r + "x");
    EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);         // overlong lead: each byte alone
    EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r); // a surrogate
    EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r);  // past U+10FFFF
    EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98"), r);
    EXPECT_EQ(to_valid_utf8("\x80\xE9t\xC3\xA9"), r + r + "t\xC3\xA9");
}

TEST(ValidUtf8, QueriesAndPathsDecodeToValidText) {
    EXPECT_EQ(parse_query("agent_id=%ff%e9&x=%C3%A9"),
              (Pairs{{"agent_id", "\xEF\xBF\xBD\xEF\xBF\xBD"}, {"x", "\xC3\xA9"}}));
    EXPECT_EQ(decode_path("/sessions/%ff/status"), "/sessions/\xEF\xBF\xBD/status");
    EXPECT_EQ(decode_path("/sessions/\xff"), "/sessions/\xEF\xBF\xBD");
}

// Starlette reads header bytes as Latin-1, as browsers send characters up to U+00FF.
TEST(Latin1HeaderText, EachByteIsOneCodePoint) {
    EXPECT_EQ(latin1_header_text("alice"), "alice");
    EXPECT_EQ(latin1_header_text("\xE9t\xE9"), "\xC3\xA9t\xC3\xA9");
    EXPECT_EQ(latin1_header_text("\xFF\xFEu"), "\xC3\xBF\xC3\xBEu");
    EXPECT_EQ(latin1_header_text("\xC3\xA9"), "\xC3\x83\xC2\xA9");  // UTF-8 bytes are two characters
}

TEST(Router, TheUserIdIsTheHeaderReadAsLatin1) {
    Router router;
    router.add(Route{"GET", "/who", [](RouteContext& c) { return Response::json(200, bj::string(c.user_id)); }});
    auto req = make_request("GET", "/who", {{"x-user-id", "\xE9ve"}});
    auto resp = router.invoke(router.resolve(req), req);
    EXPECT_EQ(resp.status, 200);
    EXPECT_EQ(body_json(resp), bj::value("\xC3\xA9ve"));
}

TEST(SplitPath, TrailingSlashIsAnEmptySegment) {
    EXPECT_EQ(split_path("/a/b/"), (std::vector<std::string>{"a", "b", ""}));
    EXPECT_EQ(split_path("/a"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(split_path("/"), (std::vector<std::string>{""}));
    EXPECT_TRUE(split_path("relative").empty());
}

// ---- OpenAPI ---------------------------------------------------------------------------------

TEST_F(RouterTest, OpenApiListsEveryRouteAndItsParameters) {
    auto doc = router_.openapi("Agentd", "1.2.3");
    EXPECT_EQ(doc.at("openapi"), "3.1.0");
    EXPECT_EQ(doc.at("info").at("version"), "1.2.3");
    const auto& paths = doc.at("paths").as_object();
    for (const auto& route : router_.routes()) {
        std::string method = route.method;
        for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        ASSERT_TRUE(paths.contains(route.pattern)) << route.pattern;
        EXPECT_TRUE(paths.at(route.pattern).as_object().contains(method))
            << route.method << " " << route.pattern;
    }
    // Two methods on one path share one path item.
    EXPECT_TRUE(paths.at("/items/").as_object().contains("get"));
    EXPECT_TRUE(paths.at("/items/").as_object().contains("post"));

    const auto& post = paths.at("/items/").at("post").as_object();
    EXPECT_TRUE(post.contains("requestBody"));
    EXPECT_TRUE(post.at("responses").as_object().contains("201"));
    bool has_user = false, has_kind = false;
    for (const auto& p : post.at("parameters").as_array()) {
        if (p.at("name") == "x-user-id")
            has_user = p.at("in") == "header" && p.at("required") == true;
        if (p.at("name") == "kind") has_kind = p.at("in") == "query" && p.at("required") == true;
    }
    EXPECT_TRUE(has_user);
    EXPECT_TRUE(has_kind);

    const auto& item = paths.at("/items/{item_id}").at("get").as_object();
    EXPECT_EQ(item.at("parameters").as_array()[0].at("required"), true);

    // Public routes do not ask for the header.
    const auto& pub = paths.at("/public").at("get").as_object();
    EXPECT_FALSE(pub.contains("parameters"));
}

}  // namespace
}  // namespace agentd::http
