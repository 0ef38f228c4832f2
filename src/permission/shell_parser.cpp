#include "permission/shell_parser.hpp"

#include <array>
#include <initializer_list>
#include <utility>

namespace agentd::permission {

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(ShellConstruct::kCount)>
    kConstructNames = {
        "command_substitution", "process_substitution", "expansion",       "subshell",
        "for_statement",        "while_statement",      "until_statement", "if_statement",
        "case_statement",       "function_definition",  "test_command",    "arithmetic_command",
        "compound_statement",   "heredoc_redirect",     "background",      "negation",
};

/// Thrown inside the parser only; parse_shell turns it into an error value.
struct ParseFailure {
    std::string message;
};

enum class TokenKind { kWord, kOp, kIoNumber, kNewline, kEof };

struct Token {
    TokenKind kind = TokenKind::kEof;
    std::string op;  ///< operator text for kOp
    ShellWord word;  ///< for kWord and kIoNumber
    std::size_t begin = 0;
    std::size_t end = 0;
};

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// NAME=, NAME+= or NAME[subscript]= at the start of an unquoted word.
bool is_assignment(std::string_view raw) {
    if (raw.empty() || !is_name_start(raw[0])) return false;
    std::size_t i = 1;
    while (i < raw.size() && is_name_char(raw[i])) ++i;
    if (i < raw.size() && raw[i] == '[') {
        const std::size_t close = raw.find(']', i);
        if (close == std::string_view::npos) return false;
        i = close + 1;
    }
    if (i < raw.size() && raw[i] == '+') ++i;
    return i < raw.size() && raw[i] == '=';
}

bool is_redirect_op(std::string_view op) {
    static constexpr std::array<std::string_view, 12> kOps = {
        ">", ">>", "<", "<>", ">|", ">&", "<&", "&>", "&>>", "<<", "<<-", "<<<"};
    for (auto o : kOps)
        if (o == op) return true;
    return false;
}

/// What ends a list: a closing parenthesis, case-item terminators, or one of
/// the reserved words in command position.
struct Terminators {
    bool close_paren = false;
    bool case_item = false;
    std::initializer_list<std::string_view> words;
};

class Parser {
public:
    Parser(std::string_view src, int depth, ShellScript& out, bool in_substitution)
        : src_(src), depth_(depth), out_(out), substitution_depth_(in_substitution ? 1 : 0) {}

    void parse_script() {
        parse_list(Terminators{});
        if (peek().kind != TokenKind::kEof) fail("unexpected token");
    }

private:
    /// Bounds every recursion cycle of the grammar.
    class DepthGuard {
    public:
        explicit DepthGuard(int& depth) : depth_(depth) {
            if (depth_ >= kMaxShellDepth) throw ParseFailure{"nesting too deep"};
            ++depth_;
        }
        ~DepthGuard() { --depth_; }
        DepthGuard(const DepthGuard&) = delete;
        DepthGuard& operator=(const DepthGuard&) = delete;

    private:
        int& depth_;
    };

    struct PendingHeredoc {
        std::string delimiter;
        bool strip_tabs = false;
        bool expands = false;
    };

    [[noreturn]] static void fail(std::string message) { throw ParseFailure{std::move(message)}; }

    bool at_end() const { return pos_ >= src_.size(); }
    char cur() const { return pos_ < src_.size() ? src_[pos_] : '\0'; }
    char ahead(std::size_t n) const {
        return pos_ + n < src_.size() ? src_[pos_ + n] : '\0';
    }

    void flag(ShellConstruct c) {
        const auto i = static_cast<std::size_t>(c);
        if (!out_.constructs.test(i)) {
            out_.constructs.set(i);
            out_.construct_order.push_back(c);
        }
    }

    // --- tokens ---------------------------------------------------------------

    const Token& peek() {
        if (!peeked_) {
            Token t = lex();
            peeked_ = std::move(t);
        }
        return *peeked_;
    }

    Token next() {
        peek();
        Token t = std::move(*peeked_);
        peeked_.reset();
        return t;
    }

