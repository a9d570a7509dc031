# libFuzzer targets of tests/fuzz (issue #5 item 4), included by CMakeLists.txt when RPCNETD_FUZZ
# is ON. Clang only, in a build tree of their own (scripts/fuzz.sh uses build-fuzz/).
#
# Only the pure sources the targets exercise are compiled, with coverage instrumentation
# (-fsanitize=fuzzer-no-link) and ASan + UBSan; UBSan findings abort so libFuzzer records them.
# The generated protobuf code is compiled in as well, so parsing is instrumented too.
set(RPCNETD_FUZZ_SAN -fsanitize=address,undefined -fno-sanitize-recover=all
                     -fno-omit-frame-pointer)
set(rpcnetd_src ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_library(rpcnetd_fuzz_core STATIC
    ${rpcnetd_src}/common/endpoint.cpp
    ${rpcnetd_src}/common/error.cpp
    ${rpcnetd_src}/common/key_file_mode.cpp
    ${rpcnetd_src}/common/time.cpp
    ${rpcnetd_src}/common/utf8.cpp
    ${rpcnetd_src}/failure/heartbeat_history.cpp
    ${rpcnetd_src}/failure/phi_detector.cpp
    ${rpcnetd_src}/failure/suspicion.cpp
    ${rpcnetd_src}/membership/dissemination_queue.cpp
    ${rpcnetd_src}/membership/gossip_cipher.cpp
    ${rpcnetd_src}/membership/gossip_envelope.cpp
    ${rpcnetd_src}/membership/member_proto.cpp
    ${rpcnetd_src}/membership/name_claim.cpp
    ${rpcnetd_src}/membership/replay_guard.cpp
    ${rpcnetd_src}/membership/replay_window.cpp
    ${rpcnetd_src}/membership/swim_codec.cpp
    ${rpcnetd_src}/membership/swim_state.cpp
    ${rpcnetd_src}/membership/swim_state_claims.cpp
    ${rpcnetd_src}/membership/swim_state_merge.cpp
    ${rpcnetd_src}/membership/swim_state_probe.cpp
    ${rpcnetd_src}/rpc/frame.cpp
    ${rpcnetd_src}/rpc/frame_decoder.cpp
    ${RPCNETD_PROTO_OUT}/proto/rpcnetd.pb.cc)
target_include_directories(rpcnetd_fuzz_core PUBLIC ${rpcnetd_src}
                                                    ${CMAKE_CURRENT_SOURCE_DIR}/tests)
target_include_directories(rpcnetd_fuzz_core SYSTEM PUBLIC ${RPCNETD_PROTO_OUT}
                                                           ${Boost_INCLUDE_DIRS})
target_link_libraries(rpcnetd_fuzz_core PUBLIC protobuf::libprotobuf OpenSSL::Crypto fmt::fmt
                                               Boost::headers)
target_compile_features(rpcnetd_fuzz_core PUBLIC cxx_std_20)
target_compile_options(rpcnetd_fuzz_core PUBLIC ${RPCNETD_FUZZ_SAN}
                                         PRIVATE -fsanitize=fuzzer-no-link)
target_link_options(rpcnetd_fuzz_core PUBLIC -fsanitize=address,undefined)

set(RPCNETD_FUZZ_TARGETS)
foreach(name frame_decoder gossip_envelope swim_codec swim_state proto_bodies)
    add_executable(fuzz_${name} ${CMAKE_CURRENT_SOURCE_DIR}/tests/fuzz/targets/fuzz_${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE rpcnetd_fuzz_core)
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer -Wall -Wextra -Wshadow)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    list(APPEND RPCNETD_FUZZ_TARGETS fuzz_${name})
endforeach()
add_custom_target(fuzz_targets DEPENDS ${RPCNETD_FUZZ_TARGETS})
