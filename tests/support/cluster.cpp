#include "support/cluster.hpp"

#include <thread>

namespace rpcnetd::test {

std::optional<std::uint64_t> json_uint(const std::string& line, const std::string& key) {
    // The first occurrence of "key": followed by a number (a tag may carry the same key as a
    // string, e.g. the active_streams tag inside "tags").
    const std::string needle = "\"" + key + "\":";
    for (auto pos = line.find(needle); pos != std::string::npos; pos = line.find(needle, pos + 1)) {
        std::size_t i = pos + needle.size();
        std::uint64_t value = 0;
        bool any = false;
        while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
            value = value * 10 + static_cast<std::uint64_t>(line[i] - '0');
            any = true;
            ++i;
        }
        if (any) {
            return value;
        }
    }
    return std::nullopt;
}

std::optional<std::string> json_string(const std::string& line, const std::string& key) {
    const std::string needle = "\"" + key + "\":\"";
    const auto pos = line.find(needle);
    if (pos == std::string::npos) {
        return std::nullopt;
    }
    std::string out;
    for (std::size_t i = pos + needle.size(); i < line.size(); ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
            out.push_back(line[++i]);
        } else if (line[i] == '"') {
            return out;
        } else {
            out.push_back(line[i]);
        }
    }
    return std::nullopt;
}

bool has_raw_control(const std::string& text) {
    for (const unsigned char c : text) {
        if (c < 0x20 || c == 0x7F) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        if (nl == std::string::npos) {
            nl = text.size();
        }
        out.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

unsigned short port_of(const std::string& addr) {
    return static_cast<unsigned short>(std::stoi(addr.substr(addr.rfind(':') + 1)));
}

void cluster::pause(std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
}

std::vector<std::string> cluster::common_flags() const {
    const std::string certs = source_dir() + "/certs/";
    return {"--cert", certs + "test_cert.pem", "--key", certs + "test_key.pem", "--log-level",
            "info"};
}

std::string cluster::stats_json(const std::string& target) {
    std::vector<std::string> argv{rpcnetd_binary(), "stats",
                                  "--target",       target.empty() ? director_addr() : target,
                                  "--output",       "json"};
    for (auto& f : common_flags()) {
        argv.push_back(f);
    }
    const auto r = run_command(std::move(argv), std::chrono::seconds(15));
    return r.exit_code == 0 ? r.output : std::string();
}

cluster::cluster(std::vector<std::string> director_flags) : director_port_(free_port()) {
    std::vector<std::string> argv{rpcnetd_binary(), "director",          "--addr",
                                  director_addr(),  "--status-interval", "1s"};
    for (auto& f : common_flags()) {
        argv.push_back(f);
    }
    for (auto& f : director_flags) {
        argv.push_back(f);
    }
    director_ = std::make_unique<child_process>(std::move(argv));
}

std::unique_ptr<child_process> cluster::spawn_worker(const worker_entry& w) {
    std::vector<std::string> argv{rpcnetd_binary(), "worker", "--label", w.label,
                                  "--addr",         w.addr,   "--join",  director_addr()};
    for (auto& f : common_flags()) {
        argv.push_back(f);
    }
    for (auto& f : w.flags) {
        argv.push_back(f);
    }
    return std::make_unique<child_process>(std::move(argv));
}

std::size_t cluster::add_worker(const std::string& label, std::vector<std::string> flags) {
    worker_entry w{label, "127.0.0.1:" + std::to_string(free_port()), std::move(flags), nullptr};
    w.process = spawn_worker(w);
    workers_.push_back(std::move(w));
    return workers_.size() - 1;
}

void cluster::restart_worker(std::size_t i) {
    auto& w = workers_.at(i);
    w.process = spawn_worker(w);
}

std::vector<member_view> cluster::members(const std::string& director) {
    std::vector<std::string> argv{rpcnetd_binary(), "members",
                                  "--director",     director.empty() ? director_addr() : director,
                                  "--output",       "json"};
    for (auto& f : common_flags()) {
        argv.push_back(f);
    }
    auto r = run_command(std::move(argv), std::chrono::seconds(10));
    std::vector<member_view> out;
    if (r.exit_code != 0) {
        return out;
    }
    // One object per member: split on "},{" boundaries of the top-level array.
    std::size_t pos = 0;
    while ((pos = r.output.find("{\"name\":", pos)) != std::string::npos) {
        auto end = r.output.find("{\"name\":", pos + 1);
        const std::string obj =
            r.output.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
        member_view m;
        m.name = json_string(obj, "name").value_or("");
        m.state = json_string(obj, "state").value_or("");
        m.addr = json_string(obj, "addr").value_or("");
        m.incarnation = json_uint(obj, "incarnation").value_or(0);
        m.active_streams = json_uint(obj, "active_streams").value_or(0);
        m.assignable = obj.find("\"assignable\":true") != std::string::npos;
        m.health = json_string(obj, "health").value_or("");
        m.draining = obj.find("\"draining\":true") != std::string::npos;
        out.push_back(std::move(m));
        pos = end == std::string::npos ? r.output.size() : end;
    }
    return out;
}

bool cluster::wait_alive_workers(std::size_t n, std::chrono::milliseconds limit) {
    return wait_members(
        [&](const std::vector<member_view>& ms) {
            std::size_t alive = 0;
            for (const auto& m : ms) {
                if (m.state == "alive" && m.name != "director") {
                    ++alive;
                }
            }
            return alive >= n;
        },
        limit);
}

std::optional<std::string> cluster::state_of(const std::string& name) {
    for (const auto& m : members()) {
        if (m.name == name) {
            return m.state;
        }
    }
    return std::nullopt;
}

std::unique_ptr<child_process> cluster::start_client(std::vector<std::string> flags) {
    std::vector<std::string> argv{rpcnetd_binary(), "client",   "--director",
                                  director_addr(),  "--output", "jsonl"};
    for (auto& f : common_flags()) {
        argv.push_back(f);
    }
    for (auto& f : flags) {
        argv.push_back(f);
    }
    return std::make_unique<child_process>(std::move(argv));
}

client_run parse_client_output(const std::string& output) {
    client_run run;
    for (const auto& line : split_lines(output)) {
        const auto event = json_string(line, "event");
        if (!event) {
            continue;
        }
        if (*event == "token") {
            run.sequences.push_back(json_uint(line, "sequence").value_or(0));
            run.token_workers.push_back(json_string(line, "worker").value_or(""));
        } else if (*event == "failover") {
            ++run.failovers;
            run.steps.push_back(
                {*event, json_string(line, "from").value_or(""), run.sequences.size()});
        } else if (*event == "assigned") {
            run.steps.push_back(
                {*event, json_string(line, "worker").value_or(""), run.sequences.size()});
            run.assigned_by.push_back(json_string(line, "director").value_or(""));
        } else if (*event == "waiting") {
            ++run.waiting;
        } else if (*event == "queued") {
            ++run.queued;
        } else if (*event == "done") {
            run.done = true;
        }
    }
    return run;
}

bool exactly_once_in_order(const std::vector<std::uint64_t>& sequences, std::uint64_t n) {
    if (sequences.size() != n) {
        return false;
    }
    for (std::uint64_t i = 0; i < n; ++i) {
        if (sequences[i] != i + 1) {
            return false;
        }
    }
    return true;
}

}  // namespace rpcnetd::test
