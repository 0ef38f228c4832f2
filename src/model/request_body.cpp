#include "model/request_body.hpp"

#include "common/json.hpp"

namespace agentd::model {

std::string RequestBody::write() const {
    std::vector<std::shared_ptr<const std::string>> tail;
    std::string out = write_prefix(tail);
    for (const auto& piece : tail) out += *piece;
    return out;
}

std::string RequestBody::write_prefix(std::vector<std::shared_ptr<const std::string>>& shared_tail) const {
    static const auto kClose = std::make_shared<const std::string>("}");
    std::string out = json::write(object);
    if (!tools_json) return out;
    out.pop_back();  // the object's closing brace
    if (!object.empty()) out += ',';
    out += "\"tools\":";
    shared_tail.push_back(tools_json);
    shared_tail.push_back(kClose);
    return out;
}

bj::object RequestBody::to_object() const {
    bj::object whole = object;
    if (tools_json) whole["tools"] = bj::parse(*tools_json);
    return whole;
}

}  // namespace agentd::model
