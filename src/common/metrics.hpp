#pragma once
// Prometheus metrics without a client library (issue #9): a histogram that counts observations
// into fixed buckets, and a writer for the text exposition format 0.0.4 that /metrics serves.
// Pure: no clocks, no sockets; the shells observe durations they measured themselves.
//
// Format rules kept here so every caller gets them right:
//  - one "# HELP" and one "# TYPE" line per family, and all samples of a family together (the
//    writer groups them, whatever order they were added in);
//  - metric and label names match [a-zA-Z_:][a-zA-Z0-9_:]* (metric_name() maps anything else,
//    e.g. the dots of the Node.Stats names, to '_');
//  - label values escape backslash, double quote and newline; HELP text escapes backslash and
//    newline;
//  - histogram buckets are cumulative, end with le="+Inf" (= _count), and come with _sum.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rpcnetd::common::metrics {

using label_list = std::vector<std::pair<std::string, std::string>>;

class histogram {
public:
    // upper_bounds: the finite bucket limits, strictly ascending (unsorted or duplicate input
    // is sorted and deduplicated; NaN and infinities are dropped). +Inf is implicit.
    explicit histogram(std::vector<double> upper_bounds);

    // NaN is ignored; everything else lands in the first bucket whose bound is >= v.
    void observe(double v);

    const std::vector<double>& bounds() const { return bounds_; }
    // Cumulative count of observations <= bounds()[i]; size() == bounds().size().
    std::vector<std::uint64_t> cumulative() const;
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> buckets_;  // per bucket (not cumulative), last = above every bound
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

// Latency buckets in seconds, 0.5 ms to 10 s: loopback round trips to slow, loaded machines.
std::vector<double> latency_buckets();
// Duration buckets in seconds, 10 ms to 1 h: whole streams.
std::vector<double> duration_buckets();

// Maps a name to the metric-name alphabet: every character outside [a-zA-Z0-9_:] becomes '_',
// and a leading digit gets a '_' in front. "rpc.frames_too_large" -> "rpc_frames_too_large".
std::string metric_name(std::string_view raw);
// Escapes a label value for use inside double quotes.
std::string escape_label_value(std::string_view v);
// Escapes HELP text.
std::string escape_help(std::string_view v);
// A sample value: integers without exponent, "+Inf", "-Inf", "NaN", otherwise shortest exact.
std::string format_value(double v);

// Collects families and renders them. Names given here are used as they are (pass them through
// metric_name() when they come from elsewhere); label names must already be valid.
class exposition {
public:
    void counter(std::string_view name, std::string_view help, double value,
                 const label_list& labels = {});
    void gauge(std::string_view name, std::string_view help, double value,
               const label_list& labels = {});
    void add_histogram(std::string_view name, std::string_view help, const histogram& h,
                       const label_list& labels = {});

    std::string str() const;

private:
    struct family {
        std::string name;
        std::string help;
        std::string type;
        std::string samples;
    };
    family& family_for(std::string_view name, std::string_view help, std::string_view type);
    static void sample(std::string& out, std::string_view name, const label_list& labels,
                       double value, const std::pair<std::string, std::string>* extra = nullptr);

    std::vector<family> families_;
};

}  // namespace rpcnetd::common::metrics
