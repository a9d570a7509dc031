#pragma once
// Bounded label values for the failovers clients report (Director.ReportFailure.reason). The
// reason is free text from the client, so it never becomes a metric label as it is: it is mapped
// onto a small fixed set of classes, and anything unrecognised counts as "other".
#include <string>
#include <string_view>

namespace rpcnetd::app {

// "connect: ..."          -> connect        "no token for 1000ms" -> idle_timeout
// "stream ended early"    -> ended_early    "sequence gap at 7"   -> sequence_gap
// "malformed token"       -> malformed      "director sent a bad worker address" -> bad_address
// "WORKER_FAILED: ..."    -> worker_failed  (any StatusCode name, lower-cased: unavailable,
//                                            cancelled, deadline_exceeded, ...)
// ""                      -> unspecified    anything else -> other
std::string failover_reason_class(std::string_view reason);

}  // namespace rpcnetd::app