    static bool is_reserved(const Token& t, std::string_view w) {
        return t.kind == TokenKind::kWord && !t.word.quoted && !t.word.expanded && t.word.raw == w;
    }
    static bool is_op(const Token& t, std::string_view op) {
        return t.kind == TokenKind::kOp && t.op == op;
    }

    void expect_op(std::string_view op) {
        if (!is_op(peek(), op)) fail("expected '" + std::string(op) + "'");
        next();
    }
    void expect_word(std::string_view w) {
        if (!is_reserved(peek(), w)) fail("expected '" + std::string(w) + "'");
        next();
    }
    void skip_newlines() {
        while (peek().kind == TokenKind::kNewline) next();
    }

    void skip_blanks_and_comments() {
        while (!at_end()) {
            const char c = cur();
            if (c == ' ' || c == '\t') {
                ++pos_;
            } else if (c == '\\' && ahead(1) == '\n') {
                pos_ += 2;
            } else if (c == '#') {
                while (!at_end() && cur() != '\n') ++pos_;
            } else {
                break;
            }
        }
    }

    Token lex() {
        skip_blanks_and_comments();
        Token t;
        t.begin = pos_;
        if (at_end()) {
            t.kind = TokenKind::kEof;
            t.end = pos_;
            return t;
        }
        const char c = cur();
        const char n1 = ahead(1);
        auto op = [&](std::string_view text) {
            t.kind = TokenKind::kOp;
            t.op = std::string(text);
            pos_ += text.size();
            t.end = pos_;
            return t;
        };
        switch (c) {
            case '\n':
                ++pos_;
                read_heredoc_bodies();
                t.kind = TokenKind::kNewline;
                t.end = pos_;
                return t;
            case ';':
                if (n1 == ';') return ahead(2) == '&' ? op(";;&") : op(";;");
                return n1 == '&' ? op(";&") : op(";");
            case '&':
                if (n1 == '&') return op("&&");
                if (n1 == '>') return ahead(2) == '>' ? op("&>>") : op("&>");
                return op("&");
            case '|':
                if (n1 == '|') return op("||");
                return n1 == '&' ? op("|&") : op("|");
            case '(':
                return n1 == '(' ? op("((") : op("(");
            case ')':
                return op(")");
            case '>':
                if (n1 == '(') break;  // process substitution: a word
                if (n1 == '>') return op(">>");
                if (n1 == '&') return op(">&");
                if (n1 == '|') return op(">|");
                return op(">");
            case '<':
                if (n1 == '(') break;
                if (n1 == '<') {
                    if (ahead(2) == '<') return op("<<<");
                    return ahead(2) == '-' ? op("<<-") : op("<<");
                }
                if (n1 == '&') return op("<&");
                if (n1 == '>') return op("<>");
                return op("<");
            default:
                break;
        }
        if (is_digit(c)) {
            std::size_t i = pos_;
            while (i < src_.size() && is_digit(src_[i])) ++i;
            if (i < src_.size() && (src_[i] == '<' || src_[i] == '>') &&
                !(i + 1 < src_.size() && src_[i + 1] == '(')) {
                t.kind = TokenKind::kIoNumber;
                t.word.raw = std::string(src_.substr(pos_, i - pos_));
                t.word.value = t.word.raw;
                pos_ = i;
                t.end = pos_;
                return t;
            }
        }
        t.kind = TokenKind::kWord;
        t.word = scan_word();
        t.end = pos_;
        return t;
    }

    // --- words ----------------------------------------------------------------

