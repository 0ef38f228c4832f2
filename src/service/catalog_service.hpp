#pragma once
// The model catalogues (chat, embedding, TTS) and the static schemas, loaded
// once from the embedded assets and served as pre-rendered bodies.
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace agentd::service {

enum class CatalogKind { kChat, kEmbedding, kTts };

class CatalogService {
public:
    CatalogService();

    /// {"models": [...], "total": n} for a credential type, or nullopt for an
    /// unknown provider.
    std::shared_ptr<const std::string> models(CatalogKind kind, const std::string& provider) const;

    const std::shared_ptr<const std::string>& agent_schema() const { return agent_schema_; }
    const std::shared_ptr<const std::string>& agent_schema_v2() const { return agent_schema_v2_; }
    const std::shared_ptr<const std::string>& credential_schemas() const { return credential_schemas_; }

private:
    using Bodies = std::map<std::string, std::shared_ptr<const std::string>>;
    Bodies chat_, embedding_, tts_;
    std::shared_ptr<const std::string> agent_schema_, agent_schema_v2_, credential_schemas_;
};

}  // namespace agentd::service
