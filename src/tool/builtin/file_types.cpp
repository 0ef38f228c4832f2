#include "tool/builtin/file_types.hpp"

#include <map>

namespace agentd::tool {

namespace {

const std::map<std::string_view, std::vector<std::string>>& table() {
    static const std::map<std::string_view, std::vector<std::string>> kTypes = {
        {"asm", {"*.asm", "*.s", "*.S"}},
        {"c", {"*.[chH]", "*.[chH].in", "*.cats"}},
        {"clojure", {"*.clj", "*.cljc", "*.cljs", "*.cljx"}},
        {"cmake", {"*.cmake", "CMakeLists.txt"}},
        {"cpp", {"*.[ChH]", "*.cc", "*.[ch]pp", "*.[ch]xx", "*.hh", "*.inl", "*.[ChH].in", "*.cc.in", "*.[ch]pp.in",
                 "*.[ch]xx.in", "*.hh.in"}},
        {"cs", {"*.cs"}},
        {"css", {"*.css", "*.scss"}},
        {"csv", {"*.csv"}},
        {"dart", {"*.dart"}},
        {"docker", {"*Dockerfile*"}},
        {"elixir", {"*.ex", "*.eex", "*.exs", "*.heex", "*.leex", "*.livemd"}},
        {"erlang", {"*.erl", "*.hrl"}},
        {"go", {"*.go"}},
        {"gradle", {"*.gradle", "*.gradle.kts"}},
        {"graphql", {"*.graphql", "*.graphqls"}},
        {"h", {"*.h", "*.hh", "*.hpp"}},
        {"haskell", {"*.hs", "*.lhs", "*.cpphs", "*.c2hs", "*.hsc"}},
        {"html", {"*.htm", "*.html", "*.ejs"}},
        {"ini", {"*.ini"}},
        {"java", {"*.java", "*.jsp", "*.jspx", "*.properties"}},
        {"js", {"*.js", "*.jsx", "*.vue", "*.cjs", "*.mjs"}},
        {"json", {"*.json", "composer.lock", "*.sarif"}},
        {"jsonl", {"*.jsonl"}},
        {"julia", {"*.jl"}},
        {"kotlin", {"*.kt", "*.kts"}},
        {"lua", {"*.lua"}},
        {"make", {"[Gg][Nn][Uu]makefile", "[Mm]akefile", "[Gg][Nn][Uu]makefile.am", "[Gg][Nn][Uu]makefile.in",
                  "[Mm]akefile.am", "[Mm]akefile.in", "*.mk", "*.mak"}},
        {"markdown", {"*.markdown", "*.md", "*.mdown", "*.mdwn", "*.mkd", "*.mkdn", "*.mdx"}},
        {"md", {"*.markdown", "*.md", "*.mdown", "*.mdwn", "*.mkd", "*.mkdn", "*.mdx"}},
        {"ocaml", {"*.ml", "*.mli", "*.mll", "*.mly"}},
        {"perl", {"*.perl", "*.pl", "*.PL", "*.plh", "*.plx", "*.pm", "*.t"}},
        {"php", {"*.php", "*.php3", "*.php4", "*.php5", "*.php7", "*.php8", "*.pht", "*.phtml"}},
        {"proto", {"*.proto"}},
        {"py", {"*.py", "*.pyi"}},
        {"python", {"*.py", "*.pyi"}},
        {"r", {"*.R", "*.r", "*.Rmd", "*.Rnw"}},
        {"rst", {"*.rst"}},
        {"ruby", {"Gemfile", "*.gemspec", ".irbrc", "Rakefile", "*.rb", "*.rbw"}},
        {"rust", {"*.rs"}},
        {"scala", {"*.scala", "*.sbt"}},
        {"sh", {"*.bash", "*.bashrc", ".bash_*", ".bashrc", "*.csh", ".cshrc", "*.ksh", ".kshrc", "*.sh", ".zlogin",
                ".zlogout", ".zprofile", ".zshenv", ".zshrc", "*.zsh", "*.zsh-theme", "zshrc", ".profile",
                ".login", ".logout"}},
        {"sql", {"*.sql", "*.psql"}},
        {"svelte", {"*.svelte"}},
        {"swift", {"*.swift"}},
        {"tex", {"*.tex", "*.ltx", "*.cls", "*.sty", "*.bib", "*.dtx", "*.ins"}},
        {"tf", {"*.tf", "*.tfvars"}},
        {"toml", {"*.toml", "Cargo.lock"}},
        {"ts", {"*.ts", "*.tsx", "*.cts", "*.mts"}},
        {"typescript", {"*.ts", "*.tsx", "*.cts", "*.mts"}},
        {"txt", {"*.txt"}},
        {"vue", {"*.vue"}},
        {"xml", {"*.xml", "*.xml.dist", "*.dtd", "*.xsl", "*.xslt", "*.xsd", "*.xjb", "*.rng", "*.sch", "*.xhtml"}},
        {"yaml", {"*.yaml", "*.yml"}},
        {"zig", {"*.zig"}},
    };
    return kTypes;
}

}  // namespace

std::optional<std::vector<std::string>> file_type_globs(std::string_view name) {
    auto it = table().find(name);
    if (it == table().end()) return std::nullopt;
    return it->second;
}

}  // namespace agentd::tool
