#pragma once
// Entry point behind main(): parses the command line, dispatches to a mode, maps errors to exit
// codes (0 success, 1 runtime failure, 2 usage or configuration error).
namespace rpcnetd::app {

int run_main(int argc, char** argv);

}  // namespace rpcnetd::app
