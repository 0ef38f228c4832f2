#pragma once
#include <boost/json.hpp>
#include <string>

#include "storage/storage.hpp"

namespace agentd::service {

namespace bj = boost::json;

/// Credentials of one owner. Secrets never leave in clear: every response masks them,
/// and a masked, blank or missing secret on write keeps the stored one.
class CredentialService {
public:
    explicit CredentialService(storage::Storage& storage) : storage_(storage) {}

    bj::object list(const std::string& user_id);
    /// POST's `data`; returns the credential id. A client-chosen id of the caller's
    /// own credential updates it; one held by another tenant is replaced by a fresh id.
    std::string create(const std::string& user_id, const bj::object& data);
    /// PATCH's `data`: a full replacement; returns the CredentialView.
    bj::object update(const std::string& user_id, const std::string& id, const bj::object& data);
    void remove(const std::string& user_id, const std::string& id);

    /// 404 unless the caller can see the credential; its type otherwise.
    std::string require_visible(const std::string& user_id, const std::string& id);

private:
    /// Validates `data`, restoring kept secrets from `stored`.
    bj::object read_payload(const bj::object& data, const domain::CredentialRecord* stored);

    storage::Storage& storage_;
};

}  // namespace agentd::service
