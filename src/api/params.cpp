#include "api/params.hpp"

#include "common/validation.hpp"

namespace agentd::api {

namespace bj = boost::json;

std::optional<bj::value> read_body(http::RouteContext& ctx) {
    const std::string& body = ctx.request.body;
    if (body.empty()) {
        ctx.issues.add("missing", bj::array{"body"}, "Field required", nullptr);
        return std::nullopt;
    }
    if (!ctx.body_json) http::decode_json_body(ctx.request, ctx);  // a handler called without the router
    std::optional<bj::value> value = std::move(ctx.body_json);
    ctx.body_json.reset();
    if (!value) {
        // Not sent as JSON: FastAPI validates the raw bytes, which no model accepts.
        ctx.issues.add("model_attributes_type", bj::array{"body"},
                       "Input should be a valid dictionary or object to extract fields from",
                       bj::value(http::to_valid_utf8(body)));
        return std::nullopt;
    }
    if (value->is_null()) {  // FastAPI treats a JSON null body as absent
        ctx.issues.add("missing", bj::array{"body"}, "Field required", nullptr);
        return std::nullopt;
    }
    return value;
}

std::optional<std::string> required_query(http::RouteContext& ctx, const std::string& name) {
    if (const std::string* v = ctx.request.query_param(name)) return *v;
    ctx.issues.add("missing", bj::array{"query", name}, "Field required", nullptr);
    return std::nullopt;
}

std::optional<std::string> optional_query(http::RouteContext& ctx, const std::string& name) {
    if (const std::string* v = ctx.request.query_param(name)) return *v;
    return std::nullopt;
}

std::optional<std::int64_t> int_query(http::RouteContext& ctx, const std::string& name,
                                      std::optional<std::int64_t> ge, std::optional<std::int64_t> le) {
    const std::string* raw = ctx.request.query_param(name);
    if (!raw) return std::nullopt;
    bj::array loc{"query", name};
    auto v = validation::as_int(bj::value(*raw), loc, ctx.issues);
    if (!v) return std::nullopt;
    if (ge && !validation::check_bound(static_cast<double>(*v), bj::value(*raw), validation::Bound::kGe,
                                       static_cast<double>(*ge), bj::value(*ge), loc, ctx.issues))
        return std::nullopt;
    if (le && !validation::check_bound(static_cast<double>(*v), bj::value(*raw), validation::Bound::kLe,
                                       static_cast<double>(*le), bj::value(*le), loc, ctx.issues))
        return std::nullopt;
    return v;
}

http::Response json_response(int status, const bj::value& v) { return http::Response::json(status, v); }

}  // namespace agentd::api
