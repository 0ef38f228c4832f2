#include "tool/builtin/gitignore.hpp"

namespace agentd::tool {

namespace {

// Index just past the `]` closing the class that starts at `open`, or npos.
std::size_t class_end(std::string_view s, std::size_t open) {
    std::size_t i = open + 1;
    if (i < s.size() && (s[i] == '!' || s[i] == '^')) ++i;
    if (i < s.size() && s[i] == ']') ++i;  // a leading ']' is literal
    for (; i < s.size(); ++i) {
        if (s[i] == ']') return i + 1;
    }
    return std::string_view::npos;
}

}  // namespace

std::vector<std::string> expand_braces(std::string_view pattern, bool& ok) {
    std::size_t open = std::string_view::npos;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '\\') {
            ++i;
        } else if (pattern[i] == '[') {
            const std::size_t end = class_end(pattern, i);
            if (end == std::string_view::npos) break;
            i = end - 1;
        } else if (pattern[i] == '{') {
            open = i;
            break;
        }
    }
    if (open == std::string_view::npos) return {std::string(pattern)};
    std::vector<std::string_view> parts;
    int depth = 0;
    std::size_t start = open + 1;
    std::size_t close = std::string_view::npos;
    for (std::size_t i = open + 1; i < pattern.size() && close == std::string_view::npos; ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            ++i;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}') {
            if (depth == 0) {
                parts.push_back(pattern.substr(start, i - start));
                close = i;
            } else {
                --depth;
            }
        } else if (c == ',' && depth == 0) {
            parts.push_back(pattern.substr(start, i - start));
            start = i + 1;
        }
    }
    if (close == std::string_view::npos) {
        ok = false;
        return {};
    }
    std::vector<std::string> out;
    const std::string_view prefix = pattern.substr(0, open);
    const std::string_view suffix = pattern.substr(close + 1);
    for (std::string_view part : parts) {
        std::string joined = std::string(prefix) + std::string(part) + std::string(suffix);
        for (auto& expanded : expand_braces(joined, ok)) out.push_back(std::move(expanded));
    }
    return out;
}

bool PathGlob::parse(std::string_view text, Sequence& out, std::string& error) const {
    if (text == "**") {
        out.push_back(make_token(Op::kAll));
        return true;
    }
    std::size_t i = 0;
    if (text.substr(0, 3) == "**/") {
        out.push_back(make_token(Op::kAnyPrefixDirs));
        i = 3;
    }
    while (i < text.size()) {
        const char c = text[i];
        if (c == '/' && text.substr(i, 4) == "/**/") {
            out.push_back(make_token(Op::kAnyMiddleDirs));
            i += 4;
        } else if (c == '/' && text.substr(i) == "/**") {
            out.push_back(make_token(Op::kAnySuffix));
            i += 3;
        } else if (c == '*') {
            while (i < text.size() && text[i] == '*') ++i;  // a stray `**` is a `*`
            out.push_back(make_token(Op::kStar));
        } else if (c == '?') {
            out.push_back(make_token(Op::kAnyChar));
            ++i;
        } else if (c == '[') {
            const std::size_t end = class_end(text, i);
            if (end == std::string_view::npos) {
                error = "unclosed character class; missing ']'";
                return false;
            }
            Token t = make_token(Op::kClass);
            std::size_t k = i + 1;
            if (text[k] == '!' || text[k] == '^') {
                t.negated = true;
                ++k;
            }
            const std::size_t last = end - 1;  // the closing ']'
            while (k < last) {
                unsigned char lo = static_cast<unsigned char>(text[k]);
                if (lo == '\\' && k + 1 < last) lo = static_cast<unsigned char>(text[++k]);
                if (k + 2 < last && text[k + 1] == '-') {
                    t.ranges.emplace_back(lo, static_cast<unsigned char>(text[k + 2]));
                    k += 3;
                } else {
                    t.ranges.emplace_back(lo, lo);
                    ++k;
                }
            }
            out.push_back(std::move(t));
            i = end;
        } else if (c == '\\' && i + 1 < text.size()) {
            out.push_back(make_token(Op::kLiteral, text[i + 1]));
            i += 2;
        } else {
            out.push_back(make_token(Op::kLiteral, c));
            ++i;
        }
    }
    return true;
}

