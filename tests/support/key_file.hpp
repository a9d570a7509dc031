#pragma once
// A fresh gossip key in a temporary file (for --gossip-key / --key-file), removed on destruction.
#include "membership/gossip_cipher.hpp"

#include <string>

namespace rpcnetd::test {

class gossip_key_file {
public:
    gossip_key_file();  // throws std::runtime_error when no temporary file can be made
    ~gossip_key_file();
    gossip_key_file(const gossip_key_file&) = delete;
    gossip_key_file& operator=(const gossip_key_file&) = delete;

    const std::string& path() const { return path_; }
    const membership::gossip_cipher::key& key() const { return key_; }
    std::string fingerprint() const { return membership::gossip_cipher::fingerprint(key_); }

private:
    membership::gossip_cipher::key key_ = membership::gossip_cipher::generate_key();
    std::string path_;
};

}  // namespace rpcnetd::test
