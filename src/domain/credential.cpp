#include "domain/credential.hpp"

#include "common/clock.hpp"
#include "common/ids.hpp"

namespace agentd::domain {

using validation::Issues;
using validation::loc_join;

namespace {

std::vector<FieldSpec> base_fields(std::string_view type) {
    return {
        {.name = "id", .kind = FieldKind::kStr, .default_factory = [] { return bj::value(new_id()); }},
        {.name = "name", .kind = FieldKind::kStr, .default_value = ""},
        {.name = "type", .kind = FieldKind::kStr, .default_value = bj::value(type),
         .choices = {type}},
    };
}

CredentialType make(std::string_view type, std::vector<FieldSpec> extra) {
    CredentialType t{type, base_fields(type)};
    for (auto& f : extra) t.fields.push_back(std::move(f));
    return t;
}

FieldSpec api_key() { return {.name = "api_key", .kind = FieldKind::kStr, .required = true, .secret = true}; }
FieldSpec opt_str(std::string_view name) { return {.name = name, .kind = FieldKind::kOptStr}; }
FieldSpec str_default(std::string_view name, std::string_view def) {
    return {.name = name, .kind = FieldKind::kStr, .default_value = bj::value(def)};
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

// Byte offset of the n-th code point (or s.size()).
std::size_t utf8_offset(std::string_view s, std::size_t n) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (count == n) return i;
            ++count;
        }
    }
    return s.size();
}

}  // namespace

const std::vector<CredentialType>& credential_types() {
    static const std::vector<CredentialType> kTypes = [] {
        std::vector<CredentialType> t;
        t.push_back(make("anthropic_credential", {api_key(), opt_str("base_url")}));
        t.push_back(make("dashscope_credential",
                         {api_key(), str_default("base_url", "https://dashscope.aliyuncs.com/compatible-mode/v1")}));
        t.push_back(make("deepseek_credential", {api_key(), str_default("base_url", "https://api.deepseek.com")}));
        t.push_back(make("gemini_credential", {api_key()}));
        t.push_back(make("moonshot_credential", {api_key(), str_default("base_url", "https://api.moonshot.cn/v1")}));
        t.push_back(make("ollama_credential", {opt_str("host")}));
        t.push_back(make("openai_credential", {api_key(), opt_str("organization"), opt_str("base_url")}));
        t.push_back(make("xai_credential", {api_key(), str_default("api_host", "api.x.ai")}));
        return t;
    }();
    return kTypes;
}

const CredentialType* find_credential_type(std::string_view type) {
    for (const auto& t : credential_types())
        if (t.type == type) return &t;
    return nullptr;
}

std::optional<bj::object> parse_credential_data(const bj::value& data, Issues& issues) {
    bj::array loc{"body", "data"};
    const bj::object* obj = validation::as_dict(data, loc, issues);
    if (!obj) return std::nullopt;
    std::string tags;
    for (const auto& t : credential_types()) {
        if (!tags.empty()) tags += ", ";
        tags += "'" + std::string(t.type) + "'";
    }
    auto it = obj->find("type");
    if (it == obj->end()) {
        bj::object ctx;
        ctx["discriminator"] = "'type'";
        issues.add("union_tag_not_found", loc, "Unable to extract tag using discriminator 'type'",
                   data, std::move(ctx));
        return std::nullopt;
    }
    const CredentialType* type = it->value().is_string() ? find_credential_type(it->value().get_string()) : nullptr;
    if (!type) {
        std::string tag = it->value().is_string() ? std::string(it->value().get_string()) : "";
        bj::object ctx;
        ctx["discriminator"] = "'type'";
        ctx["tag"] = tag;
        ctx["expected_tags"] = tags;
        issues.add("union_tag_invalid", loc,
                   "Input tag '" + tag + "' found using 'type' does not match any of the expected tags: " + tags,
                   data, std::move(ctx));
        return std::nullopt;
    }
    std::size_t before = issues.size();
    auto out = parse_model(data, loc_join(loc, type->type), issues, type->fields);
    if (!out || issues.size() != before) return std::nullopt;
    return out;
}

std::vector<std::string> secret_fields(const bj::object& data) {
    std::vector<std::string> out;
    auto it = data.find("type");
    if (it == data.end() || !it->value().is_string()) return out;
    if (const auto* t = find_credential_type(it->value().get_string()))
        for (const auto& f : t->fields)
            if (f.secret) out.emplace_back(f.name);
    return out;
}

std::string mask_secret(std::string_view secret) {
    static constexpr std::string_view kBullets = "\u2022\u2022\u2022\u2022\u2022\u2022\u2022\u2022";
    std::size_t len = utf8_length(secret);
    if (len <= 8) return std::string(kBullets);
    std::string out(secret.substr(0, utf8_offset(secret, 4)));
    out += kBullets;
    out += secret.substr(utf8_offset(secret, len - 4));
    return out;
}

std::string credential_base_name(std::string_view type) {
    std::string stem(type);
    constexpr std::string_view kSuffix = "_credential";
    if (stem.size() >= kSuffix.size() && stem.compare(stem.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0)
        stem.resize(stem.size() - kSuffix.size());
    for (auto& c : stem)
        if (c == '_') c = ' ';
    // str.title(): upper-case a letter that follows a non-letter, lower-case the others.
    bool prev_letter = false;
    for (auto& c : stem) {
        bool letter = std::isalpha(static_cast<unsigned char>(c));
        if (letter) c = prev_letter ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                                    : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        prev_letter = letter;
    }
    return stem.empty() ? "Credential" : stem;
}

bj::object credential_view_json(const CredentialRecord& r, bool editable) {
    bj::object o;
    o["id"] = r.id;
    o["updated_at"] = clock::iso_utc(r.updated_us);
    o["created_at"] = clock::iso_utc(r.created_us);
    o["user_id"] = r.user_id;
    bj::object data = r.data;
    for (const auto& f : secret_fields(data)) {
        auto it = data.find(f);
        if (it != data.end() && it->value().is_string()) it->value() = mask_secret(it->value().get_string());
    }
    o["data"] = std::move(data);
    o["editable"] = editable;
    return o;
}

}  // namespace agentd::domain
