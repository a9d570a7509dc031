#include "membership/swim_codec.hpp"

#include "common/error.hpp"
#include "common/utf8.hpp"

#include <algorithm>
#include <optional>

namespace rpcnetd::membership::wire {

namespace {

class writer {
public:
    explicit writer(std::vector<std::uint8_t>& out) : out_(out) {}
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) {
        out_.push_back(static_cast<std::uint8_t>(v >> 8));
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out_.push_back(static_cast<std::uint8_t>(v >> shift));
        }
    }
    void u64(std::uint64_t v) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out_.push_back(static_cast<std::uint8_t>(v >> shift));
        }
    }
    void str(std::string_view s) {
        const auto n = std::min<std::size_t>(s.size(), 255);
        u8(static_cast<std::uint8_t>(n));
        out_.insert(out_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
    }
    void addr(const common::endpoint& e) {
        str(e.host);
        u16(e.port);
    }

private:
    std::vector<std::uint8_t>& out_;
};

// Every read checks the remaining length first; a failed read poisons the reader.
class reader {
public:
    explicit reader(std::span<const std::uint8_t> in) : in_(in) {}
    bool ok() const { return ok_; }
    bool done() const { return pos_ == in_.size(); }
    std::size_t remaining() const { return in_.size() - pos_; }

