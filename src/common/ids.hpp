#pragma once
#include <string>

namespace agentd {

/// A new random id in the reference's format: uuid4().hex (32 lowercase hex chars).
std::string new_id();

}  // namespace agentd
