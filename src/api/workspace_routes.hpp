#pragma once
// The workspace file routes (spec api-extended §1.3.10–13): /workspace/directories,
// /workspace/status, /workspace/files/download-token and /workspace/files.
#include "http/router.hpp"
#include "service/workspace_service.hpp"

namespace agentd::api {

/// Registers the four routes on `router`. Every handler runs on the blocking pool;
/// GET /workspace/files answers with a streamed body. `workspaces` must outlive
/// the router.
void register_workspace_routes(http::Router& router, service::WorkspaceService& workspaces);

}  // namespace agentd::api
