#include "model/request_body.hpp"

#include "common/json.hpp"

namespace agentd::model {

std::string RequestBody::write() const {
    std::string out = json::write(object);
    if (tools_json.empty()) return out;
    out.pop_back();  // the object's closing brace
    out.reserve(out.size() + tools_json.size() + 12);
    if (!object.empty()) out += ',';
    out += "\"tools\":";
    out += tools_json;
    out += '}';
    return out;
}

bj::object RequestBody::to_object() const {
    bj::object whole = object;
    if (!tools_json.empty()) whole["tools"] = bj::parse(tools_json);
    return whole;
}

}  // namespace agentd::model
