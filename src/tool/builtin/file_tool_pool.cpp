#include "tool/builtin/file_tool_pool.hpp"

#include <algorithm>
#include <thread>

namespace agentd::tool {

boost::asio::thread_pool& file_tool_pool() {
    // Leaked on purpose: joining at static destruction could wait on a search
    // that outlives main().
    static auto* pool = new boost::asio::thread_pool(std::clamp(std::thread::hardware_concurrency(), 2u, 8u));
    return *pool;
}

}  // namespace agentd::tool