    ShellWord scan_word() {
        ShellWord w;
        const std::size_t begin = pos_;
        while (!at_end()) {
            const char c = cur();
            if (c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' ||
                c == ')') {
                break;
            }
            if (c == '<' || c == '>') {
                if (pos_ == begin && ahead(1) == '(') {
                    scan_process_substitution(w);
                    continue;
                }
                break;
            }
            if (c == '(') {
                if (is_assignment(src_.substr(begin, pos_ - begin)) && pos_ > begin &&
                    src_[pos_ - 1] == '=') {
                    scan_array();
                    w.value += "(…)";
                    continue;
                }
                break;
            }
            switch (c) {
                case '\\':
                    if (ahead(1) == '\n') {
                        pos_ += 2;
                    } else if (pos_ + 1 < src_.size()) {
                        w.value += ahead(1);
                        w.quoted = true;
                        pos_ += 2;
                    } else {
                        w.value += '\\';
                        ++pos_;
                    }
                    break;
                case '\'':
                    scan_single_quoted(w);
                    break;
                case '"':
                    scan_double_quoted(w);
                    break;
                case '$':
                    scan_dollar(w, false);
                    break;
                case '`':
                    scan_backtick(w);
                    break;
                default:
                    w.value += c;
                    ++pos_;
            }
        }
        w.raw = std::string(src_.substr(begin, pos_ - begin));
        if (w.raw.empty()) fail("empty word");
        return w;
    }

    void scan_single_quoted(ShellWord& w) {
        const std::size_t close = src_.find('\'', pos_ + 1);
        if (close == std::string_view::npos) fail("unterminated single quote");
        w.value += src_.substr(pos_ + 1, close - pos_ - 1);
        w.quoted = true;
        pos_ = close + 1;
    }

    /// $'…': backslash escapes are kept as written; only the extent matters here.
    void scan_ansi_c_quoted(ShellWord& w) {
        pos_ += 2;
        while (!at_end() && cur() != '\'') {
            if (cur() == '\\' && pos_ + 1 < src_.size()) {
                w.value += src_.substr(pos_, 2);
                pos_ += 2;
            } else {
                w.value += cur();
                ++pos_;
            }
        }
        if (at_end()) fail("unterminated $' quote");
        ++pos_;
        w.quoted = true;
    }

    void scan_double_quoted(ShellWord& w) {
        DepthGuard guard(depth_);
        ++pos_;
        w.quoted = true;
        while (!at_end()) {
            const char c = cur();
            if (c == '"') {
                ++pos_;
                return;
            }
            if (c == '\\') {
                const char n = ahead(1);
                if (n == '$' || n == '`' || n == '"' || n == '\\') {
                    w.value += n;
                    pos_ += 2;
                } else if (n == '\n') {
                    pos_ += 2;
                } else {
                    w.value += '\\';
                    ++pos_;
                }
            } else if (c == '$') {
                scan_dollar(w, true);
            } else if (c == '`') {
                scan_backtick(w);
            } else {
                w.value += c;
                ++pos_;
            }
        }
        fail("unterminated double quote");
    }

    void scan_dollar(ShellWord& w, bool in_double_quotes) {
        DepthGuard guard(depth_);
        const std::size_t begin = pos_;
        const char n = ahead(1);
        if (n == '(') {
            w.expanded = true;
            if (ahead(2) == '(') {
                pos_ += 3;
                scan_arithmetic();
            } else {
                flag(ShellConstruct::kCommandSubstitution);
                pos_ += 2;
                parse_nested_list();
            }
        } else if (n == '{') {
            w.expanded = true;
            flag(ShellConstruct::kExpansion);
            pos_ += 2;
            scan_parameter_expansion();
        } else if (n == '\'' && !in_double_quotes) {
            scan_ansi_c_quoted(w);
            return;
        } else if (n == '"' && !in_double_quotes) {
            ++pos_;
            scan_double_quoted(w);
            return;
        } else if (is_name_start(n)) {
            w.expanded = true;
            pos_ += 2;
            while (!at_end() && is_name_char(cur())) ++pos_;
        } else if (is_digit(n) || n == '@' || n == '*' || n == '#' || n == '?' || n == '$' ||
                   n == '!' || n == '-') {
            w.expanded = true;
            pos_ += 2;
        } else {
            ++pos_;  // a lone '$' is literal
        }
        w.value += src_.substr(begin, pos_ - begin);
    }

    /// After "$(" or "<(": a full list up to the matching ')'.
    void parse_nested_list() {
        ++substitution_depth_;
        // The caller is inside lex(); the nested list uses the token buffer,
        // which is empty here and must be empty again when we return.
        parse_list(Terminators{.close_paren = true, .case_item = false, .words = {}});
        expect_op(")");
        --substitution_depth_;
    }

