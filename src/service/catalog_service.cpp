#include "service/catalog_service.hpp"

#include <stdexcept>

#include "common/embedded_assets.hpp"
#include "common/json.hpp"
#include "domain/credential.hpp"

namespace agentd::service {

namespace {

std::string asset_text(std::string_view path) {
    auto data = assets::find(path);
    if (!data) throw std::logic_error("missing embedded asset " + std::string(path));
    return std::string(*data);
}

std::shared_ptr<const std::string> shared_text(std::string_view path) {
    return std::make_shared<const std::string>(asset_text(path));
}

std::map<std::string, std::shared_ptr<const std::string>> load(std::string_view path) {
    std::map<std::string, std::shared_ptr<const std::string>> out;
    auto doc = json::parse_trusted(asset_text(path)).as_object();
    // Every registered provider answers, with [] when it has no card of this kind.
    for (const auto& type : domain::credential_types()) {
        boost::json::array models;
        if (auto it = doc.find(type.type); it != doc.end()) models = it->value().as_array();
        std::string body = "{\"models\":";
        json::write_to(body, models);
        body += ",\"total\":" + std::to_string(models.size()) + "}";
        out.emplace(std::string(type.type), std::make_shared<const std::string>(std::move(body)));
    }
    return out;
}

}  // namespace

CatalogService::CatalogService()
    : chat_(load("assets/catalog/chat_models.json")),
      embedding_(load("assets/catalog/embedding_models.json")),
      tts_(load("assets/catalog/tts_models.json")),
      agent_schema_(shared_text("assets/schemas/agent_schema.json")),
      agent_schema_v2_(shared_text("assets/schemas/agent_schema_v2.json")),
      credential_schemas_(shared_text("assets/schemas/credential_schemas.json")) {}

std::shared_ptr<const std::string> CatalogService::models(CatalogKind kind, const std::string& provider) const {
    const auto& table = kind == CatalogKind::kChat ? chat_ : kind == CatalogKind::kEmbedding ? embedding_ : tts_;
    auto it = table.find(provider);
    return it == table.end() ? nullptr : it->second;
}

}  // namespace agentd::service
