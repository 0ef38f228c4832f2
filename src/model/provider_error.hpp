#pragma once
// Errors a provider reports inside a body: an HTTP error response, or an error
// event in the middle of a stream. Both become ModelError with the best HTTP
// status we can name, so that error classification (api-core.md §8) sees the
// provider's real failure class rather than the stream's 200.
#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "model/chat_model.hpp"

namespace agentd::model {

/// The HTTP status of a provider error type name (`rate_limit_error`,
/// `overloaded_error`, `invalid_request_error`, Google's `RESOURCE_EXHAUSTED`…);
/// 0 when unknown.
int status_for_error_type(std::string_view type);

/// The human-readable message of an error body (`error.message`, `error`, or
/// the raw text, shortened) for logs.
std::string error_message_of(std::string_view body);

/// Parses one stream event; malformed JSON is a ModelError (upstream, 502).
bj::object parse_event_or_throw(std::string_view payload, std::string_view provider);

/// Throws ModelError(status, false, message) when `event` carries an `error`
/// member (OpenAI-compatible, Gemini, Ollama) or is an Anthropic `error` event.
/// A status that cannot be named is 502: the upstream failed mid-stream.
void throw_if_error_payload(const bj::object& event);

}  // namespace agentd::model
