#pragma once
// Request bodies of the OpenAI Chat Completions API and of the services that
// speak it with their own quirks: DashScope (compatible mode), DeepSeek,
// Moonshot and xAI's REST endpoint (spec/models.md §3.5, §4.2-4.3, §4.7-4.9, §5).
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/request_body.hpp"
#include "model/media.hpp"

namespace agentd::model::openai {

enum class Vendor { kOpenAI, kDashScope, kDeepSeek, kMoonshot, kXai };

/// The formatter's default `input_types` (a model card's list replaces them).
std::vector<std::string> default_input_types(Vendor vendor);

struct FormatOptions {
    Vendor vendor = Vendor::kOpenAI;
    /// The model card's `input_types`; the vendor default when unset.
    std::optional<std::vector<std::string>> input_types;
    /// Loads `url` media that must be inlined; unset: a text note replaces them.
    MediaResolver resolver;
    /// Top-level keys merged last (caller kwargs; the no-thinking strategy of
    /// structured output). They override what the parameters produced.
    bj::object extra_body;
};

/// The `messages` array for `request` (system prompt first).
bj::array format_messages(const ChatRequest& request, const FormatOptions& options = {});

/// The whole streaming request body. Throws std::invalid_argument for invalid
/// parameters or a forced tool that is not offered.
RequestBody format_body(const ChatRequest& request, const std::string& model,
                        const bj::object& parameters, const FormatOptions& options = {});
/// format_body as one object, `tools` last (tests; callers that inspect the body).
bj::object format_request(const ChatRequest& request, const std::string& model,
                          const bj::object& parameters, const FormatOptions& options = {});

/// Reads every parameter of the vendor's `Parameters` model, throwing what a
/// call would throw.
void validate_parameters(Vendor vendor, const std::string& model, const bj::object& parameters);

}  // namespace agentd::model::openai