    std::uint64_t uint(std::size_t bytes) {
        if (!ok_ || remaining() < bytes) {
            ok_ = false;
            return 0;
        }
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < bytes; ++i) {
            v = (v << 8) | in_[pos_++];
        }
        return v;
    }
    std::uint8_t u8() { return static_cast<std::uint8_t>(uint(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(uint(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(uint(4)); }
    std::uint64_t u64() { return uint(8); }
    std::string str() {
        const std::size_t n = u8();
        if (!ok_ || remaining() < n) {
            ok_ = false;
            return {};
        }
        std::string s(reinterpret_cast<const char*>(in_.data() + pos_), n);
        pos_ += n;
        if (!common::valid_utf8(s)) {
            ok_ = false;  // names and tags end up in protobuf strings, which must be UTF-8
            return {};
        }
        return s;
    }
    common::endpoint addr() {
        common::endpoint e;
        e.host = str();
        e.port = u16();
        if (!common::valid_host(e.host)) {
            ok_ = false;  // same rule as parse_endpoint: what we store must print and parse back
        }
        return e;
    }
    std::span<const std::uint8_t> bytes(std::size_t n) {
        if (!ok_ || remaining() < n) {
            ok_ = false;
            return {};
        }
        auto s = in_.subspan(pos_, n);
        pos_ += n;
        return s;
    }

private:
    std::span<const std::uint8_t> in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

struct body_encoder {
    writer& w;
    msg_type operator()(const ping_msg& m) const {
        w.u32(m.seq);
        w.str(m.target);
        return msg_type::ping;
    }
    msg_type operator()(const ping_req_msg& m) const {
        w.u32(m.seq);
        w.str(m.target);
        w.addr(m.target_addr);
        return msg_type::ping_req;
    }
    msg_type operator()(const ack_msg& m) const {
        w.u32(m.seq);
        return msg_type::ack;
    }
    msg_type operator()(const nack_msg& m) const {
        w.u32(m.seq);
        return msg_type::nack;
    }
    msg_type operator()(const alive_msg& m) const {
        w.str(m.name);
        w.addr(m.addr);
        w.u64(m.incarnation);
        const auto count = std::min<std::size_t>(m.tags.size(), max_tags);
        w.u8(static_cast<std::uint8_t>(count));
        std::size_t i = 0;
        for (const auto& [k, v] : m.tags) {
            if (i++ == count) {
                break;
            }
            w.str(k);
            w.str(v);
        }
        return msg_type::alive;
    }
    msg_type operator()(const suspect_msg& m) const {
        w.str(m.name);
        w.u64(m.incarnation);
        w.str(m.from);
        return msg_type::suspect;
    }
    msg_type operator()(const failed_msg& m) const {
        w.str(m.name);
        w.u64(m.incarnation);
        w.str(m.from);
        return msg_type::failed;
    }
    msg_type operator()(const left_msg& m) const {
        w.str(m.name);
        w.u64(m.incarnation);
        return msg_type::left;
    }
};

std::optional<message> decode_body(msg_type type, reader& r) {
    switch (type) {
    case msg_type::ping: {
        ping_msg m;
        m.seq = r.u32();
        m.target = r.str();
        return m;
    }
    case msg_type::ping_req: {
        ping_req_msg m;
        m.seq = r.u32();
        m.target = r.str();
        m.target_addr = r.addr();
        return m;
    }
    case msg_type::ack:
        return ack_msg{r.u32()};
    case msg_type::nack:
        return nack_msg{r.u32()};
    case msg_type::alive: {
        alive_msg m;
        m.name = r.str();
        m.addr = r.addr();
        m.incarnation = r.u64();
        const std::size_t count = r.u8();
        if (count > max_tags) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < count && r.ok(); ++i) {
            auto k = r.str();
            auto v = r.str();
            m.tags.insert_or_assign(std::move(k), std::move(v));
        }
        if (r.ok() && !well_formed(m)) {
            return std::nullopt;  // e.g. an empty name: what is decoded must be storable
        }
        return m;
    }
    case msg_type::suspect:
    case msg_type::failed: {
        auto name = r.str();
        const auto inc = r.u64();
        auto from = r.str();
        if (type == msg_type::suspect) {
            return suspect_msg{std::move(name), inc, std::move(from)};
        }
        return failed_msg{std::move(name), inc, std::move(from)};
    }
    case msg_type::left: {
        left_msg m;
        m.name = r.str();
        m.incarnation = r.u64();
        return m;
    }
    }
    return std::nullopt;
}

bool known_type(std::uint8_t t) {
    return t >= static_cast<std::uint8_t>(msg_type::ping) &&
           t <= static_cast<std::uint8_t>(msg_type::left);
}

}  // namespace

bool well_formed_text(std::string_view text) noexcept {
    return text.size() <= max_text && common::valid_utf8(text);
}

bool well_formed(const alive_msg& m) noexcept {
    if (m.name.empty() || !well_formed_text(m.name) || !common::valid_host(m.addr.host) ||
        m.tags.size() > max_tags) {
        return false;
    }
    return std::all_of(m.tags.begin(), m.tags.end(), [](const auto& kv) {
        return well_formed_text(kv.first) && well_formed_text(kv.second);
    });
}

std::vector<std::uint8_t> encode_message(const message& m) {
    std::vector<std::uint8_t> out(3, 0);
    writer w(out);
    const auto type = std::visit(body_encoder{w}, m);
    const auto len = out.size() - 3;
    out[0] = static_cast<std::uint8_t>(type);
    out[1] = static_cast<std::uint8_t>(len >> 8);
    out[2] = static_cast<std::uint8_t>(len);
    return out;
}

std::size_t header_size(std::string_view sender) {
    return 3 + std::min<std::size_t>(sender.size(), 255);
}

std::vector<std::uint8_t> encode_packet(std::string_view sender,
                                        std::span<const std::vector<std::uint8_t>> messages) {
    std::vector<std::uint8_t> out;
    std::size_t total = header_size(sender);
    for (const auto& m : messages) {
        total += m.size();
    }
    out.reserve(total);
    writer w(out);
    w.u8(version);
    w.str(sender);
    w.u8(static_cast<std::uint8_t>(std::min<std::size_t>(messages.size(), 255)));
    std::size_t n = 0;
    for (const auto& m : messages) {
        if (n++ == 255) {
            break;
        }
        out.insert(out.end(), m.begin(), m.end());
    }
    return out;
}

std::vector<std::uint8_t> encode_packet(std::string_view sender,
                                        std::span<const message> messages) {
    std::vector<std::vector<std::uint8_t>> encoded;
    encoded.reserve(messages.size());
    for (const auto& m : messages) {
        encoded.push_back(encode_message(m));
    }
    return encode_packet(sender, encoded);
}

boost::system::result<packet> decode_packet(std::span<const std::uint8_t> datagram) {
    reader r(datagram);
    const auto ver = r.u8();
    if (!r.ok()) {
        return make_error_code(errc::malformed_packet);
    }
    if (ver != version) {
        return make_error_code(errc::protocol_version);
    }
    packet p;
    p.sender = r.str();
    const std::size_t count = r.u8();
    // Each message needs at least its 3-byte prefix: a count the datagram cannot hold is bogus.
    if (!r.ok() || p.sender.empty() || count == 0 || count * 3 > r.remaining()) {
        return make_error_code(errc::malformed_packet);
    }
    p.messages.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const auto type = r.u8();
        const std::size_t len = r.u16();
        auto body = r.bytes(len);
        if (!r.ok()) {
            return make_error_code(errc::malformed_packet);
        }
        if (!known_type(type)) {
            continue;
        }
        reader br(body);
        auto m = decode_body(static_cast<msg_type>(type), br);
        if (!m || !br.ok() || !br.done()) {
            return make_error_code(errc::malformed_packet);
        }
        p.messages.push_back(std::move(*m));
    }
    if (!r.done()) {
        return make_error_code(errc::malformed_packet);
    }
    return p;
}

}  // namespace rpcnetd::membership::wire
