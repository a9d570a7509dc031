#pragma once
// TLS settings of every rpcnetd connection: TLS 1.3 only (min = max = 1.3); suites preferred
// TLS_AES_256_GCM_SHA384, then CHACHA20_POLY1305, then AES_128_GCM; key exchange X25519 first
// (OpenSSL's own default, and cheaper on OpenSSL 3.0: raw OpenSSL handshakes on the bench
// machine cost client/server 774/450 µs of CPU with X25519 against 870/600 µs with P-256), then
// P-256. gRPC negotiates P-256; the bench comparison names the group each side used.
// Clients always verify the server chain against the CA and check the server name (DNS or IP
// SAN); servers optionally require and verify a client certificate (mTLS).
//
// Resumption: every server sends one stateless session ticket per connection, sealed with keys
// derived (HKDF-SHA256) from its private key, so a ticket from one member opens on every member
// holding the same key, and on no other. A client context resumes only after
// enable_resumption() (the client mode does it: a failover then skips certificate parsing and
// verification, the dearest part of an OpenSSL 3 handshake); every other context, the bench's
// included, makes full handshakes, as in the bench protocol. Resumption is psk_dhe_ke only: each
// connection still runs a fresh ECDHE, so a leaked key does not open recorded traffic; whoever
// holds the key can read tickets, but could impersonate the server anyway. A server that
// verifies client certificates also binds its ticket keys to its CA file: a resumed session
// carries the client's certificate, verified under the CA of the session it came from.
//
// Build one context per role per process and share it (std::shared_ptr): creating an OpenSSL 3
// SSL_CTX costs ~100 µs, which would dominate a reconnect. Contexts are immutable after build
// (but for the ticket a resuming client context keeps, behind a mutex) and may be used from any
// thread.
#include "rpc/connection.hpp"
#include "rpc/rpc_config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

namespace rpcnetd::rpc {

class tls_context {
public:
    // Server: certificate chain + key (+ CA when require_client_cert). Throws usage_error naming
    // the file when a file is unreadable or not a valid certificate/key, or when they don't match.
    static std::shared_ptr<boost::asio::ssl::context> make_server(const tls_config& cfg);

    // Client: CA to verify servers against (ca_file, else cert_file), and our certificate + key
    // when both files are readable (for mTLS servers; optional). Throws usage_error like
    // make_server.
    static std::shared_ptr<boost::asio::ssl::context> make_client(const tls_config& cfg);

    // Per connection, before the handshake: SNI (for DNS names) and the name the server's
    // certificate must carry (IP address SAN for an IP, DNS SAN otherwise). Returns an error
    // (never throws) if OpenSSL refuses the name.
    static net::error_code prepare_client(tls_stream& stream, const std::string& server_name);

    // Makes a client context keep the last session ticket it receives and offer it on its
    // next connection (to any server: one whose key differs answers with a full handshake).
    static void enable_resumption(boost::asio::ssl::context& client_ctx);
    // After the handshake: whether it resumed a session (no certificate was exchanged).
    static bool resumed(tls_stream& stream);

    // After the handshake: the role in the peer's certificate, i.e. the first OU
    // (organizationalUnitName) of its subject as scripts/gen-certs.sh writes it
    // ("/CN=worker-a/OU=worker"); empty when there is no peer certificate or no OU.
    static std::string peer_role(tls_stream& stream);
    // The subject of the peer's certificate, one line ("/O=rpcnetd/OU=client/CN=..."); empty
    // without one. Meaningful as an identity only when the certificate was verified (mTLS).
    static std::string peer_subject(tls_stream& stream);

    // After a failed handshake: why the peer's certificate was rejected ("certificate has
    // expired", "unable to get local issuer certificate", ...), or empty when it was not.
    static std::string verify_failure(tls_stream& stream);

    // The serial number (hex) of the certificate a context presents; empty when none.
    static std::string own_serial(boost::asio::ssl::context& ctx);

    // The SHA-256 fingerprint of the certificate a context presents, as lowercase hex without
    // separators (what `openssl x509 -fingerprint -sha256` prints); empty when none.
    static std::string own_fingerprint(boost::asio::ssl::context& ctx);
};

}  // namespace rpcnetd::rpc
