#include "domain/agent.hpp"

#include <gtest/gtest.h>

#include "common/json.hpp"

namespace agentd::domain {
namespace {

namespace bj = boost::json;
using validation::Issues;

std::vector<std::string> keys_of(const bj::object& o) {
    std::vector<std::string> out;
    for (const auto& kv : o) out.emplace_back(kv.key());
    return out;
}

bj::object create_ok(std::string_view body) {
    Issues issues;
    auto data = agent_data_from_create(bj::parse(body), issues);
    EXPECT_TRUE(issues.empty()) << (issues.empty() ? ""
                                                   : json::write(issue_to_json(issues.list()[0])));
    return data;
}

const ValidationIssue& single(const Issues& issues) {
    EXPECT_EQ(issues.size(), 1u);
    static const ValidationIssue kNone;
    return issues.empty() ? kNone : issues.list()[0];
}

// ---- create -----------------------------------------------------------------------

TEST(AgentCreate, FillsDefaultsInDeclarationOrder) {
    auto data = create_ok(R"({"name":"Researcher"})");
    EXPECT_EQ(keys_of(data),
              (std::vector<std::string>{"id", "name", "system_prompt", "context_config",
                                        "react_config", "invite_config"}));
    EXPECT_EQ(data.at("id").as_string().size(), 32u);
    EXPECT_EQ(data.at("name"), "Researcher");
    EXPECT_EQ(data.at("system_prompt"), "You're a helpful assistant.");

    const auto& ctx = data.at("context_config").as_object();
    EXPECT_EQ(keys_of(ctx),
              (std::vector<std::string>{"trigger_ratio", "reserve_ratio", "compression_prompt",
                                        "summary_template", "summary_schema", "tool_result_limit",
                                        "max_image_num"}));
    EXPECT_EQ(json::write(ctx.at("trigger_ratio")), "0.8");
    EXPECT_EQ(json::write(ctx.at("reserve_ratio")), "0.1");
    EXPECT_EQ(ctx.at("tool_result_limit"), 50000);
    EXPECT_EQ(ctx.at("max_image_num"), 5);
    EXPECT_NE(ctx.at("compression_prompt").as_string().find("{current_time}"), bj::string::npos);
    EXPECT_TRUE(ctx.at("summary_schema").is_object());

    EXPECT_EQ(json::write(data.at("react_config")),
              R"({"max_iters":50,"structured_output_grace_iters":5,"stop_on_reject":false,)"
              R"("interruption_message":"I notice the interruption. How can I help you?",)"
              R"("interruption_raise_cancelled_error":false})");
    EXPECT_EQ(json::write(data.at("invite_config")),
              R"({"invitable":false,"invite_description":null})");
}

TEST(AgentCreate, EveryAgentGetsItsOwnDataId) {
    EXPECT_NE(create_ok(R"({"name":"a"})").at("id"), create_ok(R"({"name":"a"})").at("id"));
}

TEST(AgentCreate, PartialNestedObjectKeepsOtherDefaultsAndCoercesLaxly) {
    auto data = create_ok(
        R"({"name":"R","system_prompt":"S","react_config":{"max_iters":"30","stop_on_reject":"yes"},)"
        R"("context_config":{"trigger_ratio":"0.5","max_image_num":2.0},"unknown":1})");
    EXPECT_FALSE(data.contains("unknown"));
    EXPECT_EQ(data.at("system_prompt"), "S");
    const auto& react = data.at("react_config").as_object();
    EXPECT_EQ(react.at("max_iters"), 30);
    EXPECT_EQ(react.at("stop_on_reject"), true);
    EXPECT_EQ(react.at("structured_output_grace_iters"), 5);
    const auto& ctx = data.at("context_config").as_object();
    EXPECT_EQ(ctx.at("trigger_ratio"), 0.5);
    EXPECT_TRUE(ctx.at("max_image_num").is_int64());
    EXPECT_EQ(ctx.at("max_image_num"), 2);
    EXPECT_EQ(json::write(ctx.at("reserve_ratio")), "0.1");
}

TEST(AgentCreate, NameIsRequiredAndMustBeAString) {
    Issues missing;
    bj::value body = bj::parse(R"({"system_prompt":"x"})");
    agent_data_from_create(body, missing);
    const auto& m = single(missing);
    EXPECT_EQ(m.type, "missing");
    EXPECT_EQ(m.loc, (bj::array{"body", "name"}));
    EXPECT_EQ(m.input, body);

    Issues wrong;
    agent_data_from_create(bj::parse(R"({"name":5})"), wrong);
    EXPECT_EQ(single(wrong).type, "string_type");
    EXPECT_EQ(single(wrong).loc, (bj::array{"body", "name"}));
}

TEST(AgentCreate, NonObjectBodyIsModelAttributesType) {
    Issues issues;
    agent_data_from_create(bj::value(5), issues);
    EXPECT_EQ(single(issues).type, "model_attributes_type");
    EXPECT_EQ(single(issues).loc, (bj::array{"body"}));
}

TEST(AgentCreate, BoundsReportPydanticMessagesAndCtx) {
    Issues issues;
    agent_data_from_create(
        bj::parse(
            R"({"name":"R","context_config":{"trigger_ratio":0.95,"reserve_ratio":0,"max_image_num":-1},)"
            R"("react_config":{"structured_output_grace_iters":0}})"),
        issues);
    ASSERT_EQ(issues.size(), 4u);
    const auto& l = issues.list();
    EXPECT_EQ(
        json::write(issue_to_json(l[0])),
        R"({"type":"less_than_equal","loc":["body","context_config","trigger_ratio"],)"
        R"("msg":"Input should be less than or equal to 0.9","input":0.95,"ctx":{"le":0.9}})");
    EXPECT_EQ(json::write(issue_to_json(l[1])),
              R"({"type":"greater_than","loc":["body","context_config","reserve_ratio"],)"
              R"("msg":"Input should be greater than 0","input":0,"ctx":{"gt":0}})");
    EXPECT_EQ(l[2].type, "greater_than_equal");
    EXPECT_EQ(l[2].loc, (bj::array{"body", "context_config", "max_image_num"}));
    EXPECT_EQ(l[2].msg, "Input should be greater than or equal to 0");
    EXPECT_EQ(l[3].type, "greater_than");
    EXPECT_EQ(l[3].loc, (bj::array{"body", "react_config", "structured_output_grace_iters"}));
}

TEST(AgentCreate, ReserveRatioUpperBoundIsStrict) {
    Issues issues;
    agent_data_from_create(bj::parse(R"({"name":"R","context_config":{"reserve_ratio":0.9}})"),
                           issues);
    EXPECT_EQ(single(issues).type, "less_than");
    EXPECT_EQ(single(issues).msg, "Input should be less than 0.9");
    EXPECT_EQ(single(issues).ctx, (bj::object{{"lt", 0.9}}));
    // and the trigger ratio's upper bound is inclusive
    create_ok(R"({"name":"R","context_config":{"trigger_ratio":0.9}})");
}

TEST(AgentCreate, NestedTypeErrorsCarryTheFullLoc) {
    Issues issues;
    agent_data_from_create(
        bj::parse(R"({"name":"R","react_config":{"max_iters":"abc"},"invite_config":7})"), issues);
    ASSERT_EQ(issues.size(), 2u);
    EXPECT_EQ(issues.list()[0].type, "int_parsing");
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "react_config", "max_iters"}));
    EXPECT_EQ(issues.list()[1].type, "model_attributes_type");
    EXPECT_EQ(issues.list()[1].loc, (bj::array{"body", "invite_config"}));
}

