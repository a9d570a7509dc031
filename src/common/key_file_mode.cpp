#include "common/key_file_mode.hpp"

#include <fmt/format.h>

#include <sys/stat.h>

namespace rpcnetd::common {

std::optional<unsigned> loose_key_file_mode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return std::nullopt;
    }
    const auto mode = static_cast<unsigned>(st.st_mode) & 07777U;
    if ((mode & static_cast<unsigned>(S_IRWXG | S_IRWXO)) == 0) {
        return std::nullopt;
    }
    return mode;
}

std::string loose_key_file_reason(const std::string& what, const std::string& path, unsigned mode) {
    return fmt::format("{} \"{}\" is accessible by group or others (mode {:04o}): run chmod 600 {}",
                       what, path, mode, path);
}

}  // namespace rpcnetd::common
