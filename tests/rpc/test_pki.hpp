#pragma once
// A throwaway certificate authority for TLS tests, made with the OpenSSL C API (the OpenSSL 3.0
// CLI cannot back-date certificates): a CA, then leaf certificates with SANs localhost,
// 127.0.0.1 and ::1, subject "/CN=<name>/OU=<role>" (the role convention of
// scripts/gen-certs.sh) and any validity window, e.g. already expired.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace rpcnetd::test {

struct pki_cert {
    std::string cert;  // PEM file
    std::string key;   // PEM file
    long serial = 0;
};

class test_pki {
public:
    // Writes <dir>/<name>-ca.pem; dir must exist.
    test_pki(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
        ca_key_.reset(EVP_EC_gen("P-256"));
        ca_.reset(make(ca_key_.get(), name_ + " CA", "", -3600, 30L * 86400, nullptr, nullptr));
        ca_file_ = dir_ + "/" + name_ + "-ca.pem";
        write_cert(ca_file_, ca_.get());
    }

    const std::string& ca_file() const { return ca_file_; }

    // A leaf signed by this CA, valid from now+not_before_s to now+not_after_s (seconds; negative
    // = in the past). role "" = no OU.
    pki_cert issue(const std::string& name, const std::string& role, long not_before_s = -3600,
                   long not_after_s = 30L * 86400) {
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                                &EVP_PKEY_free);
        std::unique_ptr<X509, decltype(&X509_free)> cert(
            make(key.get(), name, role, not_before_s, not_after_s, ca_.get(), ca_key_.get()),
            &X509_free);
        pki_cert out{dir_ + "/" + name_ + "-" + name + ".pem",
                     dir_ + "/" + name_ + "-" + name + ".key", serial_};
        write_cert(out.cert, cert.get());
        std::FILE* f = std::fopen(out.key.c_str(), "w");
        if (f == nullptr ||
            PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
            throw std::runtime_error("cannot write " + out.key);
        }
        std::fclose(f);
        ::chmod(out.key.c_str(), 0600);  // rpcnetd refuses private keys others can read
        return out;
    }

private:
    struct pkey_free {
        void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    };
    struct x509_free {
        void operator()(X509* x) const { X509_free(x); }
    };

    X509* make(EVP_PKEY* key, const std::string& cn, const std::string& ou, long nb, long na,
               X509* issuer, EVP_PKEY* issuer_key) {
        X509* x = X509_new();
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial_);
        X509_gmtime_adj(X509_getm_notBefore(x), nb);
        X509_gmtime_adj(X509_getm_notAfter(x), na);
        X509_set_pubkey(x, key);
        X509_NAME* subject = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
        if (!ou.empty()) {
            X509_NAME_add_entry_by_txt(subject, "OU", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(ou.c_str()), -1, -1,
                                       0);
        }
        X509_set_issuer_name(x, issuer != nullptr ? X509_get_subject_name(issuer) : subject);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : x, x, nullptr, nullptr, 0);
        if (issuer == nullptr) {
            add_ext(x, ctx, NID_basic_constraints, "critical,CA:TRUE");
            add_ext(x, ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
            add_ext(x, ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
            add_ext(x, ctx, NID_ext_key_usage, "serverAuth,clientAuth");
        }
        if (X509_sign(x, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
            X509_free(x);
            throw std::runtime_error("X509_sign failed");
        }
        return x;
    }

    static void add_ext(X509* x, X509V3_CTX& ctx, int nid, const char* value) {
        X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
        if (e == nullptr) {
            throw std::runtime_error("bad extension");
        }
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }

    static void write_cert(const std::string& path, X509* x) {
        std::FILE* f = std::fopen(path.c_str(), "w");
        if (f == nullptr || PEM_write_X509(f, x) != 1) {
            throw std::runtime_error("cannot write " + path);
        }
        std::fclose(f);
    }

    std::string dir_;
    std::string name_;
    std::string ca_file_;
    long serial_ = 0;
    std::unique_ptr<EVP_PKEY, pkey_free> ca_key_;
    std::unique_ptr<X509, x509_free> ca_;
};

}  // namespace rpcnetd::test
