#pragma once
// Credentials: the registered types, validation of `data`, and secret masking.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/validation.hpp"
#include "domain/model_schema.hpp"

namespace agentd::domain {

namespace bj = boost::json;

struct CredentialType {
    std::string_view type;        ///< discriminator, e.g. "openai_credential"
    std::vector<FieldSpec> fields;  ///< id, name, type, then the provider fields
};

/// Built-in types in registry order (the order of GET /credential/schemas).
const std::vector<CredentialType>& credential_types();
const CredentialType* find_credential_type(std::string_view type);

struct CredentialRecord {
    std::string id;
    std::string user_id;
    std::int64_t created_us = 0;
    std::int64_t updated_us = 0;
    bj::object data;  ///< canonical credential JSON, secrets in clear (never leaves the process)
};

/// Validates a credential payload (the request's `data`, loc ["body","data"]) into its
/// canonical form. Returns nullopt when issues were recorded.
std::optional<bj::object> parse_credential_data(const bj::value& data, validation::Issues& issues);

/// Names of the secret fields of the payload's type.
std::vector<std::string> secret_fields(const bj::object& data);

/// "sk-l••••••••-123" style mask (first 4 + 8 bullets + last 4 when longer than 8).
std::string mask_secret(std::string_view secret);

/// CredentialView JSON with every secret masked.
bj::object credential_view_json(const CredentialRecord& r, bool editable);

/// "Openai" from "openai_credential" (Python str.title() of the stem).
std::string credential_base_name(std::string_view type);

}  // namespace agentd::domain
