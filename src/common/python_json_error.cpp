#include "common/python_json_error.hpp"

namespace agentd::json {

namespace {

// A recursive-descent scanner over bytes; positions are converted to code points
// at the end. Depth is bounded by the caller's own parser limits (we stop at 10000).
class Scanner {
public:
    explicit Scanner(std::string_view t) : t_(t) {}

    std::optional<PythonJsonError> run() {
        std::size_t i = skip_ws(0);
        if (!value(i)) return error();
        i = skip_ws(i);
        if (i != t_.size()) return fail(i, "Extra data"), error();
        return std::nullopt;
    }

private:
    static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
    std::size_t skip_ws(std::size_t i) const {
        while (i < t_.size() && is_ws(t_[i])) ++i;
        return i;
    }
    bool fail(std::size_t pos, std::string msg) {
        pos_ = pos;
        msg_ = std::move(msg);
        return false;
    }
    PythonJsonError error() const {
        std::size_t cp = 0;
        for (std::size_t k = 0; k < pos_ && k < t_.size(); ++k)
            if ((static_cast<unsigned char>(t_[k]) & 0xC0) != 0x80) ++cp;
        return {cp, msg_};
    }
    bool starts(std::size_t i, std::string_view w) const { return t_.substr(i, w.size()) == w; }

    // Parses a value starting exactly at i (no leading whitespace); advances i.
    bool value(std::size_t& i) {
        // Bounded recursion: the scanner runs on pool threads with ordinary stacks.
        if (++depth_ > 512) return fail(i, "Document nested too deeply");
        struct Leave {
            int& d;
            ~Leave() { --d; }
        } leave{depth_};
        if (i >= t_.size()) return fail(i, "Expecting value");
        char c = t_[i];
        if (c == '"') return string(i);
        if (c == '{') return object(i);
        if (c == '[') return array(i);
        for (std::string_view w : {"null", "true", "false", "NaN", "Infinity", "-Infinity"})
            if (starts(i, w)) {
                i += w.size();
                return true;
            }
        return number(i);
    }

    bool number(std::size_t& i) {
        // CPython's NUMBER_RE: (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?
        std::size_t j = i;
        if (j < t_.size() && t_[j] == '-') ++j;
        if (j < t_.size() && t_[j] == '0') ++j;
        else if (j < t_.size() && t_[j] >= '1' && t_[j] <= '9') {
            while (j < t_.size() && std::isdigit(static_cast<unsigned char>(t_[j]))) ++j;
        } else {
            return fail(i, "Expecting value");
        }
        if (j + 1 < t_.size() && t_[j] == '.' && std::isdigit(static_cast<unsigned char>(t_[j + 1]))) {
            j += 1;
            while (j < t_.size() && std::isdigit(static_cast<unsigned char>(t_[j]))) ++j;
        }
        if (j < t_.size() && (t_[j] == 'e' || t_[j] == 'E')) {
            std::size_t k = j + 1;
            if (k < t_.size() && (t_[k] == '+' || t_[k] == '-')) ++k;
            if (k < t_.size() && std::isdigit(static_cast<unsigned char>(t_[k]))) {
                while (k < t_.size() && std::isdigit(static_cast<unsigned char>(t_[k]))) ++k;
                j = k;
            }
        }
        i = j;
        return true;
    }

    bool string(std::size_t& i) {
        std::size_t start = i;
        std::size_t j = i + 1;
        for (;;) {
            if (j >= t_.size()) return fail(start, "Unterminated string starting at");
            unsigned char c = static_cast<unsigned char>(t_[j]);
            if (c == '"') {
                i = j + 1;
                return true;
            }
            if (c < 0x20) return fail(j, "Invalid control character at");
            if (c == '\\') {
                if (j + 1 >= t_.size()) return fail(start, "Unterminated string starting at");
                char e = t_[j + 1];
                if (e == 'u') {
                    std::size_t k = j + 2;
                    bool ok = k + 4 <= t_.size();
                    for (std::size_t m = 0; ok && m < 4; ++m)
                        ok = std::isxdigit(static_cast<unsigned char>(t_[k + m])) != 0;
                    if (!ok) return fail(j + 1, "Invalid \\uXXXX escape");
                    j += 6;
                    continue;
                }
                if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos)
                    return fail(j, "Invalid \\escape");
                j += 2;
                continue;
            }
            ++j;
        }
    }

    bool object(std::size_t& i) {
        std::size_t j = skip_ws(i + 1);
        if (j < t_.size() && t_[j] == '}') {
            i = j + 1;
            return true;
        }
        for (;;) {
            if (j >= t_.size() || t_[j] != '"')
                return fail(j, "Expecting property name enclosed in double quotes");
            if (!string(j)) return false;
            j = skip_ws(j);
            if (j >= t_.size() || t_[j] != ':') return fail(j, "Expecting ':' delimiter");
            j = skip_ws(j + 1);
            if (!value(j)) return false;
            j = skip_ws(j);
            if (j < t_.size() && t_[j] == '}') {
                i = j + 1;
                return true;
            }
            if (j >= t_.size() || t_[j] != ',') return fail(j, "Expecting ',' delimiter");
            j = skip_ws(j + 1);
        }
    }

    bool array(std::size_t& i) {
        std::size_t j = skip_ws(i + 1);
        if (j < t_.size() && t_[j] == ']') {
            i = j + 1;
            return true;
        }
        for (;;) {
            if (!value(j)) return false;
            j = skip_ws(j);
            if (j < t_.size() && t_[j] == ']') {
                i = j + 1;
                return true;
            }
            if (j >= t_.size() || t_[j] != ',') return fail(j, "Expecting ',' delimiter");
            j = skip_ws(j + 1);
        }
    }

    std::string_view t_;
    std::size_t pos_ = 0;
    std::string msg_;
    int depth_ = 0;
};

}  // namespace

std::optional<PythonJsonError> python_json_error(std::string_view text) { return Scanner(text).run(); }

}  // namespace agentd::json
