#include "domain/model_reader.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "common/ids.hpp"

namespace agentd::domain {

using validation::Issues;
using validation::loc_join;

std::optional<UnionMatch> read_smart_union(const bj::value& input, const bj::array& loc,
                                           Issues& issues, std::span<const UnionBranch> branches) {
    std::optional<UnionMatch> best;
    std::size_t best_fields = 0;
    Issues failures;
    for (std::size_t i = 0; i < branches.size(); ++i) {
        Issues local;
        auto read = branches[i].read(input, loc_join(loc, branches[i].label), local);
        if (read && local.empty()) {
            if (!read->fields_set) return UnionMatch{i, std::move(read->value)};
            if (!best || *read->fields_set > best_fields) {
                best = UnionMatch{i, std::move(read->value)};
                best_fields = *read->fields_set;
            }
        } else if (!best) {
            failures.append(local);
        }
    }
    if (best) return best;
    issues.append(failures);
    return std::nullopt;
}

std::optional<bj::value> read_str(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (auto s = validation::as_string(v, loc, issues)) return bj::value(*s);
    return std::nullopt;
}

std::optional<bj::value> read_int(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (auto i = validation::as_int(v, loc, issues)) return bj::value(*i);
    return std::nullopt;
}

std::optional<bj::value> read_bool(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (auto b = validation::as_bool(v, loc, issues)) return bj::value(*b);
    return std::nullopt;
}

std::optional<bj::value> read_dict(const bj::value& v, const bj::array& loc, Issues& issues) {
    if (auto o = validation::as_dict(v, loc, issues)) return bj::value(*o);
    return std::nullopt;
}

ValueReader choice_reader(std::span<const std::string_view> choices, bool enum_type) {
    return [choices, enum_type](const bj::value& v, const bj::array& loc,
                                Issues& issues) -> std::optional<bj::value> {
        if (v.is_string() &&
            std::find(choices.begin(), choices.end(), v.get_string()) != choices.end())
            return bj::value(v.get_string());
        std::string expected;
        for (std::size_t i = 0; i < choices.size(); ++i) {
            if (i > 0) expected += (i + 1 == choices.size()) ? " or " : ", ";
            expected += "'" + std::string(choices[i]) + "'";
        }
        bj::object ctx;
        ctx["expected"] = expected;
        issues.add(enum_type ? "enum" : "literal_error", loc, "Input should be " + expected, v,
                   std::move(ctx));
        return std::nullopt;
    };
}

ValueReader model_reader(ModelReader read) {
    return [read = std::move(read)](const bj::value& v, const bj::array& loc,
                                    Issues& issues) -> std::optional<bj::value> {
        auto m = read(v, loc, issues);
        if (!m) return std::nullopt;
        return std::move(m->value);
    };
}

ValueReader list_reader(ValueReader item) {
    return [item = std::move(item)](const bj::value& v, const bj::array& loc,
                                    Issues& issues) -> std::optional<bj::value> {
        const bj::array* a = validation::as_list(v, loc, issues);
        if (!a) return std::nullopt;
        bj::array out;
        out.reserve(a->size());
        bool ok = true;
        for (std::size_t i = 0; i < a->size(); ++i) {
            auto r = item((*a)[i], loc_join(loc, i), issues);
            if (r)
                out.push_back(std::move(*r));
            else
                ok = false;
        }
        if (!ok) return std::nullopt;
        return bj::value(std::move(out));
    };
}

ValueReader union_reader(std::vector<UnionBranch> branches) {
    return [branches = std::move(branches)](const bj::value& v, const bj::array& loc,
                                            Issues& issues) -> std::optional<bj::value> {
        auto m = read_smart_union(v, loc, issues, branches);
        if (!m) return std::nullopt;
        return std::move(m->value);
    };
}

ModelReader plain_branch(ValueReader read) {
    return [read = std::move(read)](const bj::value& v, const bj::array& loc,
                                    Issues& issues) -> std::optional<ReadModel> {
        auto r = read(v, loc, issues);
        if (!r) return std::nullopt;
        return ReadModel{std::move(*r), std::nullopt};
    };
}

ModelFields::ModelFields(const bj::value& input, const bj::array& loc, Issues& issues)
    : input_(input), loc_(loc), issues_(issues), before_(issues.size()) {
    obj_ = validation::as_model(input, loc, issues);
}

void ModelFields::take(bj::object& out, std::string_view key, const ValueReader& read,
                       const Default& dflt, bool nullable) {
    auto it = obj_->find(key);
    if (it == obj_->end()) {
        if (dflt)
            out[key] = dflt();
        else
            issues_.missing(loc_join(loc_, key), input_);
        return;
    }
    ++fields_set_;
    if (nullable && it->value().is_null()) {
        out[key] = nullptr;
        return;
    }
    if (auto v = read(it->value(), loc_join(loc_, key), issues_)) out[key] = std::move(*v);
}

void ModelFields::literal(bj::object& out, std::string_view key, std::string_view value,
                          std::string_view shown) {
    auto it = obj_->find(key);
    if (it == obj_->end()) {
        out[key] = value;
        return;
    }
    ++fields_set_;
    if (it->value().is_string() && it->value().get_string() == value) {
        out[key] = value;
        return;
    }
    std::string expected = shown.empty() ? "'" + std::string(value) + "'" : std::string(shown);
    bj::object ctx;
    ctx["expected"] = expected;
    issues_.add("literal_error", loc_join(loc_, key), "Input should be " + expected, it->value(),
                std::move(ctx));
}

void ModelFields::keep_extra(bj::object& out, std::initializer_list<std::string_view> declared) {
    for (const auto& kv : *obj_) {
        if (std::find(declared.begin(), declared.end(), kv.key()) != declared.end()) continue;
        ++fields_set_;
        out[kv.key()] = kv.value();
    }
}

std::optional<ReadModel> ModelFields::finish(bj::object out) const {
    if (failed()) return std::nullopt;
    return ReadModel{bj::value(std::move(out)), fields_set_};
}

bj::value ModelFields::new_id_value() { return bj::value(new_id()); }
bj::value ModelFields::now_value() { return bj::value(clock::iso_local(clock::now_us())); }

}  // namespace agentd::domain
