#pragma once
// Request bodies of Gemini's generateContent REST API, as the google-genai SDK
// sends them (camelCase; spec/models.md §3.5, §4.2, §4.6, §5): the system
// prompt is the first `user` turn, thinking goes back as `thought` parts, and
// every medium is inlined.
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/request_body.hpp"
#include "model/media.hpp"

namespace agentd::model::gemini {

std::vector<std::string> default_input_types();

struct FormatOptions {
    std::optional<std::vector<std::string>> input_types;
    MediaResolver resolver;
    /// Keys merged last into `generationConfig` (caller kwargs).
    bj::object extra_config;
};

/// The `contents` array.
bj::array format_contents(const ChatRequest& request, const FormatOptions& options = {});

RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options = {});
/// format_body as one object, `tools` last (tests; callers that inspect the body).
bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options = {});

void validate_parameters(const bj::object& parameters);

}  // namespace agentd::model::gemini
