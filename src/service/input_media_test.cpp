#include "service/input_media.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "domain/message.hpp"
#include "model/openai/openai_chat_model.hpp"
#include "service/workspace_test_support.hpp"
#include "workspace/workspace_test_support.hpp"

namespace agentd::service {
namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;

/// Takes text and images only, like a model card saying so.
class ImagesOnly final : public model::ChatModel {
public:
    const std::string& model_name() const override { return name_; }
    boost::asio::awaitable<model::ModelResponse> call(const model::ChatRequest&, const model::ChunkSink&,
                                                      CancellationPtr) override {
        co_return model::ModelResponse{};
    }
    bool accepts_input_media(std::string_view media_type) const override { return media_type.starts_with("image/"); }

private:
    std::string name_ = "images-only";
};

std::string slurp(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

TEST(InputsForModel, AttachmentsTheModelCannotTakeBecomeRemindersNamingTheirFile) {
    workspace::testing::TempDir tmp;
    testing::TempWorkspace ws("w1", "/ws", tmp.path());
    ImagesOnly model;
    auto message = domain::user_msg("user", bj::array{
        domain::text_block("listen to this"),
        domain::data_block(domain::base64_source("aGk=", "audio/wav"), "note.wav"),
        domain::data_block(domain::base64_source("aGk=", "image/png")),
        domain::data_block(domain::url_source("https://files.example/talk.mp3", "audio/mpeg"))});
    const bj::array inputs{message};
    auto out = inputs_for_model(inputs, model, &ws, "s1");
    ASSERT_TRUE(out);
    const auto& content = out->at(0).at("content").as_array();
    ASSERT_EQ(content.size(), 4u);
    EXPECT_EQ(content[0], message.at("content").as_array()[0]);
    EXPECT_EQ(content[1].at("type"), "text");
    const std::string file = "data/96e3186af2815065fbc894de1bdadda7830527fffdba6bdd709789cf0ee79a6a.wav";
    EXPECT_EQ(content[1].at("text"), bj::value("<system-reminder>An attached file named 'note.wav' is saved into "
                                               "workspace:///" + file + ".</system-reminder>"));
    EXPECT_EQ(slurp(tmp.path() / file), "hi");
    EXPECT_EQ(content[2], message.at("content").as_array()[2]);  // an image: the model takes it
    EXPECT_EQ(content[3].at("text"),
              "<system-reminder>An attached file is saved into https://files.example/talk.mp3.</system-reminder>");
    // The message keeps its identity; what was sent is left as it was.
    EXPECT_EQ(out->at(0).at("id"), message.at("id"));
    EXPECT_EQ(inputs.at(0), message);
}

TEST(InputsForModel, WithoutAWorkspaceTheReminderNamesTheMediaType) {
    ImagesOnly model;
    const bj::array inputs{domain::user_msg(
        "user", bj::array{domain::data_block(domain::base64_source("aGk=", "application/pdf"), "spec.pdf")})};
    auto out = inputs_for_model(inputs, model, nullptr, "s1");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->at(0).at("content").at(0).at("text"),
              "<system-reminder>An unsupported input file named 'spec.pdf' is attached with media type "
              "'application/pdf'.</system-reminder>");
}

TEST(InputsForModel, NothingChangesWhenTheModelTakesEverything) {
    ImagesOnly model;
    const bj::array inputs{domain::user_msg("user", std::string_view("plain")),
                           domain::user_msg("user", bj::array{domain::data_block(domain::base64_source("aGk=", "image/png"))})};
    EXPECT_FALSE(inputs_for_model(inputs, model, nullptr, "s1"));
}

TEST(InputsForModel, AProvidersDefaultsAndTheModelCardDecide) {
    auto openai = [](model::openai::Vendor vendor) {
        model::openai::OpenAIChatModel::Endpoint endpoint;
        endpoint.vendor = vendor;
        endpoint.base_url = "http://127.0.0.1:1/v1";
        return std::make_unique<model::openai::OpenAIChatModel>(endpoint, "m", bj::object{}, nullptr);
    };
    EXPECT_TRUE(openai(model::openai::Vendor::kOpenAI)->accepts_input_media("application/pdf"));
    EXPECT_FALSE(openai(model::openai::Vendor::kOpenAI)->accepts_input_media("video/mp4"));
    EXPECT_FALSE(openai(model::openai::Vendor::kDeepSeek)->accepts_input_media("image/png"));
    auto card = openai(model::openai::Vendor::kOpenAI);
    card->set_input_types({"text/plain", "image/*"});
    EXPECT_TRUE(card->accepts_input_media("image/webp"));
    EXPECT_FALSE(card->accepts_input_media("audio/wav"));
}

}  // namespace
}  // namespace agentd::service
