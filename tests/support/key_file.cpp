#include "support/key_file.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace rpcnetd::test {

gossip_key_file::gossip_key_file() {
    char tmpl[] = "/tmp/rpcnetd-key-XXXXXX";
    const int fd = ::mkstemp(tmpl);
    if (fd < 0) {
        throw std::runtime_error("mkstemp failed for a gossip key file");
    }
    ::close(fd);
    path_ = tmpl;
    std::ofstream(path_) << membership::gossip_cipher::encode_key(key_) << "\n";
}

gossip_key_file::~gossip_key_file() {
    ::unlink(path_.c_str());
}

}  // namespace rpcnetd::test
