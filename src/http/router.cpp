#include "http/router.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "common/error.hpp"
#include "common/json.hpp"

namespace agentd::http {

namespace bj = boost::json;

std::vector<std::string> split_path(std::string_view path) {
    // "/a/b/" -> {"a", "b", ""}: a trailing slash is a distinct, empty last segment.
    std::vector<std::string> out;
    if (path.empty() || path.front() != '/') return out;
    path.remove_prefix(1);
    for (;;) {
        auto slash = path.find('/');
        out.emplace_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return out;
}

void Router::add(Route route) {
    Compiled compiled{split_path(route.pattern)};
    bool is_static = route.pattern.find('{') == std::string::npos;
    if (is_static) {
        bool shadowed = false;
        for (std::size_t i = 0; i < routes_.size(); ++i)
            if (routes_[i].method == route.method && match(compiled_[i], compiled.segments, nullptr)) shadowed = true;
        if (!shadowed) static_routes_.emplace(route.method + " " + route.pattern, routes_.size());
    }
    compiled_.push_back(std::move(compiled));
    routes_.push_back(std::move(route));
}

bool Router::match(const Compiled& c, const std::vector<std::string>& parts,
                   std::map<std::string, std::string>* params) const {
    if (c.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto& seg = c.segments[i];
        if (seg.size() > 2 && seg.front() == '{' && seg.back() == '}') {
            if (parts[i].empty()) return false;  // a parameter never matches an empty segment
            if (params) (*params)[seg.substr(1, seg.size() - 2)] = parts[i];
        } else if (seg != parts[i]) {
            return false;
        }
    }
    return true;
}

std::optional<Response> Router::preflight(const Request& req) const {
    if (!cors_.enabled || req.method != "OPTIONS") return std::nullopt;
    const std::string* origin = req.header("origin");
    const std::string* method = req.header("access-control-request-method");
    if (!origin || !method) return std::nullopt;
    Response r;
    r.status = 200;
    r.content_type = "text/plain; charset=utf-8";
    bool any = std::find(cors_.allowed_origins.begin(), cors_.allowed_origins.end(), "*") != cors_.allowed_origins.end();
    bool listed = std::find(cors_.allowed_origins.begin(), cors_.allowed_origins.end(), *origin) != cors_.allowed_origins.end();
    if (!any && !listed) {
        r.status = 400;
        r.body = "Disallowed CORS origin";
        r.headers.emplace_back("vary", "Origin");
        return r;
    }
    r.headers.emplace_back("access-control-allow-origin", any ? "*" : *origin);
    if (!any) r.headers.emplace_back("vary", "Origin");
    r.headers.emplace_back("access-control-allow-methods", "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT");
    if (const std::string* h = req.header("access-control-request-headers"))
        r.headers.emplace_back("access-control-allow-headers", *h);
    r.headers.emplace_back("access-control-max-age", "600");
    r.body = "OK";
    return r;
}

void Router::apply_cors(const Request& req, Response& resp) const { apply_cors(req.header("origin"), resp); }

void Router::apply_cors(const std::string* origin, Response& resp) const {
    if (!cors_.enabled || !origin) return;
    bool any = std::find(cors_.allowed_origins.begin(), cors_.allowed_origins.end(), "*") != cors_.allowed_origins.end();
    if (any) {
        resp.headers.emplace_back("access-control-allow-origin", "*");
    } else if (std::find(cors_.allowed_origins.begin(), cors_.allowed_origins.end(), *origin) !=
               cors_.allowed_origins.end()) {
        resp.headers.emplace_back("access-control-allow-origin", *origin);
        resp.headers.emplace_back("vary", "Origin");
    }
}

Router::Resolution Router::resolve(const Request& req) const {
    Resolution res;
    if (auto pf = preflight(req)) {
        res.immediate = std::move(*pf);
        return res;
    }
    {
        std::string key;
        key.reserve(req.method.size() + 1 + req.path.size());
        key += req.method == "HEAD" ? std::string("GET") : req.method;
        key += ' ';
        key += req.path;
        auto it = static_routes_.find(key);
        if (it != static_routes_.end()) {
            res.route = &routes_[it->second];
            return res;
        }
    }
    auto parts = split_path(req.path);
    std::set<std::string> allowed;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        std::map<std::string, std::string> params;
        if (!match(compiled_[i], parts, &params)) continue;
        const auto& route = routes_[i];
        bool method_ok = route.method == req.method || (req.method == "HEAD" && route.method == "GET");
        if (method_ok) {
            res.route = &route;
            res.params = std::move(params);
            return res;
        }
        allowed.insert(route.method);
        if (route.method == "GET") allowed.insert("HEAD");
    }
    if (!allowed.empty()) {
        res.immediate = Response::json_text(405, R"({"detail":"Method Not Allowed"})");
        std::string allow;
        for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        res.immediate.headers.emplace_back("allow", allow);
        apply_cors(req, res.immediate);
        return res;
    }
    // Starlette's redirect_slashes: the same path with the trailing slash toggled.
    if (req.path != "/") {
        std::string other = req.path.back() == '/' ? req.path.substr(0, req.path.size() - 1) : req.path + "/";
        auto other_parts = split_path(other);
        for (const auto& c : compiled_) {
            if (!match(c, other_parts, nullptr)) continue;
            Response r = Response::empty(307);
            std::string location;
            // Keep the raw (still encoded) path so the client retries the same resource.
            std::string raw_path = req.target.substr(0, req.target.find('?'));
            if (!raw_path.empty() && raw_path.back() == '/') raw_path.pop_back();
            else raw_path += '/';
            if (const std::string* host = req.header("host")) location = "http://" + *host;
            location += raw_path;
            if (!req.raw_query.empty()) location += "?" + req.raw_query;
            r.headers.emplace_back("location", location);
            apply_cors(req, r);
            res.immediate = std::move(r);
            return res;
        }
    }
    res.immediate = Response::json_text(404, R"({"detail":"Not Found"})");
    apply_cors(req, res.immediate);
    return res;
}

void decode_json_body(const Request& req, RouteContext& ctx) {
    if (req.body.empty() || !body_declared_json(req)) return;
    if (!agentd::json::is_valid_utf8(req.body))  // its generic 400, as for any undecodable body
        throw Error(ErrorCode::kBadRequest, "There was an error parsing the body");
    auto parsed = agentd::json::parse(req.body);
    if (!parsed.value) {
        validation::Issues issues;
        issues.add("json_invalid", bj::array{"body", static_cast<std::int64_t>(parsed.error_offset)},
                   "JSON decode error", bj::object{}, bj::object{{"error", parsed.error_message}});
        issues.throw_if_any();
    }
    ctx.body_json = std::move(*parsed.value);
}

Response Router::invoke(const Resolution& r, const Request& req) const {
    if (!r.route) return r.immediate;
    RouteContext ctx{req, r.params, {}, {}, {}};
    Response resp;
    try {
        if (r.route->doc.has_body) decode_json_body(req, ctx);
        if (r.route->requires_user) {
            const std::string* user = req.header("x-user-id");
            if (!user) {
                ctx.issues.add("missing", bj::array{"header", "x-user-id"}, "Field required", nullptr);
            } else if (user->empty()) {
                throw Error(ErrorCode::kUnauthorized, "X-User-ID header is required.");
            } else {
                ctx.user_id = latin1_header_text(*user);
            }
        }
        resp = r.route->handler(ctx);
    } catch (const Error& e) {
        resp = Response::json(http_status(e.code()), error_body(e));
    } catch (const std::exception& e) {
        spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, req.path, e.what());
        // The reference's shape for an unhandled failure (text, not JSON); the cause stays in the log.
        resp = Response::json_text(500, "Internal Server Error");
        resp.content_type = "text/plain; charset=utf-8";
    }
    apply_cors(req, resp);
    return resp;
}

