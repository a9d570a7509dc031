#pragma once
// Minimal JSON output for the contract in DESIGN.md §5 (jsonl events, members --output json).
// Writing only: rpcnetd never parses JSON.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace rpcnetd::common {

// Appends s as a quoted JSON string with RFC 8259 escaping.
void append_json_string(std::string& out, std::string_view s);

// Builds one JSON object: json_object().add("event","token").add("sequence",7).str()
class json_object {
public:
    json_object& add(std::string_view key, std::string_view value);
    json_object& add(std::string_view key, const char* value) {
        return add(key, std::string_view(value));
    }
    json_object& add(std::string_view key, std::uint64_t value);
    json_object& add(std::string_view key, std::map<std::string, std::string> const& object);
    json_object& add_raw(std::string_view key, std::string_view raw_json);
    std::string str() const { return body_ + "}"; }

private:
    void key(std::string_view k);
    std::string body_ = "{";
};

} // namespace rpcnetd::common