    void scan_process_substitution(ShellWord& w) {
        DepthGuard guard(depth_);
        const std::size_t begin = pos_;
        flag(ShellConstruct::kProcessSubstitution);
        w.expanded = true;
        pos_ += 2;
        parse_nested_list();
        w.value += src_.substr(begin, pos_ - begin);
    }

    /// After "${": up to the matching '}'. Its content is never trusted, only
    /// delimited, since ${…} already counts as an injection risk.
    void scan_parameter_expansion() {
        ShellWord scratch;
        while (!at_end()) {
            const char c = cur();
            if (c == '}') {
                ++pos_;
                return;
            }
            skip_nested_piece(scratch);
        }
        fail("unterminated ${");
    }

    /// Inside ${…} and $((…)): steps over one escape, quoted string, expansion or
    /// plain character, so that a '}' or ')' inside them does not end the construct.
    void skip_nested_piece(ShellWord& scratch) {
        const char c = cur();
        if (c == '\\') {
            pos_ = std::min(pos_ + 2, src_.size());
        } else if (c == '\'') {
            scan_single_quoted(scratch);
        } else if (c == '"') {
            scan_double_quoted(scratch);
        } else if (c == '$') {
            scan_dollar(scratch, false);
        } else if (c == '`') {
            scan_backtick(scratch);
        } else {
            ++pos_;
        }
    }

    /// After "((" or "$((": up to the matching "))".
    void scan_arithmetic() {
        DepthGuard guard(depth_);
        ShellWord scratch;
        int parens = 0;
        while (!at_end()) {
            const char c = cur();
            if (c == '(') {
                ++parens;
                ++pos_;
            } else if (c == ')') {
                if (parens == 0) {
                    if (ahead(1) != ')') fail("expected '))'");
                    pos_ += 2;
                    return;
                }
                --parens;
                ++pos_;
            } else {
                skip_nested_piece(scratch);
            }
        }
        fail("unterminated arithmetic");
    }

    /// NAME=( … ) after the '='.
    void scan_array() {
        DepthGuard guard(depth_);
        ++pos_;
        for (;;) {
            while (!at_end() && (cur() == ' ' || cur() == '\t' || cur() == '\n')) ++pos_;
            if (at_end()) fail("unterminated array");
            const char c = cur();
            if (c == ')') {
                ++pos_;
                return;
            }
            if (c == '#') {
                while (!at_end() && cur() != '\n') ++pos_;
                continue;
            }
            if (c == ';' || c == '&' || c == '|' || c == '(' || c == '<' || c == '>') {
                fail("unexpected operator in array");
            }
            scan_word();
        }
    }

    /// `…`: the body is unescaped and parsed on its own.
    void scan_backtick(ShellWord& w) {
        DepthGuard guard(depth_);
        const std::size_t begin = pos_;
        flag(ShellConstruct::kCommandSubstitution);
        w.expanded = true;
        ++pos_;
        std::string body;
        for (;;) {
            if (at_end()) fail("unterminated backquote");
            const char c = cur();
            if (c == '`') {
                ++pos_;
                break;
            }
            if (c == '\\' && (ahead(1) == '`' || ahead(1) == '\\' || ahead(1) == '$')) {
                body += ahead(1);
                pos_ += 2;
            } else {
                body += c;
                ++pos_;
            }
        }
        Parser inner(body, depth_, out_, true);
        inner.parse_script();
        w.value += src_.substr(begin, pos_ - begin);
    }

    void read_heredoc_bodies() {
        std::vector<PendingHeredoc> pending;
        pending.swap(heredocs_);
        for (const auto& doc : pending) {
            while (!at_end()) {
                std::size_t eol = src_.find('\n', pos_);
                if (eol == std::string_view::npos) eol = src_.size();
                std::string_view line = src_.substr(pos_, eol - pos_);
                pos_ = std::min(eol + 1, src_.size());
                if (doc.strip_tabs) {
                    while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
                }
                if (line == doc.delimiter) break;
                if (doc.expands) {
                    if (line.find("$(") != std::string_view::npos ||
                        line.find('`') != std::string_view::npos) {
                        flag(ShellConstruct::kCommandSubstitution);
                    }
                    if (line.find("${") != std::string_view::npos) {
                        flag(ShellConstruct::kExpansion);
                    }
                }
            }
        }
    }

