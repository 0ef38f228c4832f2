#pragma once
// The route table: matching (with the reference's trailing-slash redirects, 404
// and 405), identity, CORS and error mapping. It dispatches requests and is also
// the source of /openapi.json, so the two cannot drift apart.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "common/validation.hpp"
#include "http/request.hpp"

namespace agentd::http {

/// What one handler invocation sees.
struct RouteContext {
    const Request& request;
    std::map<std::string, std::string> path_params;
    std::string user_id;  ///< the X-User-ID value, when the route requires it
    /// Issues collected while reading parameters; a missing X-User-ID is already here.
    validation::Issues issues;
    /// The body, parsed before anything else is read (as FastAPI does), for a
    /// route that takes one and a body sent as JSON.
    std::optional<boost::json::value> body_json;

    const std::string& path_param(const std::string& name) const { return path_params.at(name); }
};

/// Parses a body sent as JSON into ctx.body_json (nothing for an empty body or
/// another media type). FastAPI does this before it reads any other parameter:
/// a body it cannot decode is the only error reported (a 422 `json_invalid`, or
/// its 400 for bytes that are not UTF-8), even beside a missing X-User-ID.
void decode_json_body(const Request& req, RouteContext& ctx);

using Handler = std::function<Response(RouteContext&)>;

struct ParamDoc {
    std::string name;
    std::string in;  ///< "query" or "path"
    bool required = false;
    std::string type = "string";
};

struct RouteDoc {
    std::string summary{};
    std::string tag{};
    std::vector<ParamDoc> params{};
    bool has_body = false;
    int success_status = 200;
};

struct Route {
    std::string method;
    std::string pattern;  ///< "/sessions/{session_id}/messages"
    Handler handler;
    RouteDoc doc{};
    bool requires_user = true;
    /// Runs on the blocking pool (storage, filesystem). Pure in-memory handlers
    /// (health, catalogues, schemas) run inline on the io thread.
    bool blocking = true;
    /// Optional non-blocking shortcut tried inline before a blocking handler (e.g. a
    /// cache hit). Returns nullopt to fall through; never blocks, never throws.
    std::function<std::optional<Response>(RouteContext&)> fast = nullptr;
};

struct CorsPolicy {
    bool enabled = true;
    std::vector<std::string> allowed_origins = {"*"};
};

class Router {
public:
    void add(Route route);
    void set_cors(CorsPolicy cors) { cors_ = std::move(cors); }

    /// Outcome of matching, before any handler runs.
    struct Resolution {
        const Route* route = nullptr;  ///< set when a handler must run
        std::map<std::string, std::string> params;
        Response immediate;  ///< otherwise the complete answer (404, 405, 307, preflight)
    };
    Resolution resolve(const Request& req) const;

    /// Runs the resolved route: identity, handler, error mapping, CORS headers.
    Response invoke(const Resolution& r, const Request& req) const;

    /// The route's inline shortcut, when it has one and it answers.
    std::optional<Response> try_fast(const Resolution& r, const Request& req) const;

    /// resolve + invoke, for tests and inline routes.
    Response handle(const Request& req) const;

    /// Adds CORS response headers for this request's Origin.
    void apply_cors(const Request& req, Response& resp) const;
    /// The same for an `Origin` value read by hand (the server's own answers to
    /// a request no route saw: too large, malformed); null: none was sent.
    void apply_cors(const std::string* origin, Response& resp) const;

    const std::vector<Route>& routes() const { return routes_; }

    /// OpenAPI 3.1 document of every route.
    boost::json::object openapi(const std::string& title, const std::string& version) const;

private:
    struct Compiled {
        std::vector<std::string> segments;  ///< "{name}" marks a parameter
    };
    bool match(const Compiled& c, const std::vector<std::string>& parts,
               std::map<std::string, std::string>* params) const;
    std::optional<Response> preflight(const Request& req) const;

    std::vector<Route> routes_;
    std::vector<Compiled> compiled_;
    /// "METHOD path" -> route index, for parameterless routes that no earlier route
    /// shadows: the common requests skip the scan below.
    std::unordered_map<std::string, std::size_t> static_routes_;
    CorsPolicy cors_;
};

std::vector<std::string> split_path(std::string_view path);

}  // namespace agentd::http
