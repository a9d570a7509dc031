// Issue #9 item 4: `cmake --install` and `cpack -G DEB` on this build tree. The installed binary
// runs from another working directory with the installed example rpcnetd.conf, after the user
// made certificates next to it with the installed gen-certs.sh (what docs/operations.md says).
#include "support/cluster.hpp"
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace rpcnetd::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct scratch {
    fs::path dir;
    explicit scratch(const std::string& what)
        : dir(fs::temp_directory_path() /
              ("rpcnetd-" + what + "-test-" + std::to_string(::getpid()))) {
        fs::remove_all(dir);
        fs::create_directories(dir);
    }
    ~scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

// argv run with `cwd` as working directory.
std::vector<std::string> in_dir(const fs::path& cwd, std::vector<std::string> argv) {
    std::vector<std::string> out{"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", cwd.string()};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

}  // namespace

TEST_CASE("install: cmake --install lays out the files and the example config runs a director from "
          "another folder",
          "[process][install]") {
    scratch tmp("install");
    const fs::path p = tmp.dir / "p";
    const auto installed = run_command(
        {RPCNETD_CMAKE_COMMAND, "--install", RPCNETD_BUILD_DIR, "--prefix", p.string()}, 60s);
    INFO(installed.output);
    REQUIRE(installed.exit_code == 0);
    for (const char* f :
         {"bin/rpcnetd", "share/man/man1/rpcnetd.1", "share/bash-completion/completions/rpcnetd",
          "lib/systemd/system/rpcnetd-director.service",
          "lib/systemd/system/rpcnetd-worker@.service", "etc/rpcnetd/rpcnetd.conf",
          "share/rpcnetd/gen-certs.sh", "lib/sysusers.d/rpcnetd.conf"}) {
        INFO(f);
        CHECK(fs::exists(p / f));
    }
    for (const char* unit : {"rpcnetd-director.service", "rpcnetd-worker@.service"}) {
        const auto text = read_file((p / "lib/systemd/system" / unit).string());
        INFO(unit);
        for (const char* line :
             {"User=rpcnetd", "ProtectSystem=strict", "NoNewPrivileges=yes", "Restart=on-failure",
              "LimitNOFILE=65536", "ExecReload=/bin/kill -HUP $MAINPID",
              "--config /etc/rpcnetd/rpcnetd.conf"}) {
            CHECK(text.find(line) != std::string::npos);
        }
    }
    const auto completion = run_command(
        {"/bin/bash", "-c",
         "source \"$0\" && COMP_WORDS=(rpcnetd wor) COMP_CWORD=1 && _rpcnetd && "
         "echo \"${COMPREPLY[@]}\" && COMP_WORDS=(\"$1\" worker --simu) COMP_CWORD=2 && "
         "_rpcnetd && echo \"${COMPREPLY[@]}\"",
         (p / "share/bash-completion/completions/rpcnetd").string(), (p / "bin/rpcnetd").string()},
        20s);
    CHECK(completion.output == "worker\n--simulate-failures\n");

    const fs::path elsewhere = tmp.dir / "elsewhere";
    fs::create_directories(elsewhere);
    const std::string bin = (p / "bin/rpcnetd").string();

    // Outside the source tree the relative default certificate is absent: one line, exit 2.
    const auto no_cert = run_command(in_dir(elsewhere, {bin, "director"}), 20s);
    CHECK(no_cert.exit_code == 2);
    CHECK(no_cert.output.find("--cert") != std::string::npos);
    CHECK(no_cert.output.find("--key") != std::string::npos);
    CHECK(no_cert.output.find("scripts/gen-certs.sh") != std::string::npos);
    CHECK(std::count(no_cert.output.begin(), no_cert.output.end(), '\n') == 1);

    // What a user does: certificates next to the config, by the installed gen-certs.sh.
    const fs::path etc = p / "etc/rpcnetd";
    const std::string gen = (p / "share/rpcnetd/gen-certs.sh").string();
    const std::string certs = (etc / "certs").string();
    REQUIRE(run_command({gen, "--ca", certs}, 30s).exit_code == 0);
    REQUIRE(
        run_command({gen, "--node", certs, "director", "127.0.0.1", "director"}, 30s).exit_code ==
        0);
    REQUIRE(run_command({gen, "--node", certs, "client", "127.0.0.1", "client"}, 30s).exit_code ==
            0);
    const std::string conf = (etc / "rpcnetd.conf").string();

    // The effective configuration resolves the file's relative paths against its folder.
    const auto printed =
        run_command(in_dir(elsewhere, {bin, "director", "--config", conf, "--print-config"}), 20s);
    INFO(printed.output);
    CHECK(printed.exit_code == 0);
    CHECK(printed.output.find("cert = " + (etc / "certs/director.pem").string() + "\n") !=
          std::string::npos);

    const std::string addr = "127.0.0.1:" + std::to_string(free_port());
    child_process director(in_dir(elsewhere, {bin, "director", "--config", conf, "--addr", addr}));
    REQUIRE(director.wait_for_output("Seed node ready", 20s));
    const auto members =
        run_command(in_dir(elsewhere, {bin, "members", "--config", conf, "--director", addr}), 20s);
    INFO(members.output);
    CHECK(members.exit_code == 0);
    CHECK(members.output.find("director") != std::string::npos);
    CHECK(director.output().find("gossip is unauthenticated") == std::string::npos);
    director.signal(SIGTERM);
    CHECK(director.wait_exit(15s) == std::optional<int>(0));
}

TEST_CASE("package: cpack -G DEB builds a package with the files and its dependencies",
          "[process][install]") {
    scratch tmp("package");
    const auto packed =
        run_command({RPCNETD_CPACK_COMMAND, "-G", "DEB", "-B", tmp.dir.string(), "--config",
                     std::string(RPCNETD_BUILD_DIR) + "/CPackConfig.cmake"},
                    120s);
    INFO(packed.output);
    REQUIRE(packed.exit_code == 0);
    fs::path deb;
    for (const auto& e : fs::directory_iterator(tmp.dir)) {
        if (e.path().extension() == ".deb") {
            deb = e.path();
        }
    }
    REQUIRE_FALSE(deb.empty());
    const auto contents = run_command({"/usr/bin/dpkg-deb", "-c", deb.string()}, 30s);
    INFO(contents.output);
    for (const char* f : {"./usr/bin/rpcnetd", "./usr/share/man/man1/rpcnetd.1",
                          "./usr/share/bash-completion/completions/rpcnetd",
                          "./usr/lib/systemd/system/rpcnetd-director.service",
                          "./usr/lib/systemd/system/rpcnetd-worker@.service",
                          "./etc/rpcnetd/rpcnetd.conf", "./usr/share/rpcnetd/gen-certs.sh"}) {
        CHECK(contents.output.find(std::string(f) + "\n") != std::string::npos);
    }
    const auto depends = run_command({"/usr/bin/dpkg-deb", "-f", deb.string(), "Depends"}, 30s);
    INFO(depends.output);
    for (const char* dep :
         {"libc6", "libssl3", "libboost-json1.81.0", "libprotobuf-lite32", "adduser"}) {
        CHECK(depends.output.find(dep) != std::string::npos);
    }
    const auto conffiles = run_command({"/usr/bin/dpkg-deb", "-I", deb.string(), "conffiles"}, 30s);
    CHECK(conffiles.output.find("/etc/rpcnetd/rpcnetd.conf") != std::string::npos);
}