std::optional<Response> Router::try_fast(const Resolution& r, const Request& req) const {
    if (!r.route || !r.route->fast) return std::nullopt;
    RouteContext ctx{req, r.params, {}, {}, {}};
    if (r.route->requires_user) {
        const std::string* user = req.header("x-user-id");
        if (!user || user->empty()) return std::nullopt;
        ctx.user_id = latin1_header_text(*user);
    }
    try {
        auto resp = r.route->fast(ctx);
        if (resp) apply_cors(req, *resp);
        return resp;
    } catch (const std::exception&) {
        return std::nullopt;  // the full handler will answer, with the proper error
    }
}

Response Router::handle(const Request& req) const {
    auto r = resolve(req);
    if (auto fast = try_fast(r, req)) return std::move(*fast);
    return invoke(r, req);
}

bj::object Router::openapi(const std::string& title, const std::string& version) const {
    bj::object doc;
    doc["openapi"] = "3.1.0";
    doc["info"] = bj::object{{"title", title}, {"version", version}};
    bj::object paths;
    for (const auto& route : routes_) {
        bj::object op;
        op["summary"] = route.doc.summary;
        if (!route.doc.tag.empty()) op["tags"] = bj::array{bj::value(route.doc.tag)};
        bj::array params;
        for (const auto& p : route.doc.params) {
            params.push_back(bj::object{{"name", p.name},
                                        {"in", p.in},
                                        {"required", p.required || p.in == "path"},
                                        {"schema", bj::object{{"type", p.type}}}});
        }
        if (route.requires_user)
            params.push_back(bj::object{{"name", "x-user-id"},
                                        {"in", "header"},
                                        {"required", true},
                                        {"schema", bj::object{{"type", "string"}}}});
        if (!params.empty()) op["parameters"] = std::move(params);
        if (route.doc.has_body)
            op["requestBody"] = bj::object{
                {"required", true},
                {"content", bj::object{{"application/json", bj::object{{"schema", bj::object{{"type", "object"}}}}}}}};
        bj::object responses;
        responses[std::to_string(route.doc.success_status)] = bj::object{{"description", "Successful Response"}};
        responses["422"] = bj::object{{"description", "Validation Error"}};
        op["responses"] = std::move(responses);
        std::string method = route.method;
        std::transform(method.begin(), method.end(), method.begin(), ::tolower);
        auto& item = paths[route.pattern];
        if (!item.is_object()) item = bj::object{};
        item.as_object()[method] = std::move(op);
    }
    doc["paths"] = std::move(paths);
    return doc;
}

}  // namespace agentd::http
