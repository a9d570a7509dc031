#include "rpc/tls_context.hpp"

#include "common/error.hpp"
#include "common/key_file_mode.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string_view>

namespace rpcnetd::rpc {
namespace {

namespace ssl = boost::asio::ssl;

constexpr const char* ciphersuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr const char* groups = "X25519:P-256";

std::string openssl_reason() {
    const unsigned long e = ERR_peek_last_error();
    ERR_clear_error();
    if (e == 0) {
        return "unknown OpenSSL error";
    }
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

void require_readable(const std::string& path, const char* what) {
    if (path.empty()) {
        throw usage_error(std::string("no ") + what + " file given");
    }
    std::ifstream f(path);
    if (!f) {
        throw usage_error(std::string("cannot read ") + what + " file " + path);
    }
}

bool readable(const std::string& path) {
    return !path.empty() && std::ifstream(path).good();
}

void common_settings(ssl::context& ctx) {
    SSL_CTX* c = ctx.native_handle();
    if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_ciphersuites(c, ciphersuites) != 1 ||
        SSL_CTX_set1_groups_list(c, groups) != 1) {
        throw runtime_failure("cannot configure TLS 1.3: " + openssl_reason());
    }
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    // Idle connections give their record buffers back (memory per idle connection). OpenSSL
    // writes the socket itself (tls_stream): one record per SSL_write, retried from wherever the
    // unsent rest of the batch now starts.
    SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                            SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // Read whole socket chunks (several records) per recv instead of header, then body.
    SSL_CTX_set_read_ahead(c, 1);
}

std::string asn1_time_text(const ASN1_TIME* t) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio == nullptr) {
        return "?";
    }
    std::string out = "?";
    if (ASN1_TIME_print(bio, t) == 1) {
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data != nullptr) {
            out.assign(data, static_cast<std::size_t>(n));
        }
    }
    BIO_free(bio);
    return out;
}

// An expired or not-yet-valid own certificate would fail every handshake later with a vague
// peer-side error; refuse it now with the dates.
void check_validity(SSL_CTX* c, const std::string& file) {
    X509* cert = SSL_CTX_get0_certificate(c);
    if (cert == nullptr) {
        return;
    }
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        throw usage_error("certificate " + file + " expired on " +
                          asn1_time_text(X509_get0_notAfter(cert)));
    }
    if (X509_cmp_current_time(X509_get0_notBefore(cert)) >= 0) {
        throw usage_error("certificate " + file + " is not valid before " +
                          asn1_time_text(X509_get0_notBefore(cert)));
    }
}

// The committed development pair (certs/test_key.pem) is public by design and arrives from git
// world-readable, so it is exempt from the key-file permission check. It is recognised by the
// SHA-256 of its public key (DER SubjectPublicKeyInfo), not by its path: a copy elsewhere is
// still the public development key, and a real key at that path is still checked.
constexpr std::string_view development_key_sha256 =
    "f8b99d3b3a264da5c5dce8b195608932946a6a2320747bb95afd5b7159bb052c";

// Bytes as lowercase hex (what `openssl ... -sha256` prints, without separators).
std::string to_hex(const unsigned char* data, std::size_t n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        out += digits[data[i] >> 4U];
        out += digits[data[i] & 0xfU];
    }
    return out;
}

// SHA-256 of `bytes` as lowercase hex; empty if OpenSSL fails.
std::string sha256_hex(std::string_view bytes) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) != 1) {
        return {};
    }
    return to_hex(md, len);
}

bool is_development_key(EVP_PKEY* key) {
    if (key == nullptr) {
        return false;
    }
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key, &der);
    if (n <= 0 || der == nullptr) {
        return false;
    }
    const std::string hex = sha256_hex(
        std::string_view(reinterpret_cast<const char*>(der), static_cast<std::size_t>(n)));
    OPENSSL_free(der);
    return hex == development_key_sha256;
}

