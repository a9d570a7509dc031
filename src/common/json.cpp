#include "common/json.hpp"

#include <cstdio>

namespace rpcnetd::common {

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                out += buf;
            } else {
                out.push_back(ch);
            }
        }
    }
    out.push_back('"');
}

void json_object::key(std::string_view k) {
    if (body_.size() > 1) {
        body_.push_back(',');
    }
    append_json_string(body_, k);
    body_.push_back(':');
}

json_object& json_object::add(std::string_view k, std::string_view value) {
    key(k);
    append_json_string(body_, value);
    return *this;
}

json_object& json_object::add(std::string_view k, std::uint64_t value) {
    key(k);
    body_ += std::to_string(value);
    return *this;
}

json_object& json_object::add(std::string_view k, const std::map<std::string, std::string>& obj) {
    json_object inner;
    for (const auto& [name, value] : obj) {
        inner.add(name, std::string_view(value));
    }
    return add_raw(k, inner.str());
}

json_object& json_object::add_raw(std::string_view k, std::string_view raw_json) {
    key(k);
    body_ += raw_json;
    return *this;
}

} // namespace rpcnetd::common
