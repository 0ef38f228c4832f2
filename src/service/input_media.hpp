#pragma once
// A message's attachments the model cannot take (spec/runtime.md §4.2): on
// accepting the input, each data block of a media type outside the model's
// input types is replaced, in the copy the context keeps, by a reminder naming
// where the file is; an inline one is first saved to the workspace
// (workspace/context_files.hpp), so the agent can still work on it with its
// tools. The message log keeps what the user sent.
#include <boost/json.hpp>
#include <optional>
#include <string>

#include "model/chat_model.hpp"
#include "workspace/workspace.hpp"

namespace agentd::service {

/// The context copy of `inputs` (message objects) for `model`, or nothing when
/// the model takes every block as it is. Without a workspace an inline file
/// cannot be saved: its reminder then only names the media type. Blocking
/// (writes files); a file that cannot be written is logged and treated the
/// same way.
std::optional<boost::json::array> inputs_for_model(const boost::json::array& inputs, const model::ChatModel& model,
                                                   const workspace::Workspace* workspace,
                                                   const std::string& session_id);

}  // namespace agentd::service
