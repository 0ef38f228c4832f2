#pragma once
// The files a workspace keeps of what left a session's model context
// (spec/tools-workspace.md §6.2, §6.6): compressed messages, the cut-off part
// of long tool results, and media payloads. The agent is told their paths, so
// it can read back with its own tools what compaction, truncation or the image
// limit took out of its context.
//
//   <workdir>/sessions/<session_id>/context.jsonl        one compressed message per line
//   <workdir>/sessions/<session_id>/tool_result-<id>.txt  the rest of a truncated result
//   <workdir>/data/<sha256 of the base64 text>.<ext>      a payload, written once
//
// Blocking filesystem work: call it off the io threads. Every path goes through
// Workspace::resolve(), so a link the agent planted cannot send a write, or the
// purge, outside the workspace.
#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "workspace/workspace.hpp"

namespace agentd::workspace {

class ContextFiles {
public:
    /// `session_id` names the session's folder; characters that cannot be part
    /// of one file name are replaced.
    ContextFiles(const Workspace& workspace, std::string_view session_id);

    /// Appends `messages` to the session's context.jsonl, one compact JSON
    /// message per line, with base64 data blocks stored under data/ and
    /// referenced by URL. Returns the file's path as the agent sees it.
    /// Throws std::runtime_error when it cannot be written.
    std::string append_context(const std::vector<const boost::json::object*>& messages) const;

    /// Writes what truncation cut from tool call `call_id`'s result (a string or
    /// a list of text and data blocks) as plain text: the texts verbatim, a data
    /// block as `<data url='…' name='…' media_type='…'/>`. A second result of
    /// the same id gets `tool_result-<id>(1).txt`, and so on. Returns the path
    /// as the agent sees it. Throws std::runtime_error when it cannot be written.
    std::string write_tool_result(std::string_view call_id, const boost::json::value& output) const;

    /// A base64 data block stored as data/<sha256>.<ext> (written once; the
    /// same payload maps to the same file), returned with a
    /// `workspace:///data/…` URL source in place of the payload. Any other
    /// block comes back unchanged. Throws std::runtime_error when the payload
    /// cannot be decoded or written.
    boost::json::object store_data_block(const boost::json::object& block) const;

    /// Removes a session's folder from the workspace whose files are at
    /// `host_dir`, if it has one (best effort; never throws). A sessions/ that
    /// is a link is left alone, and a link in its place is removed, not followed.
    static void purge_session(const fs::path& host_dir, std::string_view session_id);

    /// The extension a payload of `media_type` is stored with (".bin" when unknown).
    static std::string_view extension_for(std::string_view media_type);

private:
    /// The host path of `relative` (below the workdir), its parents created.
    fs::path prepare(const std::string& relative) const;

    const Workspace& workspace_;
    std::string session_dir_;  ///< "sessions/<name>", relative to the workdir
};

}  // namespace agentd::workspace