// ---- invite invariant ---------------------------------------------------------------

TEST(AgentInvite, InvitableNeedsANonBlankDescription) {
    for (const char* invite :
         {R"({"invitable":true})", R"({"invitable":true,"invite_description":null})",
          R"({"invitable":true,"invite_description":" \t\n"})"}) {
        Issues issues;
        bj::value body = bj::object{{"name", "R"}, {"invite_config", bj::parse(invite)}};
        agent_data_from_create(body, issues);
        const auto& i = single(issues);
        EXPECT_EQ(i.type, "value_error") << invite;
        EXPECT_EQ(i.loc, (bj::array{"body", "invite_config"}));
        EXPECT_EQ(i.msg, "Value error, invite_description must be non-empty when invitable=True");
        EXPECT_EQ(i.ctx, (bj::object{{"error", bj::object{}}}));
        EXPECT_EQ(i.input, bj::parse(invite));
    }
}

TEST(AgentInvite, ValidInviteIsKept) {
    auto data = create_ok(
        R"({"name":"R","invite_config":{"invitable":"true","invite_description":"  helps  "}})");
    EXPECT_EQ(json::write(data.at("invite_config")),
              R"({"invitable":true,"invite_description":"  helps  "})");
    // Not invitable: a missing description is fine.
    create_ok(R"({"name":"R","invite_config":{"invitable":false}})");
}

