#include "common/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rpcnetd::common::metrics {

histogram::histogram(std::vector<double> upper_bounds) {
    std::erase_if(upper_bounds, [](double b) { return !std::isfinite(b); });
    std::sort(upper_bounds.begin(), upper_bounds.end());
    upper_bounds.erase(std::unique(upper_bounds.begin(), upper_bounds.end()), upper_bounds.end());
    bounds_ = std::move(upper_bounds);
    buckets_.assign(bounds_.size() + 1, 0);
}

void histogram::observe(double v) {
    if (std::isnan(v)) {
        return;
    }
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
    ++buckets_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += v;
}

std::vector<std::uint64_t> histogram::cumulative() const {
    std::vector<std::uint64_t> out(bounds_.size());
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        running += buckets_[i];
        out[i] = running;
    }
    return out;
}

std::vector<double> latency_buckets() {
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> duration_buckets() {
    return {0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600};
}

std::string metric_name(std::string_view raw) {
    std::string out;
    out.reserve(raw.size() + 1);
    for (const char c : raw) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == ':';
        out += ok ? c : '_';
    }
    if (out.empty() || (out[0] >= '0' && out[0] <= '9')) {
        out.insert(out.begin(), '_');
    }
    return out;
}

namespace {

// Backslash and newline always; the double quote only inside label values.
std::string escape(std::string_view v, bool quote) {
    std::string out;
    out.reserve(v.size());
    for (const char c : v) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view v) {
    return escape(v, true);
}

std::string escape_help(std::string_view v) {
    return escape(v, false);
}

std::string format_value(double v) {
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        return fmt::format("{}", static_cast<long long>(v));
    }
    return fmt::format("{}", v);
}

exposition::family& exposition::family_for(std::string_view name, std::string_view help,
                                           std::string_view type) {
    for (auto& f : families_) {
        if (f.name == name) {
            return f;
        }
    }
    families_.push_back(family{std::string(name), std::string(help), std::string(type), {}});
    return families_.back();
}

void exposition::sample(std::string& out, std::string_view name, const label_list& labels,
                        double value, const std::pair<std::string, std::string>* extra) {
    out += name;
    if (!labels.empty() || extra != nullptr) {
        out += '{';
        bool first = true;
        auto put = [&](const std::pair<std::string, std::string>& l) {
            out += first ? "" : ",";
            first = false;
            out += l.first;
            out += "=\"";
            out += escape_label_value(l.second);
            out += '"';
        };
        for (const auto& l : labels) {
            put(l);
        }
        if (extra != nullptr) {
            put(*extra);
        }
        out += '}';
    }
    out += ' ';
    out += format_value(value);
    out += '\n';
}

void exposition::counter(std::string_view name, std::string_view help, double value,
                         const label_list& labels) {
    sample(family_for(name, help, "counter").samples, name, labels, value);
}

void exposition::gauge(std::string_view name, std::string_view help, double value,
                       const label_list& labels) {
    sample(family_for(name, help, "gauge").samples, name, labels, value);
}

void exposition::add_histogram(std::string_view name, std::string_view help, const histogram& h,
                               const label_list& labels) {
    auto& out = family_for(name, help, "histogram").samples;
    const std::string bucket = std::string(name) + "_bucket";
    const auto cumulative = h.cumulative();
    for (std::size_t i = 0; i < h.bounds().size(); ++i) {
        const std::pair<std::string, std::string> le{"le", format_value(h.bounds()[i])};
        sample(out, bucket, labels, static_cast<double>(cumulative[i]), &le);
    }
    const std::pair<std::string, std::string> inf{"le", "+Inf"};
    sample(out, bucket, labels, static_cast<double>(h.count()), &inf);
    sample(out, std::string(name) + "_sum", labels, h.sum());
    sample(out, std::string(name) + "_count", labels, static_cast<double>(h.count()));
}

std::string exposition::str() const {
    std::string out;
    for (const auto& f : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escape_help(f.help), f.name,
                           f.type);
        out += f.samples;
    }
    return out;
}

}  // namespace rpcnetd::common::metrics
