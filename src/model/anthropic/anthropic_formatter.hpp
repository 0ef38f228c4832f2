#pragma once
// Request bodies of Anthropic's Messages API (spec/models.md §3.5, §4.2, §4.5,
// §5.3): system prompt lifted to `system`, signed thinking echoed, tool results
// merged into one user turn with their media inline.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/request_body.hpp"
#include "model/media.hpp"

namespace agentd::model::anthropic {

std::vector<std::string> default_input_types();

struct FormatOptions {
    std::optional<std::vector<std::string>> input_types;
    MediaResolver resolver;
    /// Top-level keys placed right after `stream` (caller kwargs). A `thinking`
    /// or `output_config` here wins over the parameters.
    bj::object extra_body;
};

/// The `messages` array, including a leading `system` turn when the history has one.
bj::array format_messages(const ChatRequest& request, const FormatOptions& options = {});

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options = {});
/// format_body as one object, `tools` last (tests; callers that inspect the body).
bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options = {});

void validate_parameters(const bj::object& parameters);

}  // namespace agentd::model::anthropic
