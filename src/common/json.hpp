#pragma once
// JSON output for the contract in DESIGN.md §5 (jsonl events, members --output json, stats
// --output json, the client's jsonl), written with Boost.JSON: keys keep the order they were
// added in, strings are escaped by Boost.JSON's serializer (RFC 8259), and text that is not valid
// UTF-8 has its bad bytes replaced by U+FFFD so that every line stays valid JSON.
#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rpcnetd::common {

// Appends s as a quoted JSON string (invalid UTF-8 replaced by U+FFFD).
void append_json_string(std::string& out, std::string_view s);

// Builds one JSON object: json_object().add("event","token").add("sequence",7).str()
class json_object {
public:
    json_object& add(std::string_view key, std::string_view value);
    json_object& add(std::string_view key, const char* value) {
        return add(key, std::string_view(value));
    }
    json_object& add(std::string_view key, const std::string& value) {
        return add(key, std::string_view(value));
    }
    json_object& add(std::string_view key, std::uint64_t value);
    json_object& add(std::string_view key, bool value);
    // Finite numbers as themselves; NaN and infinities (not JSON) as 0.
    json_object& add(std::string_view key, double value);
    json_object& add(std::string_view key, std::map<std::string, std::string> const& object);
    json_object& add(std::string_view key, const json_object& object);
    // An array of strings.
    json_object& add_array(std::string_view key, const std::vector<std::string>& strings);
    std::string str() const;

private:
    boost::json::object obj_;
};

}  // namespace rpcnetd::common
