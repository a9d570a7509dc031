// The committed development certificate must stay usable: the original project's test certificate
// expired after a year and broke its whole suite.
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

namespace {

struct x509_deleter {
    void operator()(X509* x) const { X509_free(x); }
};

std::unique_ptr<X509, x509_deleter> load(const std::string& path) {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    REQUIRE(f != nullptr);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    REQUIRE(cert != nullptr);
    return std::unique_ptr<X509, x509_deleter>(cert);
}

}  // namespace

TEST_CASE("certs: committed test certificate has more than a year left", "[certs]") {
    auto cert = load(rpcnetd::test::source_dir() + "/certs/test_cert.pem");
    std::time_t in_a_year = std::time(nullptr) + 366L * 24 * 3600;
    CHECK(X509_cmp_time(X509_get0_notAfter(cert.get()), &in_a_year) > 0);
    std::time_t now = std::time(nullptr);
    CHECK(X509_cmp_time(X509_get0_notBefore(cert.get()), &now) < 0);
}

TEST_CASE("certs: committed test certificate covers loopback names", "[certs]") {
    auto cert = load(rpcnetd::test::source_dir() + "/certs/test_cert.pem");
    CHECK(X509_check_ip_asc(cert.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(cert.get(), "::1", 0) == 1);
    CHECK(X509_check_host(cert.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(cert.get(), "example.com", 0, 0, nullptr) == 0);
}