void load_identity(ssl::context& ctx, const tls_config& cfg) {
    require_readable(cfg.cert_file, "certificate");
    require_readable(cfg.key_file, "key");
    SSL_CTX* c = ctx.native_handle();
    if (SSL_CTX_use_certificate_chain_file(c, cfg.cert_file.c_str()) != 1) {
        throw usage_error("bad certificate file " + cfg.cert_file + ": " + openssl_reason());
    }
    check_validity(c, cfg.cert_file);
    if (SSL_CTX_use_PrivateKey_file(c, cfg.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw usage_error("bad key file " + cfg.key_file + ": " + openssl_reason());
    }
    if (const auto mode = common::loose_key_file_mode(cfg.key_file);
        mode && !is_development_key(SSL_CTX_get0_privatekey(c))) {
        throw usage_error(common::loose_key_file_reason("TLS key file", cfg.key_file, *mode));
    }
    if (SSL_CTX_check_private_key(c) != 1) {
        throw usage_error("key file " + cfg.key_file + " does not match certificate " +
                          cfg.cert_file);
    }
}

void load_ca(ssl::context& ctx, const tls_config& cfg) {
    const std::string& ca = cfg.ca_file.empty() ? cfg.cert_file : cfg.ca_file;
    require_readable(ca, "CA");
    if (SSL_CTX_load_verify_locations(ctx.native_handle(), ca.c_str(), nullptr) != 1) {
        throw usage_error("bad CA file " + ca + ": " + openssl_reason());
    }
}

// ---- session resumption across members (see tls_context.hpp) ------------------------------

// SHA-256 of a file's bytes, hex (load_ca has already read the file, so it is readable).
std::string file_sha256(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return sha256_hex(bytes);
}

// The ticket keys of a server: name (16 bytes), HMAC key (32), AES key (32), the layout of
// SSL_CTX_set_tlsext_ticket_keys. HKDF-SHA256 of the private key, so every member holding the
// same key reads every other's tickets, and nobody without the key can. `bound_to` goes into
// the derivation too: a server that verifies client certificates binds its tickets to its CA
// file, so a new CA (a client no longer trusted) also ends the sessions issued under the old one.
bool install_ticket_keys(SSL_CTX* c, const std::string& bound_to) {
    EVP_PKEY* key = SSL_CTX_get0_privatekey(c);
    if (key == nullptr) {
        return false;
    }
    unsigned char* der = nullptr;
    const int n = i2d_PrivateKey(key, &der);
    if (n <= 0 || der == nullptr) {
        return false;
    }
    std::array<unsigned char, 80> keys{};
    std::size_t len = keys.size();
    constexpr std::string_view salt = "rpcnetd";
    const std::string info = "rpcnetd TLS 1.3 session ticket keys v1; " + bound_to;
    EVP_PKEY_CTX* kdf = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
    const bool derived =
        kdf != nullptr && EVP_PKEY_derive_init(kdf) == 1 &&
        EVP_PKEY_CTX_set_hkdf_md(kdf, EVP_sha256()) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_salt(kdf, reinterpret_cast<const unsigned char*>(salt.data()),
                                    static_cast<int>(salt.size())) == 1 &&
        EVP_PKEY_CTX_set1_hkdf_key(kdf, der, n) == 1 &&
        EVP_PKEY_CTX_add1_hkdf_info(kdf, reinterpret_cast<const unsigned char*>(info.data()),
                                    static_cast<int>(info.size())) == 1 &&
        EVP_PKEY_derive(kdf, keys.data(), &len) == 1 && len == keys.size();
    EVP_PKEY_CTX_free(kdf);
    OPENSSL_clear_free(der, static_cast<std::size_t>(n));
    const bool set = derived && SSL_CTX_set_tlsext_ticket_keys(c, keys.data(),
                                                               static_cast<long>(keys.size())) == 1;
    OPENSSL_cleanse(keys.data(), keys.size());
    return set;
}

// A client context's last ticket, offered on its next connection to any server.
struct resumption_slot {
    std::mutex mu;
    SSL_SESSION* latest = nullptr;
    ~resumption_slot() {
        if (latest != nullptr) {
            SSL_SESSION_free(latest);
        }
    }
};

void free_resumption_slot(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
    delete static_cast<resumption_slot*>(ptr);
}

int resumption_index() {
    static const int index =
        SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, free_resumption_slot);
    return index;
}

resumption_slot* resumption_of(SSL_CTX* c) {
    return static_cast<resumption_slot*>(SSL_CTX_get_ex_data(c, resumption_index()));
}

// OpenSSL hands every ticket a server sends (TLS 1.3: after the handshake) to this callback.
// It keeps a copy: the connection goes on using the original, and OpenSSL marks that one not
// resumable when the connection ends without close_notify, which is how a failover's
// connection ends (its worker died).
int keep_ticket(SSL* s, SSL_SESSION* session) {
    resumption_slot* slot = resumption_of(SSL_get_SSL_CTX(s));
    if (slot == nullptr || SSL_SESSION_is_resumable(session) != 1) {
        return 0;
    }
    SSL_SESSION* copy = SSL_SESSION_dup(session);
    if (copy == nullptr) {
        ERR_clear_error();
        return 0;
    }
    std::lock_guard lock(slot->mu);
    if (slot->latest != nullptr) {
        SSL_SESSION_free(slot->latest);
    }
    slot->latest = copy;
    return 0;  // OpenSSL keeps (and frees) its own reference
}

}  // namespace

