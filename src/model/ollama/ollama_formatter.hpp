#pragma once
// Request bodies of Ollama's native /api/chat (spec/models.md §4.2, §4.10, §5):
// string contents, images as raw base64 in `images`, one assistant message per
// tool call, tool results as `tool` messages named by the tool.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/request_body.hpp"
#include "model/media.hpp"

namespace agentd::model::ollama {

std::vector<std::string> default_input_types();

struct FormatOptions {
    std::optional<std::vector<std::string>> input_types;
    MediaResolver resolver;
    /// Top-level keys merged after `think` (caller kwargs).
    bj::object extra_body;
};

bj::array format_messages(const ChatRequest& request, const FormatOptions& options = {});

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options = {});
/// format_body as one object, `tools` last (tests; callers that inspect the body).
bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options = {});

void validate_parameters(const bj::object& parameters);

}  // namespace agentd::model::ollama
