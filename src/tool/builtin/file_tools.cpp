#include "tool/builtin/file_tools.hpp"

#include "tool/builtin/edit_tool.hpp"
#include "tool/builtin/glob_tool.hpp"
#include "tool/builtin/grep_tool.hpp"
#include "tool/builtin/read_tool.hpp"
#include "tool/builtin/write_tool.hpp"

namespace agentd::tool {

std::vector<std::shared_ptr<agent::Tool>> make_file_tools(std::shared_ptr<workspace::Workspace> workspace) {
    return {std::make_shared<EditTool>(workspace), std::make_shared<GlobTool>(workspace),
            std::make_shared<GrepTool>(workspace), std::make_shared<ReadTool>(workspace),
            std::make_shared<WriteTool>(std::move(workspace))};
}

}  // namespace agentd::tool
