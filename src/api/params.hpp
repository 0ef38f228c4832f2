#pragma once
// Reading request parameters with FastAPI's errors. Issues accumulate in the
// RouteContext; call ctx.issues.throw_if_any() once every parameter was read.
#include <boost/json/value.hpp>
#include <optional>
#include <string>

#include "http/router.hpp"

namespace agentd::api {

/// The JSON body (the router has usually parsed it already). Missing body →
/// "missing" at ["body"]; malformed JSON → "json_invalid" at ["body", offset]; a
/// body sent with a non-JSON Content-Type → "model_attributes_type" at ["body"]
/// (FastAPI validates its raw bytes). Returns null after recording an issue.
std::optional<boost::json::value> read_body(http::RouteContext& ctx);

/// A required string query parameter ("missing" at ["query", name]).
std::optional<std::string> required_query(http::RouteContext& ctx, const std::string& name);
std::optional<std::string> optional_query(http::RouteContext& ctx, const std::string& name);
/// An int query parameter with inclusive bounds.
std::optional<std::int64_t> int_query(http::RouteContext& ctx, const std::string& name,
                                      std::optional<std::int64_t> ge, std::optional<std::int64_t> le);

http::Response json_response(int status, const boost::json::value& v);

}  // namespace agentd::api
