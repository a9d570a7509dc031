#pragma once
// Secrets on disk must be private to their owner, as ssh insists for its keys: a gossip key or a
// TLS private key that group or others may access is refused at start-up (exit 2), with the
// chmod that fixes it. (The committed development TLS pair is the one exception; the TLS loader
// recognises it by its public key, since git checks it out world-readable.)
#include <optional>
#include <string>

namespace rpcnetd::common {

// The permission bits of `path` when group or others have any access to it; nullopt when only
// the owner has, or when the file cannot be examined (the read that follows reports that).
std::optional<unsigned> loose_key_file_mode(const std::string& path);

// The one line that refuses it: `<what> "<path>" is accessible by group or others (mode 0644):
// run chmod 600 <path>`.
std::string loose_key_file_reason(const std::string& what, const std::string& path, unsigned mode);

}  // namespace rpcnetd::common
