#pragma once
// Agents: the record, its JSON views, and validation of create / update bodies.
#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "common/validation.hpp"

namespace agentd::domain {

namespace bj = boost::json;

struct AgentRecord {
    std::string id;
    std::string user_id;
    std::string source = "user";  ///< "user" | "team"
    std::int64_t created_us = 0;
    std::int64_t updated_us = 0;
    bj::object data;  ///< AgentData, canonical: id, name, system_prompt, context_config, ...
};

/// Record JSON: id, updated_at, created_at, user_id, source, data.
bj::object to_json(const AgentRecord& r);
/// AgentView: the record plus `editable`.
bj::object agent_view_json(const AgentRecord& r, bool editable);

/// Builds AgentData from a CreateAgentRequest body (loc prefix ["body"]). Issues
/// are recorded; the returned object is meaningful only when none were.
bj::object agent_data_from_create(const bj::value& body, validation::Issues& issues);

/// Reads an UpdateAgentRequest body into the fields to overwrite, with the
/// reference's rules: null or absent keeps, a nested object replaces the stored
/// one whole (its omitted sub-fields take their defaults).
bj::object parse_agent_update(const bj::value& body, validation::Issues& issues);

/// The built-in defaults of AgentData fields (system_prompt, context_config, ...).
const bj::object& agent_data_defaults();

}  // namespace agentd::domain
