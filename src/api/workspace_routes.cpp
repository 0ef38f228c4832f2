#include "api/workspace_routes.hpp"

#include <boost/json.hpp>

#include "api/params.hpp"
#include "common/error.hpp"

// Each handler: read parameters (collecting 422 issues), call the service, serialise.
namespace agentd::api {

namespace bj = boost::json;
using http::Response;
using http::Route;
using http::RouteContext;

namespace {

struct SessionQuery {
    std::optional<std::string> agent_id;
    std::optional<std::string> session_id;
};

SessionQuery read_session_query(RouteContext& ctx) {
    SessionQuery q;
    q.agent_id = required_query(ctx, "agent_id");
    q.session_id = required_query(ctx, "session_id");
    return q;
}

/// `download`: pydantic's lax bool, false when absent.
bool read_download_flag(RouteContext& ctx) {
    const std::string* raw = ctx.request.query_param("download");
    if (!raw) return false;
    auto v = validation::as_bool(bj::value(*raw), bj::array{"query", "download"}, ctx.issues);
    return v.value_or(false);
}

Response list_directory(service::WorkspaceService& ws, RouteContext& ctx) {
    auto q = read_session_query(ctx);
    auto path = optional_query(ctx, "path");
    ctx.issues.throw_if_any();
    auto listing = ws.list_directory(ctx.user_id, *q.agent_id, *q.session_id, path.value_or(""));
    return json_response(200, service::to_json(listing));
}

Response read_status(service::WorkspaceService& ws, RouteContext& ctx) {
    auto q = read_session_query(ctx);
    ctx.issues.throw_if_any();
    return json_response(200, service::to_json(ws.status(ctx.user_id, *q.agent_id, *q.session_id)));
}

Response mint_download_token(service::WorkspaceService& ws, RouteContext& ctx) {
    auto q = read_session_query(ctx);
    auto path = required_query(ctx, "path");
    ctx.issues.throw_if_any();
    auto token = ws.mint_download_token(ctx.user_id, *q.agent_id, *q.session_id, *path);
    return json_response(200, bj::object{{"token", token.token},
                                         {"expires_at", static_cast<double>(token.expires_at)}});
}

// Identity here is the X-User-ID header or a download token (spec §0.1): the
// route is registered without the router's identity check and decides itself,
// after the query is validated (FastAPI validates parameters first).
Response read_file(service::WorkspaceService& ws, RouteContext& ctx) {
    auto q = read_session_query(ctx);
    auto path = required_query(ctx, "path");
    bool download = read_download_flag(ctx);
    auto token = optional_query(ctx, "token");
    ctx.issues.throw_if_any();

    std::string user_id;
    if (token) {
        // A token wins over the header, and a bad one is 401 even beside a valid header.
        user_id = ws.verify_download_token(*token, *path);
    } else if (const std::string* header = ctx.request.header("x-user-id"); header && !header->empty()) {
        user_id = http::latin1_header_text(*header);  // as the router reads it
    } else {
        throw Error(ErrorCode::kUnauthorized, "X-User-ID header or download token is required.");
    }

    auto file = ws.open_file(user_id, *q.agent_id, *q.session_id, *path);
    Response r;
    r.content_type = file.content_type;
    // The body is streamed; the size lets a browser show real progress.
    r.headers.emplace_back("content-length", std::to_string(file.size));
    if (download) r.headers.emplace_back("content-disposition", service::content_disposition(file.basename));
    r.stream = std::move(file.body);
    return r;
}

}  // namespace

void register_workspace_routes(http::Router& router, service::WorkspaceService& ws) {
    using http::ParamDoc;
    using http::RouteDoc;
    const ParamDoc agent_q{"agent_id", "query", true};
    const ParamDoc session_q{"session_id", "query", true};

    router.add(Route{"GET", "/workspace/directories", [&ws](RouteContext& c) { return list_directory(ws, c); },
                     RouteDoc{"List one directory level of the session's workspace",
                              "workspace",
                              {agent_q, session_q, {"path", "query"}}}});
    router.add(Route{"GET", "/workspace/status", [&ws](RouteContext& c) { return read_status(ws, c); },
                     RouteDoc{"The session's workdir, cwd and git state", "workspace", {agent_q, session_q}}});
    router.add(Route{"POST", "/workspace/files/download-token",
                     [&ws](RouteContext& c) { return mint_download_token(ws, c); },
                     RouteDoc{"Mint a short-lived download token for one path",
                              "workspace",
                              {agent_q, session_q, {"path", "query", true}}}});
    router.add(Route{"GET", "/workspace/files", [&ws](RouteContext& c) { return read_file(ws, c); },
                     RouteDoc{"Stream one file of the session's workspace",
                              "workspace",
                              {agent_q, session_q, {"path", "query", true}, {"download", "query", false, "boolean"},
                               {"token", "query"}, {"x-user-id", "header"}}},
                     /*requires_user=*/false});
}

}  // namespace agentd::api