bool PathGlob::compile(std::string_view pattern, std::string& error) {
    alternatives_.clear();
    required_suffix_.clear();
    bool ok = true;
    const auto expanded = expand_braces(pattern, ok);
    if (!ok) {
        error = "unclosed alternate group; missing '}'";
        return false;
    }
    for (std::string_view alt : expanded) {
        std::string text;
        // A slash before the end anchors the pattern to its base; otherwise it
        // matches at any depth.
        if (alt.find('/') == std::string_view::npos) {
            text = "**/" + std::string(alt);
        } else {
            if (!alt.empty() && alt.front() == '/') alt.remove_prefix(1);
            text = std::string(alt);
        }
        Sequence seq;
        if (!parse(text, seq, error)) return false;
        alternatives_.push_back(std::move(seq));
    }
    if (alternatives_.size() == 1) {
        const Sequence& seq = alternatives_.front();
        std::size_t k = seq.size();
        while (k > 0 && seq[k - 1].op == Op::kLiteral) --k;
        for (; k < seq.size(); ++k) required_suffix_.push_back(seq[k].literal);
    }
    return true;
}

bool PathGlob::matches(std::string_view path) const {
    if (!required_suffix_.empty() &&
        (path.size() < required_suffix_.size() ||
         path.compare(path.size() - required_suffix_.size(), required_suffix_.size(), required_suffix_) != 0)) {
        return false;
    }
    for (const Sequence& seq : alternatives_) {
        if (match_from(seq, 0, path, 0)) return true;
    }
    return false;
}

bool PathGlob::match_from(const Sequence& seq, std::size_t ti, std::string_view s, std::size_t si) const {
    while (ti < seq.size()) {
        const Token& t = seq[ti];
        switch (t.op) {
            case Op::kAll:
                return true;
            case Op::kLiteral:
                if (si >= s.size() || s[si] != t.literal) return false;
                ++si;
                ++ti;
                break;
            case Op::kAnyChar:
                if (si >= s.size() || s[si] == '/') return false;
                ++si;
                ++ti;
                break;
            case Op::kClass: {
                if (si >= s.size() || s[si] == '/') return false;
                const auto c = static_cast<unsigned char>(s[si]);
                bool in = false;
                for (const auto& [lo, hi] : t.ranges) in = in || (c >= lo && c <= hi);
                if (in == t.negated) return false;
                ++si;
                ++ti;
                break;
            }
            case Op::kStar: {
                if (ti + 1 == seq.size()) return s.find('/', si) == std::string_view::npos;
                for (std::size_t k = si;; ++k) {
                    if (match_from(seq, ti + 1, s, k)) return true;
                    if (k >= s.size() || s[k] == '/') return false;
                }
            }
            case Op::kAnyPrefixDirs: {
                if (match_from(seq, ti + 1, s, si)) return true;
                for (std::size_t k = s.find('/', si); k != std::string_view::npos; k = s.find('/', k + 1)) {
                    if (match_from(seq, ti + 1, s, k + 1)) return true;
                }
                return false;
            }
            case Op::kAnyMiddleDirs: {
                if (si >= s.size() || s[si] != '/') return false;
                for (std::size_t k = si; k != std::string_view::npos; k = s.find('/', k + 1)) {
                    if (match_from(seq, ti + 1, s, k + 1)) return true;
                }
                return false;
            }
            case Op::kAnySuffix:
                return si < s.size() && s[si] == '/';
        }
    }
    return si == s.size();
}

IgnoreRules IgnoreRules::parse(std::string_view text) {
    IgnoreRules rules;
    std::string error;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        rules.add_line(line, error);
    }
    return rules;
}

bool IgnoreRules::add_line(std::string_view line, std::string& error) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') return true;
    // Trailing spaces go unless escaped with a backslash.
    std::string text(line);
    while (!text.empty() && text.back() == ' ' && !(text.size() >= 2 && text[text.size() - 2] == '\\')) text.pop_back();
    if (text.size() >= 2 && text.back() == ' ' && text[text.size() - 2] == '\\') text.erase(text.size() - 2, 1);
    Rule rule;
    if (!text.empty() && text.front() == '!') {
        rule.negated = true;
        text.erase(0, 1);
    } else if (text.size() >= 2 && text[0] == '\\' && (text[1] == '!' || text[1] == '#')) {
        text.erase(0, 1);
    }
    if (!text.empty() && text.back() == '/') {
        rule.dir_only = true;
        text.pop_back();
    }
    if (text.empty()) return true;
    if (!rule.glob.compile(text, error)) return false;
    if (!rule.negated) ++positive_;
    rules_.push_back(std::move(rule));
    return true;
}

IgnoreMatch IgnoreRules::match(std::string_view relative_path, bool is_dir) const {
    for (auto it = rules_.rbegin(); it != rules_.rend(); ++it) {
        if (it->dir_only && !is_dir) continue;
        if (it->glob.matches(relative_path)) return it->negated ? IgnoreMatch::kWhitelist : IgnoreMatch::kIgnore;
    }
    return IgnoreMatch::kNone;
}

}  // namespace agentd::tool
