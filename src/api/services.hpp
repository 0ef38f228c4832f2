#pragma once
// Everything the route handlers call, wired once in main.cpp.
#include <functional>
#include <string>

#include "http/router.hpp"
#include "service/agent_service.hpp"
#include "service/catalog_service.hpp"
#include "service/chat_service.hpp"
#include "service/credential_service.hpp"
#include "service/session_service.hpp"

namespace agentd::api {

struct Services {
    service::AgentService& agents;
    service::CredentialService& credentials;
    service::SessionService& sessions;
    service::CatalogService& catalog;
    service::ChatService& chat;
    storage::Storage& storage;
    bus::MessageBus& bus;
    std::string version;
};

/// Registers every route of the API on `router`.
void register_routes(http::Router& router, Services& services);

}  // namespace agentd::api
