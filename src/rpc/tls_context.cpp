#include "rpc/tls_context.hpp"

#include "common/error.hpp"
#include "common/key_file_mode.hpp"

#include <boost/asio/ip/address.hpp>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>

#include <fstream>

namespace rpcnetd::rpc {
namespace {

namespace ssl = boost::asio::ssl;

constexpr const char* ciphersuites =
    "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
constexpr const char* groups = "P-256:X25519";

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

bool is_development_key(EVP_PKEY* key) {
    if (key == nullptr) {
        return false;
    }
    unsigned char* der = nullptr;
    const int n = i2d_PUBKEY(key, &der);
    if (n <= 0 || der == nullptr) {
        return false;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const bool ok =
        EVP_Digest(der, static_cast<std::size_t>(n), digest, &len, EVP_sha256(), nullptr) == 1;
    OPENSSL_free(der);
    if (!ok) {
        return false;
    }
    std::string hex;
    for (unsigned int i = 0; i < len; ++i) {
        hex += fmt::format("{:02x}", digest[i]);
    }
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

}  // namespace

std::shared_ptr<ssl::context> tls_context::make_server(const tls_config& cfg) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
    common_settings(*ctx);
    SSL_CTX_set_num_tickets(ctx->native_handle(), 0);
    load_identity(*ctx, cfg);
    if (cfg.require_client_cert) {
        load_ca(*ctx, cfg);
        ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    } else {
        ctx->set_verify_mode(ssl::verify_none);
    }
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

net::error_code tls_context::prepare_client(tls_stream& stream, const std::string& server_name) {
    SSL* s = stream.native_handle();
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
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
        out += hex[md[i] >> 4U];
        out += hex[md[i] & 0xfU];
    }
    return out;
}

}  // namespace rpcnetd::rpc
