#include "service/credential_service.hpp"

#include "common/error.hpp"
#include "common/ids.hpp"
#include "service/agent_service.hpp"

namespace agentd::service {

using validation::Issues;


bj::object CredentialService::read_payload(const bj::object& data, const domain::CredentialRecord* stored) {
    Issues issues;
    bj::object incoming = data;
    if (stored) {
        // Echoed masks, blanks and omissions keep the stored secret (the web UI
        // sends back whatever it was shown).
        for (const auto& field : domain::secret_fields(stored->data)) {
            auto old = stored->data.find(field);
            if (old == stored->data.end() || !old->value().is_string()) continue;
            auto it = incoming.find(field);
            bool keep = it == incoming.end() || it->value().is_null() ||
                        (it->value().is_string() &&
                         (it->value().get_string().empty() ||
                          it->value().get_string() == domain::mask_secret(old->value().get_string())));
            bool same_type = incoming.contains("type") && incoming.at("type") == stored->data.at("type");
            if (keep && same_type) incoming[field] = old->value();
        }
    }
    auto parsed = domain::parse_credential_data(incoming, issues);
    issues.throw_if_any();
    return std::move(*parsed);
}

bj::object CredentialService::list(const std::string& user_id) {
    bj::array items;
    for (const auto& c : storage_.list_credentials(user_id)) items.push_back(domain::credential_view_json(c, true));
    auto total = static_cast<std::int64_t>(items.size());
    bj::object out;
    out["credentials"] = std::move(items);
    out["total"] = total;
    return out;
}

std::string CredentialService::create(const std::string& user_id, const bj::object& data) {
    std::optional<domain::CredentialRecord> stored;
    bool foreign_id = false;
    auto id = data.find("id");
    if (id != data.end() && id->value().is_string() && !id->value().get_string().empty()) {
        std::string wanted(id->value().get_string());
        stored = storage_.get_credential(user_id, wanted);
        foreign_id = !stored && storage_.credential_id_in_use(wanted);
    }
    domain::CredentialRecord rec;
    rec.user_id = user_id;
    rec.data = read_payload(data, stored ? &*stored : nullptr);
    // Never touch, nor reveal, another tenant's record. An empty id means "none
    // given", as the reference reads it: a fresh id, not a record named "".
    if (foreign_id || rec.data.at("id").as_string().empty()) rec.data["id"] = new_id();
    rec.id = std::string(rec.data.at("id").as_string());
    if (stored) rec.created_us = stored->created_us;
    return storage_.upsert_credential(std::move(rec)).id;
}

bj::object CredentialService::update(const std::string& user_id, const std::string& id, const bj::object& body) {
    // Read, merged and written in one transaction: a credential deleted
    // meanwhile stays deleted (404), and kept secrets are the stored ones.
    auto saved = storage_.update_credential(user_id, id, [&](const domain::CredentialRecord& stored) {
        bj::object data = read_payload(body, &stored);
        data["id"] = id;
        return data;
    });
    if (!saved) throw Error::not_found(not_found_detail("Credential", id));
    return domain::credential_view_json(*saved, true);
}

void CredentialService::remove(const std::string& user_id, const std::string& id) {
    if (!storage_.delete_credential(user_id, id)) throw Error::not_found(not_found_detail("Credential", id));
}

std::string CredentialService::require_visible(const std::string& user_id, const std::string& id) {
    auto record = storage_.get_credential(user_id, id);
    if (!record) throw Error::not_found(not_found_detail("Credential", id));
    const auto* type = record->data.if_contains("type");
    return type && type->is_string() ? std::string(type->get_string()) : std::string();
}

}  // namespace agentd::service