std::shared_ptr<ssl::context> tls_context::make_server(const tls_config& cfg) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    common_settings(*ctx);
    load_identity(*ctx, cfg);
    std::string tickets_bound_to = "no client certificates";
    if (cfg.require_client_cert) {
        load_ca(*ctx, cfg);
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
        tickets_bound_to =
            "client CA " + file_sha256(cfg.ca_file.empty() ? cfg.cert_file : cfg.ca_file);
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
    // One stateless ticket per connection, sealed with keys derived from our private key (a
    // client resumes with any member holding it). The session id context must be the same on
    // every member, or a resumed mTLS session is refused.
    SSL_CTX* c = ctx->native_handle();
    static constexpr unsigned char sid_context[] = "rpcnetd";
    if (!install_ticket_keys(c, tickets_bound_to) ||
        SSL_CTX_set_session_id_context(c, sid_context, sizeof sid_context - 1) != 1) {
        throw runtime_failure("cannot set up TLS session tickets: " + openssl_reason());
    }
    SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, 1);
    return ctx;
}

std::shared_ptr<ssl::context> tls_context::make_client(const tls_config& cfg) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    common_settings(*ctx);
    load_ca(*ctx, cfg);
    if (readable(cfg.cert_file) && readable(cfg.key_file)) {
        load_identity(*ctx, cfg);
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

void tls_context::enable_resumption(ssl::context& client_ctx) {
    SSL_CTX* c = client_ctx.native_handle();
    if (resumption_of(c) != nullptr) {
        return;
    }
    SSL_CTX_set_ex_data(c, resumption_index(), new resumption_slot);
    SSL_CTX_clear_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c, keep_ticket);
}

bool tls_context::resumed(tls_stream& stream) {
    return SSL_session_reused(stream.native_handle()) == 1;
}

net::error_code tls_context::prepare_client(tls_stream& stream, const std::string& server_name) {
    SSL* s = stream.native_handle();
    if (resumption_slot* slot = resumption_of(SSL_get_SSL_CTX(s))) {
        std::lock_guard lock(slot->mu);
        if (slot->latest != nullptr && SSL_set_session(s, slot->latest) != 1) {
            ERR_clear_error();  // a full handshake then
        }
    }
    X509_VERIFY_PARAM* param = SSL_get0_param(s);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    net::error_code ec;
    const auto addr = boost::asio::ip::make_address(server_name, ec);
    if (!ec) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, addr.to_string().c_str()) != 1) {
            return make_error_code(errc::authentication_failed);
        }
        return {};
    }
    if (SSL_set_tlsext_host_name(s, server_name.c_str()) != 1 ||
        SSL_set1_host(s, server_name.c_str()) != 1) {
        return make_error_code(errc::authentication_failed);
    }
    return {};
}

std::string tls_context::peer_role(tls_stream& stream) {
    X509* cert = SSL_get0_peer_certificate(stream.native_handle());
    if (cert == nullptr) {
        return {};
    }
    X509_NAME* subject = X509_get_subject_name(cert);
    const int idx = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, -1);
    if (idx < 0) {
        return {};
    }
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx));
    unsigned char* utf8 = nullptr;
    const int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n < 0 || utf8 == nullptr) {
        return {};
    }
    std::string role(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
    OPENSSL_free(utf8);
    return role;
}

std::string tls_context::peer_subject(tls_stream& stream) {
    X509* cert = SSL_get0_peer_certificate(stream.native_handle());
    if (cert == nullptr) {
        return {};
    }
    char* line = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
    if (line == nullptr) {
        return {};
    }
    std::string out(line);
    OPENSSL_free(line);
    return out;
}

std::string tls_context::verify_failure(tls_stream& stream) {
    const long r = SSL_get_verify_result(stream.native_handle());
    if (r == X509_V_OK) {
        return {};
    }
    return X509_verify_cert_error_string(r);
}

std::string tls_context::own_serial(ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    if (cert == nullptr) {
        return {};
    }
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    if (bn == nullptr) {
        return {};
    }
    char* hex = BN_bn2hex(bn);
    std::string out = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
    BN_free(bn);
    return out;
}

std::string tls_context::own_fingerprint(ssl::context& ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx.native_handle());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &len) != 1) {
        return {};
    }
    return to_hex(md, len);
}

}  // namespace rpcnetd::rpc
