#pragma once
// A provider request body whose `tools` member stays JSON text until it is sent.
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <vector>

namespace agentd::model {

namespace bj = boost::json;

/// A tool list rendered as JSON text, shared by every request that sends it.
using ToolsText = std::shared_ptr<const std::string>;

/// The body of one model call: `object` plus, when `tools_json` is set, a
/// `tools` member holding that text (model/tool_schema.hpp renders it from
/// cached schema texts). The tool list is most of a typical request; kept as
/// text it is neither rebuilt as JSON objects nor serialized again per call.
struct RequestBody {
    bj::object object;
    ToolsText tools_json;

    /// Compact JSON text of the whole body, `tools` last.
    std::string write() const;
    /// The same bytes as write(), in pieces: an own prefix, then shared texts
    /// (the tool list, the closing brace) that are sent without being copied.
    std::string write_prefix(std::vector<std::shared_ptr<const std::string>>& shared_tail) const;
    /// The whole body as one object (tests; callers that inspect it).
    bj::object to_object() const;
};

}  // namespace agentd::model
