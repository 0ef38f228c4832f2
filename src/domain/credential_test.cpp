#include "domain/credential.hpp"

#include <gtest/gtest.h>

namespace agentd::domain {

TEST(Credential, BaseNamesFollowPythonTitle) {
    EXPECT_EQ(credential_base_name("openai_credential"), "Openai");
    EXPECT_EQ(credential_base_name("xai_credential"), "Xai");
    EXPECT_EQ(credential_base_name("my_custom_credential"), "My Custom");
    EXPECT_EQ(credential_base_name("_credential"), "Credential");
}

TEST(Credential, MasksLikeTheWebUi) {
    EXPECT_EQ(mask_secret("sk-live-123456"), "sk-l\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022"
                                             "3456");
    EXPECT_EQ(mask_secret("short"), "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022");
    EXPECT_EQ(mask_secret("12345678"), "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022");
}

TEST(Credential, ParsesWithDefaultsAndOrder) {
    validation::Issues issues;
    auto data = parse_credential_data(boost::json::parse(R"({"type":"dashscope_credential","api_key":"k","x":1})"),
                                      issues);
    ASSERT_TRUE(data);
    ASSERT_TRUE(issues.empty());
    std::vector<std::string> keys;
    for (const auto& kv : *data) keys.emplace_back(kv.key());
    EXPECT_EQ(keys, (std::vector<std::string>{"id", "name", "type", "api_key", "base_url"}));
    EXPECT_EQ(data->at("base_url"), "https://dashscope.aliyuncs.com/compatible-mode/v1");
    EXPECT_EQ(data->at("id").as_string().size(), 32u);
}

TEST(Credential, RejectsMissingTypeAndSecret) {
    validation::Issues issues;
    EXPECT_FALSE(parse_credential_data(boost::json::parse(R"({"api_key":"k"})"), issues));
    EXPECT_EQ(issues.list().at(0).type, "union_tag_not_found");
    validation::Issues issues2;
    EXPECT_FALSE(parse_credential_data(boost::json::parse(R"({"type":"openai_credential"})"), issues2));
    EXPECT_EQ(issues2.list().at(0).type, "missing");
    EXPECT_EQ(issues2.list().at(0).loc, (boost::json::array{"body", "data", "openai_credential", "api_key"}));
    validation::Issues issues3;
    EXPECT_FALSE(parse_credential_data(boost::json::parse(R"({"type":"nope","api_key":"k"})"), issues3));
    EXPECT_EQ(issues3.list().at(0).type, "union_tag_invalid");
}

}  // namespace agentd::domain
