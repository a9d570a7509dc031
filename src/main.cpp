// rpcnetd: parse the command line, pick the mode, run it. Nothing else lives here.
#include "app/run.hpp"

int main(int argc, char** argv) {
    return rpcnetd::app::run_main(argc, argv);
}
