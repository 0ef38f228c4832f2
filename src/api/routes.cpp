#include <boost/json.hpp>
#include <array>
#include <mutex>

#include "api/params.hpp"
#include "api/services.hpp"
#include "common/json.hpp"
#include "domain/agent.hpp"
#include "domain/chat_input.hpp"

// Each handler: read parameters (collecting 422 issues), call one service, serialise.
namespace agentd::api {

namespace bj = boost::json;
using http::Response;
using http::Route;
using http::RouteContext;

namespace {

std::string health_body(bool storage_ok, bool bus_ok, const std::string& version) {
    bj::object components;
    components["storage"] = storage_ok ? "ok" : "not_ready";
    components["message_bus"] = bus_ok ? "ok" : "not_ready";
    for (const char* c : {"workspace_manager", "background_task_manager", "chat_run_registry", "scheduler_manager",
                          "resource_access_service", "chat_service", "session_service"})
        components[c] = "ok";
    components["mcp_hubs"] = "disabled";
    components["skill_hubs"] = "disabled";
    components["knowledge_base"] = "disabled";
    bool ready = storage_ok && bus_ok;
    bj::object body;
    body["status"] = ready ? "ok" : "not_ready";
    body["version"] = version;
    body["components"] = std::move(components);
    return json::write(body);
}

Response health(Services& s, RouteContext& ctx) {
    ctx.issues.throw_if_any();
    // The four possible bodies are rendered once; a probe costs two flag reads.
    static const std::array<std::shared_ptr<const std::string>, 4> kBodies = [&] {
        std::array<std::shared_ptr<const std::string>, 4> out;
        for (int i = 0; i < 4; ++i) out[i] = std::make_shared<const std::string>(health_body(i & 1, i & 2, s.version));
        return out;
    }();
    bool storage_ok = s.storage.healthy();
    bool bus_ok = s.bus.healthy();
    Response r;
    r.status = storage_ok && bus_ok ? 200 : 503;
    r.shared_body = kBodies[(storage_ok ? 1 : 0) | (bus_ok ? 2 : 0)];
    return r;
}

Response shared(std::shared_ptr<const std::string> body) {
    Response r;
    r.shared_body = std::move(body);
    return r;
}

/// The `data` dict of a {data: dict} credential body.
std::optional<bj::object> read_data_body(RouteContext& ctx) {
    auto body = read_body(ctx);
    if (!body) return std::nullopt;
    const bj::object* obj = validation::as_model(*body, bj::array{"body"}, ctx.issues);
    if (!obj) return std::nullopt;
    auto it = obj->find("data");
    if (it == obj->end()) {
        ctx.issues.missing(bj::array{"body", "data"}, *body);
        return std::nullopt;
    }
    if (!validation::as_dict(it->value(), bj::array{"body", "data"}, ctx.issues)) return std::nullopt;
    return it->value().get_object();
}

Response catalog(Services& s, service::CatalogKind kind, RouteContext& ctx) {
    auto provider = required_query(ctx, "provider");
    ctx.issues.throw_if_any();
    auto body = s.catalog.models(kind, *provider);
    if (!body) throw Error::not_found("Provider '" + *provider + "' not found.");
    return shared(std::move(body));
}

}  // namespace

void register_routes(http::Router& router, Services& s) {
    using http::ParamDoc;
    using http::RouteDoc;
    const ParamDoc agent_q{"agent_id", "query", true};
    const ParamDoc session_p{"session_id", "path", true};

    router.add(Route{"GET", "/health", [&s](RouteContext& c) { return health(s, c); },
                     RouteDoc{"Service health", "health"}, true, /*blocking=*/false});

    // ---- agents
    router.add(Route{"GET", "/agent/schema",
                     [&s](RouteContext&) { return shared(s.catalog.agent_schema()); },
                     RouteDoc{"Agent form schema (deprecated)", "agent"}, false, false});
    router.add(Route{"GET", "/agent/schema/v2",
                     [&s](RouteContext&) { return shared(s.catalog.agent_schema_v2()); },
                     RouteDoc{"AgentData JSON schema", "agent"}, false, false});
    router.add(Route{"GET", "/agent/", [&s](RouteContext& c) {
                         c.issues.throw_if_any();
                         return json_response(200, s.agents.list(c.user_id));
                     },
                     RouteDoc{"List agents", "agent"}});
    router.add(Route{"POST", "/agent/", [&s](RouteContext& c) {
                         auto body = read_body(c);
                         bj::object data;
                         if (body) data = domain::agent_data_from_create(*body, c.issues);
                         c.issues.throw_if_any();
                         auto id = s.agents.create(c.user_id, std::move(data));
                         return json_response(201, bj::object{{"agent_id", id}});
                     },
                     RouteDoc{"Create an agent", "agent", {}, true, 201}});
    router.add(Route{"PATCH", "/agent/{agent_id}", [&s](RouteContext& c) {
                         auto body = read_body(c);
                         bj::object patch;
                         if (body) patch = domain::parse_agent_update(*body, c.issues);
                         c.issues.throw_if_any();
                         return json_response(200, s.agents.update(c.user_id, c.path_param("agent_id"), patch));
                     },
                     RouteDoc{"Update an agent", "agent", {{"agent_id", "path", true}}, true}});
    router.add(Route{"DELETE", "/agent/{agent_id}", [&s](RouteContext& c) {
                         c.issues.throw_if_any();
                         s.agents.remove(c.user_id, c.path_param("agent_id"));
                         return Response::empty(204);
                     },
                     RouteDoc{"Delete an agent and its sessions", "agent", {{"agent_id", "path", true}}, false, 204}});

    // ---- credentials
    router.add(Route{"GET", "/credential/schemas",
                     [&s](RouteContext&) { return shared(s.catalog.credential_schemas()); },
                     RouteDoc{"Credential type schemas", "credential"}, false, false});
    router.add(Route{"GET", "/credential/", [&s](RouteContext& c) {
                         c.issues.throw_if_any();
                         return json_response(200, s.credentials.list(c.user_id));
                     },
                     RouteDoc{"List credentials (secrets masked)", "credential"}});
    router.add(Route{"POST", "/credential/", [&s](RouteContext& c) {
                         auto data = read_data_body(c);
                         c.issues.throw_if_any();
                         auto id = s.credentials.create(c.user_id, *data);
                         return json_response(201, bj::object{{"credential_id", id}});
                     },
                     RouteDoc{"Create a credential", "credential", {}, true, 201}});
    router.add(Route{"PATCH", "/credential/{credential_id}", [&s](RouteContext& c) {
                         auto data = read_data_body(c);
                         c.issues.throw_if_any();
                         return json_response(200,
                                              s.credentials.update(c.user_id, c.path_param("credential_id"), *data));
                     },
                     RouteDoc{"Replace a credential", "credential", {{"credential_id", "path", true}}, true}});
    router.add(Route{"DELETE", "/credential/{credential_id}", [&s](RouteContext& c) {
                         c.issues.throw_if_any();
                         s.credentials.remove(c.user_id, c.path_param("credential_id"));
                         return Response::empty(204);
                     },
                     RouteDoc{"Delete a credential", "credential", {{"credential_id", "path", true}}, false, 204}});

    // ---- model catalogues (no identity needed)
    const ParamDoc provider_q{"provider", "query", true};
    router.add(Route{"GET", "/model/", [&s](RouteContext& c) { return catalog(s, service::CatalogKind::kChat, c); },
                     RouteDoc{"Chat model catalogue", "model", {provider_q}}, false, false});
    router.add(Route{"GET", "/embedding-model/",
                     [&s](RouteContext& c) { return catalog(s, service::CatalogKind::kEmbedding, c); },
                     RouteDoc{"Embedding model catalogue", "model", {provider_q}}, false, false});
    router.add(Route{"GET", "/tts-model/", [&s](RouteContext& c) { return catalog(s, service::CatalogKind::kTts, c); },
                     RouteDoc{"TTS model catalogue", "model", {provider_q}}, false, false});

    // ---- sessions
    router.add(Route{"GET", "/sessions/", [&s](RouteContext& c) {
                         auto agent_id = required_query(c, "agent_id");
                         c.issues.throw_if_any();
                         Response r;
                         r.shared_body = s.sessions.list_body(c.user_id, *agent_id);
                         return r;
                     },
                     RouteDoc{"List the caller's sessions of an agent", "sessions", {agent_q}}, true, true,
                     [&s](RouteContext& c) -> std::optional<Response> {
                         const std::string* agent_id = c.request.query_param("agent_id");
                         if (!agent_id) return std::nullopt;
                         auto body = s.sessions.cached_list_body(c.user_id, *agent_id);
                         if (!body) return std::nullopt;
                         Response r;
                         r.shared_body = std::move(body);
                         return r;
                     }});
    router.add(Route{"POST", "/sessions/", [&s](RouteContext& c) {
                         auto body = read_body(c);
                         service::CreateSessionInput input;
                         if (body) input = service::parse_create_session(*body, c.issues);
                         c.issues.throw_if_any();
                         auto id = s.sessions.create(c.user_id, input);
                         return json_response(201, bj::object{{"session_id", id}});
                     },
                     RouteDoc{"Create a session", "sessions", {}, true, 201}});
    router.add(Route{"PATCH", "/sessions/{session_id}", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         auto body = read_body(c);
                         service::SessionPatch patch;
                         if (body) patch = service::parse_session_patch(*body, c.issues);
                         c.issues.throw_if_any();
                         return json_response(200, s.sessions.patch(c.user_id, c.path_param("session_id"), patch));
                     },
                     RouteDoc{"Update a session's configuration", "sessions", {session_p, agent_q}, true}});
    router.add(Route{"DELETE", "/sessions/{session_id}", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         c.issues.throw_if_any();
                         s.sessions.remove(c.user_id, c.path_param("session_id"));
                         return Response::empty(204);
                     },
                     RouteDoc{"Delete a session", "sessions", {session_p, agent_q}, false, 204}});
    router.add(Route{"GET", "/sessions/{session_id}/messages", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         auto before = optional_query(c, "before");
                         int_query(c, "offset", std::nullopt, std::nullopt);  // deprecated: checked, ignored
                         auto limit = int_query(c, "limit", 1, 200);
                         c.issues.throw_if_any();
                         return json_response(200, s.sessions.messages(c.user_id, c.path_param("session_id"), before,
                                                                       static_cast<int>(limit.value_or(50))));
                     },
                     RouteDoc{"A page of the session's message log",
                              "sessions",
                              {session_p, agent_q, {"before", "query"}, {"offset", "query", false, "integer"},
                               {"limit", "query", false, "integer"}}}});
    router.add(Route{"GET", "/sessions/{session_id}/status", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         c.issues.throw_if_any();
                         return json_response(200, s.sessions.status(c.user_id, c.path_param("session_id")));
                     },
                     RouteDoc{"Derived session status", "sessions", {session_p, agent_q}}});

    // ---- chat runtime
    router.add(Route{"POST", "/chat/", [&s](RouteContext& c) {
                         auto body = read_body(c);
                         std::optional<domain::ChatRequest> request;
                         if (body) request = domain::parse_chat_request(*body, c.issues);
                         c.issues.throw_if_any();
                         return json_response(200, s.chat.start(c.user_id, *request));
                     },
                     RouteDoc{"Start a chat run (events arrive on the session stream)", "chat", {}, true}});
    router.add(Route{"POST", "/sessions/{session_id}/interrupt", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         c.issues.throw_if_any();
                         return json_response(202, s.chat.interrupt(c.user_id, c.path_param("session_id")));
                     },
                     RouteDoc{"Interrupt the session's run", "sessions", {session_p, agent_q}, false, 202}});
    router.add(Route{"GET", "/sessions/{session_id}/stream", [&s](RouteContext& c) {
                         required_query(c, "agent_id");
                         // Resume point: the Last-Event-ID header, or ?last_event_id= for EventSource-less clients.
                         std::optional<bus::EntryId> resume;
                         std::optional<std::string> last;  // as text: a 422 echoes it in JSON
                         if (const std::string* h = c.request.header("last-event-id"))
                             last = http::latin1_header_text(*h);
                         else if (const std::string* q = c.request.query_param("last_event_id"))
                             last = *q;
                         if (last && !last->empty()) {
                             resume = bus::EntryId::parse(*last);
                             if (!resume)
                                 c.issues.add("value_error", bj::array{"header", "last-event-id"},
                                              "Value error, not an event id", bj::value(*last),
                                              bj::object{{"error", bj::object{}}});
                         }
                         c.issues.throw_if_any();
                         s.sessions.status(c.user_id, c.path_param("session_id"));  // 404 before any byte
                         Response r;
                         r.content_type = "text/event-stream; charset=utf-8";
                         r.headers.emplace_back("cache-control", "no-cache");
                         r.headers.emplace_back("x-accel-buffering", "no");
                         r.stream = s.chat.stream(c.path_param("session_id"), resume);
                         return r;
                     },
                     RouteDoc{"Server-sent events of the session (replay, then live)",
                              "sessions",
                              {session_p, agent_q, {"last_event_id", "query"}}}});

    // ---- documentation (built from this very table)
    // Rendered on first use, when every route is registered; once_flag makes the
    // first concurrent requests agree.
    struct OpenApiCache {
        std::once_flag once;
        std::string text;
    };
    auto spec = std::make_shared<OpenApiCache>();
    router.add(Route{"GET", "/openapi.json", [&router, &s, spec](RouteContext&) {
                         std::call_once(spec->once, [&] { spec->text = json::write(router.openapi("Agentd", s.version)); });
                         return Response::json_text(200, spec->text);
                     },
                     RouteDoc{"OpenAPI document", "docs"}, false, false});
    router.add(Route{"GET", "/docs", [](RouteContext&) {
                         Response r;
                         r.content_type = "text/html; charset=utf-8";
                         r.body = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>Agentd API</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}code{background:#eee;padding:0 .2em}
.op{margin:.6em 0;padding:.4em;border-left:4px solid #48c}.m{font-weight:bold;display:inline-block;width:5em}</style>
</head><body><h1>Agentd API</h1><p>Generated from <a href="/openapi.json">/openapi.json</a>.</p><div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const out=[];
  for (const [path,item] of Object.entries(doc.paths)) for (const [m,op] of Object.entries(item)) {
    const ps=(op.parameters||[]).map(p=>`<code>${p.name}</code> (${p.in}${p.required?', required':''})`).join(', ');
    out.push(`<div class="op"><span class="m">${m.toUpperCase()}</span><code>${path}</code> — ${op.summary||''}`+
      (ps?`<br><small>parameters: ${ps}</small>`:'')+(op.requestBody?'<br><small>JSON body</small>':'')+`</div>`);
  }
  document.getElementById('ops').innerHTML=out.join('');
});
</script></body></html>)";
                         return r;
                     },
                     RouteDoc{"API documentation page", "docs"}, false, false});
}

}  // namespace agentd::api
