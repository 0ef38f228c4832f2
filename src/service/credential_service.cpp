#include "service/credential_service.hpp"

#include "common/error.hpp"
#include "service/agent_service.hpp"

namespace agentd::service {

using validation::Issues;

namespace {

/// The `data` member of a {data: dict} body, with pydantic's errors.
const bj::value* data_member(const bj::value& body, Issues& issues) {
    bj::array loc{"body"};
    const bj::object* obj = validation::as_model(body, loc, issues);
    if (!obj) return nullptr;
    auto it = obj->find("data");
    if (it == obj->end()) {
        issues.missing(bj::array{"body", "data"}, body);
        return nullptr;
    }
    if (!validation::as_dict(it->value(), bj::array{"body", "data"}, issues)) return nullptr;
    return &it->value();
}

}  // namespace

bj::object CredentialService::read_payload(const bj::value& body, const domain::CredentialRecord* stored) {
    Issues issues;
    const bj::value* data = data_member(body, issues);
    issues.throw_if_any();
    bj::object incoming = data->as_object();
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

std::string CredentialService::create(const std::string& user_id, const bj::value& body) {
    // A client-chosen id of the caller's own credential makes the POST an update.
    std::optional<domain::CredentialRecord> stored;
    if (body.is_object()) {
        const auto& obj = body.get_object();
        auto d = obj.find("data");
        if (d != obj.end() && d->value().is_object()) {
            auto id = d->value().get_object().find("id");
            if (id != d->value().get_object().end() && id->value().is_string())
                stored = storage_.get_credential(user_id, std::string(id->value().get_string()));
        }
    }
    domain::CredentialRecord rec;
    rec.user_id = user_id;
    rec.data = read_payload(body, stored ? &*stored : nullptr);
    rec.id = std::string(rec.data.at("id").as_string());
    if (stored) rec.created_us = stored->created_us;
    return storage_.upsert_credential(std::move(rec)).id;
}

bj::object CredentialService::update(const std::string& user_id, const std::string& id, const bj::value& body) {
    auto stored = storage_.get_credential(user_id, id);
    if (!stored) throw Error::not_found(not_found_detail("Credential", id));
    domain::CredentialRecord rec;
    rec.user_id = user_id;
    rec.data = read_payload(body, &*stored);
    rec.data["id"] = id;
    rec.id = id;
    rec.created_us = stored->created_us;
    auto saved = storage_.upsert_credential(std::move(rec));
    return domain::credential_view_json(saved, true);
}

void CredentialService::remove(const std::string& user_id, const std::string& id) {
    if (!storage_.delete_credential(user_id, id)) throw Error::not_found(not_found_detail("Credential", id));
}

void CredentialService::require_visible(const std::string& user_id, const std::string& id) {
    if (!storage_.get_credential(user_id, id)) throw Error::not_found(not_found_detail("Credential", id));
}

}  // namespace agentd::service
