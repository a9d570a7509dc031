#include "common/json.hpp"

#include "common/safe_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <fmt/format.h>

#include <cmath>

namespace rpcnetd::common {
namespace {

boost::json::string_view key_of(const std::string& k) {
    return {k.data(), k.size()};
}

// Boost.JSON's serializer, except that doubles are written in their shortest round-trip form
// ("0.413", "12") instead of Boost 1.81's "4.13E-1".
void write(std::string& out, const boost::json::value& v) {
    if (v.is_double()) {
        out += fmt::format("{}", v.get_double());
    } else if (v.is_object()) {
        out += '{';
        bool first = true;
        for (const auto& [k, inner] : v.get_object()) {
            out += first ? "" : ",";
            first = false;
            out += boost::json::serialize(boost::json::string(k));
            out += ':';
            write(out, inner);
        }
        out += '}';
    } else if (v.is_array()) {
        out += '[';
        bool first = true;
        for (const auto& inner : v.get_array()) {
            out += first ? "" : ",";
            first = false;
            write(out, inner);
        }
        out += ']';
    } else {
        out += boost::json::serialize(v);
    }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    const auto text = valid_utf8_or_replaced(s);
    out += boost::json::serialize(boost::json::string(text.data(), text.size()));
}

json_object& json_object::add(std::string_view key, std::string_view value) {
    const auto v = valid_utf8_or_replaced(value);
    obj_[key_of(valid_utf8_or_replaced(key))] = boost::json::string(v.data(), v.size());
    return *this;
}

json_object& json_object::add(std::string_view key, std::uint64_t value) {
    obj_[key_of(valid_utf8_or_replaced(key))] = value;
    return *this;
}

json_object& json_object::add(std::string_view key, bool value) {
    obj_[key_of(valid_utf8_or_replaced(key))] = value;
    return *this;
}

json_object& json_object::add(std::string_view key, double value) {
    obj_[key_of(valid_utf8_or_replaced(key))] = std::isfinite(value) ? value : 0.0;
    return *this;
}

json_object& json_object::add(std::string_view key, const std::map<std::string, std::string>& obj) {
    json_object inner;
    for (const auto& [name, value] : obj) {
        inner.add(name, std::string_view(value));
    }
    return add(key, inner);
}

json_object& json_object::add(std::string_view key, const json_object& object) {
    obj_[key_of(valid_utf8_or_replaced(key))] = object.obj_;
    return *this;
}

json_object& json_object::add_array(std::string_view key, const std::vector<std::string>& strings) {
    boost::json::array a;
    a.reserve(strings.size());
    for (const auto& item : strings) {
        const auto v = valid_utf8_or_replaced(item);
        a.emplace_back(boost::json::string(v.data(), v.size()));
    }
    obj_[key_of(valid_utf8_or_replaced(key))] = std::move(a);
    return *this;
}

std::string json_object::str() const {
    std::string out;
    write(out, obj_);
    return out;
}

}  // namespace rpcnetd::common
