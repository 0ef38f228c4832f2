#pragma once
// A provider request body whose `tools` member stays JSON text until it is sent.
#include <boost/json.hpp>
#include <string>

namespace agentd::model {

namespace bj = boost::json;

/// The body of one model call: `object` plus, when `tools_json` is not empty,
/// a `tools` member holding that text (model/tool_schema.hpp renders it from
/// cached schema texts). The tool list is most of a typical request; kept as
/// text it is neither rebuilt as JSON objects nor serialized again per call.
struct RequestBody {
    bj::object object;
    std::string tools_json;

    /// Compact JSON text of the whole body, `tools` last.
    std::string write() const;
    /// The whole body as one object (tests; callers that inspect it).
    bj::object to_object() const;
};

}  // namespace agentd::model