    // --- grammar --------------------------------------------------------------

    bool at_terminator(const Terminators& terms) {
        const Token& t = peek();
        if (terms.close_paren && is_op(t, ")")) return true;
        if (terms.case_item && t.kind == TokenKind::kOp &&
            (t.op == ";;" || t.op == ";&" || t.op == ";;&")) {
            return true;
        }
        for (auto w : terms.words)
            if (is_reserved(t, w)) return true;
        return false;
    }

    void parse_list(const Terminators& terms) {
        for (;;) {
            skip_newlines();
            if (peek().kind == TokenKind::kEof || at_terminator(terms)) return;
            parse_and_or();
            const Token& sep = peek();
            if (is_op(sep, ";") || is_op(sep, "&")) {
                if (sep.op == "&") flag(ShellConstruct::kBackground);
                next();
                continue;
            }
            if (sep.kind == TokenKind::kNewline) continue;
            return;
        }
    }

    void parse_and_or() {
        parse_pipeline();
        while (is_op(peek(), "&&") || is_op(peek(), "||")) {
            next();
            skip_newlines();
            parse_pipeline();
        }
    }

    void parse_pipeline() {
        if (is_reserved(peek(), "!")) {
            flag(ShellConstruct::kNegation);
            next();
        }
        parse_command();
        while (is_op(peek(), "|") || is_op(peek(), "|&")) {
            next();
            skip_newlines();
            parse_command();
        }
    }

    void parse_command() {
        DepthGuard guard(depth_);
        const Token& t = peek();
        if (is_op(t, "(")) {
            flag(ShellConstruct::kSubshell);
            next();
            parse_list(Terminators{.close_paren = true, .case_item = false, .words = {}});
            expect_op(")");
            parse_trailing_redirects();
            return;
        }
        if (is_op(t, "((")) {
            flag(ShellConstruct::kArithmeticCommand);
            next();  // the lexer stopped right after "((", so scanning resumes there
            scan_arithmetic();
            parse_trailing_redirects();
            return;
        }
        if (t.kind == TokenKind::kWord && !t.word.quoted && !t.word.expanded) {
            const std::string& w = t.word.raw;
            if (w == "{") return parse_brace_group();
            if (w == "if") return parse_if();
            if (w == "while") return parse_loop(ShellConstruct::kWhileStatement);
            if (w == "until") return parse_loop(ShellConstruct::kUntilStatement);
            if (w == "for" || w == "select") return parse_for();
            if (w == "case") return parse_case();
            if (w == "function") return parse_function_keyword();
            if (w == "[[") return parse_test();
            if (w == "coproc") fail("coproc is not supported");
            if (w == "then" || w == "fi" || w == "do" || w == "done" || w == "elif" ||
                w == "else" || w == "esac" || w == "}" || w == "]]") {
                fail("unexpected '" + w + "'");
            }
        }
        parse_simple_command();
    }

    void parse_brace_group() {
        flag(ShellConstruct::kBraceGroup);
        next();
        parse_list(Terminators{.words = {"}"}});
        expect_word("}");
        parse_trailing_redirects();
    }

    void parse_if() {
        flag(ShellConstruct::kIfStatement);
        next();
        parse_list(Terminators{.words = {"then"}});
        expect_word("then");
        parse_list(Terminators{.words = {"elif", "else", "fi"}});
        while (is_reserved(peek(), "elif")) {
            next();
            parse_list(Terminators{.words = {"then"}});
            expect_word("then");
            parse_list(Terminators{.words = {"elif", "else", "fi"}});
        }
        if (is_reserved(peek(), "else")) {
            next();
            parse_list(Terminators{.words = {"fi"}});
        }
        expect_word("fi");
        parse_trailing_redirects();
    }

    void parse_loop(ShellConstruct kind) {
        flag(kind);
        next();
        parse_list(Terminators{.words = {"do"}});
        parse_do_done();
    }

