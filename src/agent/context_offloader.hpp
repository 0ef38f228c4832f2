#pragma once
// Where what leaves the model context goes (spec/runtime.md §8): the messages
// compaction summarises, the part of a long tool result truncation cuts, the
// images the image limit removes. The service stores them as files of the
// session's workspace (workspace/context_files.hpp) and the agent names those
// files in its notices, so the model can read them back with its own tools.
#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>
#include <string>
#include <vector>

namespace agentd::agent {

class ContextOffloader {
public:
    virtual ~ContextOffloader() = default;

    // None of these throws: a failure is logged and gives an empty path (or the
    // block unchanged), and the agent's notice then names no file. The
    // arguments are only read, and only until the call returns.

    /// Stores compressed messages; returns the path of the file they went to.
    virtual boost::asio::awaitable<std::string> offload_context(
        const std::vector<const boost::json::object*>& messages) = 0;

    /// Stores the part of tool call `call_id`'s result that truncation cut (a
    /// string or a list of blocks); returns the file's path.
    virtual boost::asio::awaitable<std::string> offload_tool_result(const std::string& call_id,
                                                                     const boost::json::value& output) = 0;

    /// A base64 data block stored away, returned with a URL source; any other
    /// block unchanged.
    virtual boost::asio::awaitable<boost::json::object> offload_data_block(const boost::json::object& block) = 0;
};

}  // namespace agentd::agent
