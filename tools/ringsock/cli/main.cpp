// ringsock: the engine's load-testing command. serve, load and probe here.
#include <cstdio>

#include "args.hpp"
#include "load.hpp"
#include "merge.hpp"
#include "probe.hpp"
#include "report.hpp"
#include "command_line.hpp"
#include "serve.hpp"
#include "usage.hpp"

#ifndef RINGSOCK_VERSION
#define RINGSOCK_VERSION "unknown"
#endif

int main(int argc, char** argv) {
  using namespace ringsock_cli;
  static Args args;  // 16 endpoints of sockaddr_storage: not for the stack
  char error[320];
  remember_command_line(argc, argv);
  if (parse_args(argc, argv, args, error, sizeof error) != 0) {
    fprintf(stderr, "ringsock: %s\n", error);
    return kExitUsage;
  }
  switch (args.command) {
    case Command::help:
      print_usage(args.help_topic, stdout);
      return 0;
    case Command::version:
      printf("ringsock %s\n", RINGSOCK_VERSION);
      return 0;
    case Command::probe:
      return run_probe();
    case Command::serve:
      return run_serve(args.serve);
    case Command::load:
      return run_load(args.load);
    case Command::merge:
      return run_merge(argc, argv);
    case Command::report:
      return run_report(argc, argv);
  }
  return 1;
}