TEST(AgentInvite, FieldErrorsComeWithoutTheInvariantError) {
    Issues issues;
    agent_data_from_create(bj::parse(R"({"name":"R","invite_config":{"invitable":"maybe"}})"),
                           issues);
    EXPECT_EQ(single(issues).type, "bool_parsing");
    EXPECT_EQ(single(issues).loc, (bj::array{"body", "invite_config", "invitable"}));
}

// ---- update (PATCH) --------------------------------------------------------------------

TEST(AgentUpdate, NullAndAbsentKeep) {
    Issues issues;
    auto patch = parse_agent_update(
        bj::parse(
            R"({"name":null,"system_prompt":null,"context_config":null,"react_config":null,"invite_config":null})"),
        issues);
    EXPECT_TRUE(issues.empty());
    EXPECT_TRUE(patch.empty());  // nothing to overwrite
    Issues none;
    EXPECT_TRUE(parse_agent_update(bj::object{}, none).empty());
}

TEST(AgentUpdate, NestedObjectReplacesWholeWithDefaults) {
    Issues issues;
    auto patch =
        parse_agent_update(bj::parse(R"({"name":"N","react_config":{"max_iters":7}})"), issues);
    ASSERT_TRUE(issues.empty());
    EXPECT_EQ(keys_of(patch), (std::vector<std::string>{"name", "react_config"}));
    // Omitted sub-fields take the model defaults, not what was stored.
    EXPECT_EQ(json::write(patch.at("react_config")),
              R"({"max_iters":7,"structured_output_grace_iters":5,"stop_on_reject":false,)"
              R"("interruption_message":"I notice the interruption. How can I help you?",)"
              R"("interruption_raise_cancelled_error":false})");
}

TEST(AgentUpdate, MergedPatchKeepsStoredKeyOrderAndDataId) {
    auto stored =
        create_ok(R"({"name":"Old","react_config":{"max_iters":99,"stop_on_reject":true}})");
    Issues issues;
    auto patch =
        parse_agent_update(bj::parse(R"({"react_config":{"max_iters":7},"name":"New"})"), issues);
    ASSERT_TRUE(issues.empty());
    bj::object merged = stored;  // what AgentService::update does
    for (const auto& kv : patch) merged[kv.key()] = kv.value();
    EXPECT_EQ(keys_of(merged), keys_of(stored));
    EXPECT_EQ(merged.at("id"), stored.at("id"));
    EXPECT_EQ(merged.at("name"), "New");
    EXPECT_EQ(merged.at("react_config").at("stop_on_reject"), false);  // reset to the default
    EXPECT_EQ(merged.at("context_config"), stored.at("context_config"));
}

TEST(AgentUpdate, ValidatesLikeCreateIncludingTheInvariant) {
    Issues issues;
    parse_agent_update(
        bj::parse(
            R"({"name":5,"context_config":{"trigger_ratio":2},"invite_config":{"invitable":true}})"),
        issues);
    ASSERT_EQ(issues.size(), 3u);
    EXPECT_EQ(issues.list()[0].type, "string_type");
    EXPECT_EQ(issues.list()[0].loc, (bj::array{"body", "name"}));
    EXPECT_EQ(issues.list()[1].type, "less_than_equal");
    EXPECT_EQ(issues.list()[2].type, "value_error");
    EXPECT_EQ(issues.list()[2].loc, (bj::array{"body", "invite_config"}));
}

// ---- record JSON ------------------------------------------------------------------------

TEST(AgentRecordJson, KeyOrderAndTimestamps) {
    AgentRecord r;
    r.id = "a1";
    r.user_id = "alice";
    r.created_us = 1773480612123450;  // 2026-03-14T09:30:12.123450Z
    r.updated_us = 1773480612000000;
    r.data = bj::object{{"id", "d"}, {"name", "n"}};
    auto view = agent_view_json(r, false);
    EXPECT_EQ(keys_of(view), (std::vector<std::string>{"id", "updated_at", "created_at", "user_id",
                                                       "source", "data", "editable"}));
    EXPECT_EQ(view.at("created_at"), "2026-03-14T09:30:12.123450");  // Python keeps 6 digits
    EXPECT_EQ(view.at("updated_at"), "2026-03-14T09:30:12");
    EXPECT_EQ(view.at("source"), "user");
    EXPECT_EQ(view.at("editable"), false);
}

}  // namespace
}  // namespace agentd::domain
