#include "domain/model_schema.hpp"

namespace agentd::domain {

using validation::Issues;

std::optional<bj::value> parse_field(const bj::value& v, const FieldSpec& spec,
                                     const bj::array& loc, Issues& issues) {
    std::optional<bj::value> out;
    switch (spec.kind) {
        case FieldKind::kStr:
            if (!spec.choices.empty()) {
                const auto& cs = spec.choices;
                if (v.is_string()) {
                    for (auto c : cs)
                        if (v.get_string() == c) return bj::value(v.get_string());
                }
                std::string expected;
                for (std::size_t i = 0; i < cs.size(); ++i) {
                    if (i > 0) expected += (i + 1 == cs.size()) ? " or " : ", ";
                    expected += "'" + std::string(cs[i]) + "'";
                }
                bj::object ctx;
                ctx["expected"] = expected;
                issues.add(spec.enum_type ? "enum" : "literal_error", loc,
                           "Input should be " + expected, v, std::move(ctx));
                return std::nullopt;
            }
            if (auto s = validation::as_string(v, loc, issues)) out = bj::value(*s);
            break;
        case FieldKind::kOptStr:
            if (v.is_null()) return bj::value(nullptr);
            if (auto s = validation::as_string(v, loc, issues)) out = bj::value(*s);
            break;
        case FieldKind::kInt:
            if (auto i = validation::as_int(v, loc, issues)) out = bj::value(*i);
            break;
        case FieldKind::kFloat:
            if (auto d = validation::as_float(v, loc, issues)) out = bj::value(*d);
            break;
        case FieldKind::kBool:
            if (auto b = validation::as_bool(v, loc, issues)) out = bj::value(*b);
            break;
        case FieldKind::kDict:
            if (auto o = validation::as_dict(v, loc, issues)) out = bj::value(*o);
            break;
        case FieldKind::kOptDict:
            if (v.is_null()) return bj::value(nullptr);
            if (auto o = validation::as_dict(v, loc, issues)) out = bj::value(*o);
            break;
        case FieldKind::kStrList: {
            auto a = validation::as_list(v, loc, issues);
            if (!a) break;
            bj::array items;
            bool ok = true;
            for (std::size_t i = 0; i < a->size(); ++i) {
                auto s = validation::as_string((*a)[i], validation::loc_join(loc, i), issues);
                if (s) items.emplace_back(*s);
                else ok = false;
            }
            if (ok) out = bj::value(std::move(items));
            break;
        }
        case FieldKind::kAny: out = v; break;
    }
    if (!out) return std::nullopt;
    if (!spec.bounds.empty() && (out->is_number())) {
        double d = out->to_number<double>();
        bool ok = true;
        for (const auto& b : spec.bounds)
            if (ok) ok = validation::check_bound(d, v, b.kind, b.value, b.json, loc, issues);
        if (!ok) return std::nullopt;
    }
    return out;
}

std::optional<bj::object> parse_model(const bj::value& input, const bj::array& loc, Issues& issues,
                                      std::span<const FieldSpec> fields) {
    const bj::object* obj = validation::as_model(input, loc, issues);
    if (!obj) return std::nullopt;
    bj::object out;
    for (const auto& f : fields) {
        auto floc = validation::loc_join(loc, f.name);
        auto it = obj->find(f.name);
        if (it == obj->end()) {
            if (f.required) {
                issues.missing(floc, input);
                continue;
            }
            out[f.name] = f.default_factory ? f.default_factory() : f.default_value;
            continue;
        }
        if (auto v = parse_field(it->value(), f, floc, issues)) out[f.name] = std::move(*v);
    }
    return out;
}

}  // namespace agentd::domain