    void parse_do_done() {
        expect_word("do");
        parse_list(Terminators{.words = {"done"}});
        expect_word("done");
        parse_trailing_redirects();
    }

    void parse_for() {
        flag(ShellConstruct::kForStatement);
        next();
        if (is_op(peek(), "((")) {
            next();
            scan_arithmetic();
        } else {
            if (peek().kind != TokenKind::kWord) fail("expected a loop variable");
            next();
            skip_newlines();
            if (is_reserved(peek(), "in")) {
                next();
                while (peek().kind == TokenKind::kWord) next();
            }
        }
        if (is_op(peek(), ";")) next();
        skip_newlines();
        parse_do_done();
    }

    void parse_case() {
        flag(ShellConstruct::kCaseStatement);
        next();
        if (peek().kind != TokenKind::kWord) fail("expected a case subject");
        next();
        skip_newlines();
        expect_word("in");
        for (;;) {
            skip_newlines();
            if (is_reserved(peek(), "esac")) {
                next();
                break;
            }
            if (peek().kind == TokenKind::kEof) fail("expected 'esac'");
            if (is_op(peek(), "(")) next();
            for (;;) {
                if (peek().kind != TokenKind::kWord) fail("expected a case pattern");
                next();
                if (is_op(peek(), "|")) {
                    next();
                    continue;
                }
                expect_op(")");
                break;
            }
            parse_list(Terminators{.case_item = true, .words = {"esac"}});
            const Token& end = peek();
            if (end.kind == TokenKind::kOp && (end.op == ";;" || end.op == ";&" || end.op == ";;&")) {
                next();
            } else if (!is_reserved(end, "esac")) {
                fail("expected ';;' or 'esac'");
            }
        }
        parse_trailing_redirects();
    }

    void parse_function_keyword() {
        flag(ShellConstruct::kFunctionDefinition);
        next();
        if (peek().kind != TokenKind::kWord) fail("expected a function name");
        next();
        if (is_op(peek(), "(")) {
            next();
            expect_op(")");
        }
        parse_function_body();
    }

    void parse_function_body() {
        skip_newlines();
        if (peek().kind == TokenKind::kEof) fail("expected a function body");
        parse_command();
    }

    void parse_test() {
        flag(ShellConstruct::kTestCommand);
        next();
        for (;;) {
            const Token t = next();
            if (t.kind == TokenKind::kEof) fail("expected ']]'");
            if (is_reserved(t, "]]")) break;
        }
        parse_trailing_redirects();
    }

    bool at_redirect() {
        const Token& t = peek();
        return t.kind == TokenKind::kIoNumber || (t.kind == TokenKind::kOp && is_redirect_op(t.op));
    }

    void parse_trailing_redirects() {
        while (at_redirect()) parse_redirect(nullptr);
    }

    /// Returns the end offset of the redirection.
    std::size_t parse_redirect(std::vector<ShellRedirect>* command_redirects) {
        ShellRedirect r;
        if (peek().kind == TokenKind::kIoNumber) {
            r.fd = next().word.raw;
            if (!(peek().kind == TokenKind::kOp && is_redirect_op(peek().op))) {
                fail("expected a redirection operator");
            }
        }
        r.op = next().op;
        if (peek().kind != TokenKind::kWord) fail("expected a redirection target");
        Token target = next();
        r.target = std::move(target.word);
        const std::string& op = r.op;
        if (op == "<") {
            r.kind = RedirectKind::kInput;
        } else if (op == ">" || op == ">|") {
            r.kind = RedirectKind::kOutput;
        } else if (op == ">>") {
            r.kind = RedirectKind::kAppend;
        } else if (op == "<>") {
            r.kind = RedirectKind::kReadWrite;
        } else if (op == "&>") {
            r.kind = RedirectKind::kOutputAll;
        } else if (op == "&>>") {
            r.kind = RedirectKind::kAppendAll;
        } else if (op == ">&" || op == "<&") {
            const std::string& v = r.target.value;
            bool descriptor = !v.empty() && !r.target.expanded;
            for (std::size_t i = 0; i < v.size() && descriptor; ++i) {
                descriptor = is_digit(v[i]) || (v[i] == '-' && i + 1 == v.size());
            }
            if (descriptor) {
                r.kind = RedirectKind::kDuplicate;
            } else if (op == ">&" && r.fd.empty()) {
                r.kind = RedirectKind::kOutputAll;
            } else {
                fail("ambiguous descriptor redirection");
            }
        } else if (op == "<<" || op == "<<-") {
            r.kind = RedirectKind::kHeredoc;
            flag(ShellConstruct::kHeredoc);
            heredocs_.push_back(
                PendingHeredoc{r.target.value, op == "<<-", !r.target.quoted && !r.target.expanded});
        } else {
            r.kind = RedirectKind::kHereString;
        }
        out_.redirects.push_back(r);
        if (command_redirects) command_redirects->push_back(std::move(r));
        return target.end;
    }

