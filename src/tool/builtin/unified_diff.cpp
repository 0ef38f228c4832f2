#include "tool/builtin/unified_diff.hpp"

#include <algorithm>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace agentd::tool {

namespace {

struct Match {
    std::size_t i, j, size;
};

// SequenceMatcher without a junk predicate: `b_index` maps each line of b to
// its ascending positions, minus "popular" lines when b has 200+ lines.
class LineMatcher {
public:
    LineMatcher(const std::vector<std::string>& a, const std::vector<std::string>& b) : a_(a), b_(b) {
        for (std::size_t j = 0; j < b.size(); ++j) b_index_[b[j]].push_back(j);
        if (b.size() >= 200) {
            const std::size_t popular = b.size() / 100 + 1;
            for (auto it = b_index_.begin(); it != b_index_.end();) {
                it = it->second.size() > popular ? b_index_.erase(it) : std::next(it);
            }
        }
    }

    std::vector<Match> matching_blocks() const {
        std::vector<Match> blocks;
        std::vector<std::tuple<std::size_t, std::size_t, std::size_t, std::size_t>> queue;
        queue.emplace_back(0, a_.size(), 0, b_.size());
        while (!queue.empty()) {
            auto [alo, ahi, blo, bhi] = queue.back();
            queue.pop_back();
            const Match m = longest_match(alo, ahi, blo, bhi);
            if (m.size == 0) continue;
            blocks.push_back(m);
            if (alo < m.i && blo < m.j) queue.emplace_back(alo, m.i, blo, m.j);
            if (m.i + m.size < ahi && m.j + m.size < bhi) queue.emplace_back(m.i + m.size, ahi, m.j + m.size, bhi);
        }
        std::sort(blocks.begin(), blocks.end(),
                  [](const Match& x, const Match& y) { return std::tie(x.i, x.j, x.size) < std::tie(y.i, y.j, y.size); });
        std::vector<Match> merged;
        for (const Match& m : blocks) {
            if (!merged.empty() && merged.back().i + merged.back().size == m.i &&
                merged.back().j + merged.back().size == m.j) {
                merged.back().size += m.size;
            } else {
                merged.push_back(m);
            }
        }
        merged.push_back(Match{a_.size(), b_.size(), 0});
        return merged;
    }

private:
    Match longest_match(std::size_t alo, std::size_t ahi, std::size_t blo, std::size_t bhi) const {
        std::size_t best_i = alo, best_j = blo, best_size = 0;
        // run_length[j] = length of the match ending at a[i-1], b[j]; kept sparse.
        std::unordered_map<std::size_t, std::size_t> run_length, next_run_length;
        for (std::size_t i = alo; i < ahi; ++i) {
            next_run_length.clear();
            auto found = b_index_.find(a_[i]);
            if (found != b_index_.end()) {
                for (std::size_t j : found->second) {
                    if (j < blo) continue;
                    if (j >= bhi) break;
                    std::size_t k = 1;
                    if (j > 0) {
                        auto prev = run_length.find(j - 1);
                        if (prev != run_length.end()) k = prev->second + 1;
                    }
                    next_run_length[j] = k;
                    if (k > best_size) {
                        best_i = i + 1 - k;
                        best_j = j + 1 - k;
                        best_size = k;
                    }
                }
            }
            std::swap(run_length, next_run_length);
        }
        // Popular lines were left out of the index; extend over equal ones.
        while (best_i > alo && best_j > blo && a_[best_i - 1] == b_[best_j - 1]) {
            --best_i;
            --best_j;
            ++best_size;
        }
        while (best_i + best_size < ahi && best_j + best_size < bhi && a_[best_i + best_size] == b_[best_j + best_size]) {
            ++best_size;
        }
        return Match{best_i, best_j, best_size};
    }

    const std::vector<std::string>& a_;
    const std::vector<std::string>& b_;
    std::unordered_map<std::string_view, std::vector<std::size_t>> b_index_;
};

std::string format_range(std::size_t start, std::size_t stop) {
    std::size_t beginning = start + 1;
    const std::size_t length = stop - start;
    if (length == 1) return std::to_string(beginning);
    if (length == 0) --beginning;
    return std::to_string(beginning) + "," + std::to_string(length);
}

}  // namespace

std::vector<DiffOpcode> diff_opcodes(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    std::vector<DiffOpcode> codes;
    std::size_t i = 0, j = 0;
    for (const Match& m : LineMatcher(a, b).matching_blocks()) {
        char tag = 0;
        if (i < m.i && j < m.j) {
            tag = 'r';
        } else if (i < m.i) {
            tag = 'd';
        } else if (j < m.j) {
            tag = 'i';
        }
        if (tag) codes.push_back(DiffOpcode{tag, i, m.i, j, m.j});
        i = m.i + m.size;
        j = m.j + m.size;
        if (m.size) codes.push_back(DiffOpcode{'e', m.i, i, m.j, j});
    }
    return codes;
}

std::string unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         std::string_view fromfile, std::string_view tofile, int context) {
    const std::size_t n = static_cast<std::size_t>(context);
    std::vector<DiffOpcode> codes = diff_opcodes(a, b);
    if (codes.empty()) codes.push_back(DiffOpcode{'e', 0, 1, 0, 1});
    // Trim the leading and trailing equal runs to the context size.
    if (codes.front().tag == 'e') {
        auto& c = codes.front();
        c.i1 = std::max(c.i1, c.i2 >= n ? c.i2 - n : 0);
        c.j1 = std::max(c.j1, c.j2 >= n ? c.j2 - n : 0);
    }
    if (codes.back().tag == 'e') {
        auto& c = codes.back();
        c.i2 = std::min(c.i2, c.i1 + n);
        c.j2 = std::min(c.j2, c.j1 + n);
    }
    std::vector<std::vector<DiffOpcode>> groups;
    std::vector<DiffOpcode> group;
    for (DiffOpcode c : codes) {
        // A long equal run closes the current hunk and opens the next one.
        if (c.tag == 'e' && c.i2 - c.i1 > 2 * n) {
            group.push_back(DiffOpcode{'e', c.i1, std::min(c.i2, c.i1 + n), c.j1, std::min(c.j2, c.j1 + n)});
            groups.push_back(std::move(group));
            group.clear();
            c.i1 = std::max(c.i1, c.i2 - n);
            c.j1 = std::max(c.j1, c.j2 - n);
        }
        group.push_back(c);
    }
    if (!group.empty() && !(group.size() == 1 && group.front().tag == 'e')) groups.push_back(std::move(group));

    std::string out;
    for (const auto& g : groups) {
        if (out.empty()) {
            out.append("--- ").append(fromfile).append("\n");
            out.append("+++ ").append(tofile).append("\n");
        }
        out.append("@@ -")
            .append(format_range(g.front().i1, g.back().i2))
            .append(" +")
            .append(format_range(g.front().j1, g.back().j2))
            .append(" @@\n");
        for (const DiffOpcode& c : g) {
            if (c.tag == 'e') {
                for (std::size_t k = c.i1; k < c.i2; ++k) out.append(" ").append(a[k]);
                continue;
            }
            if (c.tag == 'r' || c.tag == 'd') {
                for (std::size_t k = c.i1; k < c.i2; ++k) out.append("-").append(a[k]);
            }
            if (c.tag == 'r' || c.tag == 'i') {
                for (std::size_t k = c.j1; k < c.j2; ++k) out.append("+").append(b[k]);
            }
        }
    }
    return out;
}

}  // namespace agentd::tool
