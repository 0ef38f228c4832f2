#pragma once
// Building a chat model from a decrypted credential (spec/models.md §1.1, §2.2):
// the class comes from the credential's `type`, never from the config's.
#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/chat_model.hpp"
#include "model/http_chat_model.hpp"
#include "model/http_transport.hpp"

namespace agentd::model {

/// Creates the provider model for `credential_data` (e.g. {"type":
/// "openai_credential","api_key":…,"base_url":…}), calling it through
/// `transport` (make_http_transport(), or a test double). Base URLs default per
/// type; a catalogued model name sets the formatter's media list from its card.
/// Throws std::invalid_argument for an unknown credential type, a missing
/// api_key, or invalid parameters (the reference fails the run the same way).
std::unique_ptr<ChatModel> make_chat_model(std::shared_ptr<HttpTransport> transport,
                                           const bj::object& credential_data,
                                           const std::string& model, const bj::object& parameters,
                                           CallSettings settings = {});

/// The model card's `input_types` for (credential type, model name), from the
/// embedded catalogue; nullopt for uncatalogued names.
std::optional<std::vector<std::string>> catalogued_input_types(const std::string& credential_type,
                                                               const std::string& model);


/// Checks `parameters` against the provider's Parameters model (for session
/// create/patch); throws std::invalid_argument naming the field.
void validate_chat_parameters(const std::string& credential_type, const std::string& model,
                              const bj::object& parameters);

/// The class default context size used by compaction (Trap 6).
std::int64_t default_context_size(const std::string& credential_type);

}  // namespace agentd::model