    void parse_simple_command() {
        const std::size_t slot = out_.commands.size();
        out_.commands.emplace_back();  // reserved so commands stay in source order
        SimpleCommand cmd;
        const std::size_t begin = peek().begin;
        std::size_t end = begin;
        bool any = false;
        for (;;) {
            if (at_redirect()) {
                end = parse_redirect(&cmd.redirects);
                any = true;
                continue;
            }
            const Token& t = peek();
            if (t.kind != TokenKind::kWord) break;
            Token word = next();
            end = word.end;
            any = true;
            if (cmd.words.empty() && !word.word.quoted && is_assignment(word.word.raw)) {
                cmd.assignments.push_back(std::move(word.word));
                continue;
            }
            cmd.words.push_back(std::move(word.word));
            if (cmd.words.size() == 1 && cmd.assignments.empty() && cmd.redirects.empty() &&
                is_op(peek(), "(")) {
                next();
                expect_op(")");
                flag(ShellConstruct::kFunctionDefinition);
                out_.commands.erase(out_.commands.begin() + static_cast<std::ptrdiff_t>(slot));
                parse_function_body();
                return;
            }
        }
        if (!any) fail("expected a command");
        cmd.text = std::string(src_.substr(begin, end - begin));
        cmd.in_substitution = substitution_depth_ > 0;
        out_.commands[slot] = std::move(cmd);
    }

    std::string_view src_;
    std::size_t pos_ = 0;
    int depth_;
    ShellScript& out_;
    int substitution_depth_;
    std::optional<Token> peeked_;
    std::vector<PendingHeredoc> heredocs_;
};

}  // namespace

std::string_view to_string(ShellConstruct c) {
    const auto i = static_cast<std::size_t>(c);
    return i < kConstructNames.size() ? kConstructNames[i] : "unknown";
}

bool is_injection_risk(ShellConstruct c) {
    return static_cast<int>(c) <= static_cast<int>(ShellConstruct::kArithmeticCommand);
}

bool ShellRedirect::names_file() const {
    return kind != RedirectKind::kDuplicate && kind != RedirectKind::kHeredoc &&
           kind != RedirectKind::kHereString;
}

bool ShellRedirect::writes_file() const {
    return kind == RedirectKind::kOutput || kind == RedirectKind::kAppend ||
           kind == RedirectKind::kReadWrite || kind == RedirectKind::kOutputAll ||
           kind == RedirectKind::kAppendAll;
}

std::optional<ShellConstruct> ShellScript::first_risk() const {
    for (auto c : construct_order)
        if (is_injection_risk(c)) return c;
    return std::nullopt;
}

ShellParseResult parse_shell(std::string_view source) {
    ShellParseResult result;
    if (source.size() > kMaxShellInput) {
        result.error = "command longer than " + std::to_string(kMaxShellInput) + " bytes";
        return result;
    }
    if (source.find('\0') != std::string_view::npos) {
        result.error = "command contains a NUL byte";
        return result;
    }
    ShellScript script;
    try {
        Parser parser(source, 0, script, false);
        parser.parse_script();
    } catch (const ParseFailure& e) {
        result.error = e.message;
        return result;
    }
    result.script = std::move(script);
    return result;
}

}  // namespace agentd::permission
