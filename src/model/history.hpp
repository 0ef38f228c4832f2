#pragma once
// Reading the agent's history (Msg / block JSON in the reference's shapes,
// data-model.md §2.2-2.3) for the provider formatters, and the parts of
// formatting every provider shares: the system turn, tool-result text with
// media promotion (spec/models.md §5.4), and the short ids of promoted media.
#include <boost/json.hpp>

#include "common/json_access.hpp"
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/chat_model.hpp"
#include "model/media.hpp"

namespace agentd::model {

using json::str_at;

/// The messages a formatter sees: a system Msg carrying `system_prompt` (when
/// not empty) followed by the request's messages.
std::vector<const bj::object*> history_of(const ChatRequest& request, bj::object& system_storage);

/// A Msg's content blocks; a string content (legacy) reads as one text block.
bj::array content_blocks_of(const bj::object& msg);

/// A `data` block's source, flattened.
struct MediaSource {
    bool is_url = false;
    std::string value;  ///< base64 data, or the URL
    std::string media_type;
    std::string name;  ///< the block's optional `name`
    std::string_view main_type() const { return main_media_type(media_type); }
};
std::optional<MediaSource> media_source_of(const bj::object& data_block);

/// Items of a tool result or hint list: text and data blocks, others skipped.
struct ContentItem {
    std::string text;  ///< when `media` is empty
    std::optional<MediaSource> media;
};
std::vector<ContentItem> items_of(const bj::value& output_or_hint);

/// The textual form of a tool result (joined by '\n') and the media to show
/// the model in a following user turn ("promotion"). With `promote` false, or
/// for media the model does not accept, a `<system-reminder>` line names the
/// URL or the media type instead (never a host path: agentd writes no temp files).
struct ToolResultText {
    std::string text;
    std::vector<ContentItem> promoted;  ///< empty, or intro text, (label, media)…, closing text
};
ToolResultText tool_result_text(const bj::value& output, const MediaPolicy& policy,
                                bool promote = true);

/// Folds the promoted media of a later tool result into `into` (both in the
/// `ToolResultText::promoted` shape), so one user turn lists the media of
/// several results under one intro: intro, `into`'s items, `more`'s items, closing.
void merge_promoted(std::vector<ContentItem>& into, std::vector<ContentItem> more);

/// The base64 bytes of `m`: its data, or what `resolver` loaded for its URL.
std::optional<std::string> inline_base64(const MediaSource& m, const MediaResolver& resolver);

/// The text sent instead of media that could not be loaded or is not supported
/// in that position: "[image file, URL: …]" / "[audio file, type: audio/ogg]".
std::string media_note(const MediaSource& m);

/// Whether `url` is a `file://` URL.
bool is_file_url(std::string_view url);

/// A 22-character id in shortuuid's base57 alphabet (identifies promoted media).
std::string short_uuid();

/// The text of a `text`/`hint` string or the joined texts of a list.
std::string joined_text(const std::vector<ContentItem>& items, std::string_view sep = "\n");

/// The path of a `file://` URL when it lies inside `root` (after resolving
/// `..` lexically); nullopt otherwise, or when `root` is empty.
std::optional<std::string> confined_file_path(std::string_view url, std::string_view root);

}  // namespace agentd::model
