#include "usage.hpp"

#include <cstring>

#include "options.hpp"

namespace ringsock_cli {

namespace {

constexpr const char* kEndpoints =
    "ENDPOINT: tcp://127.0.0.1:9000  tcp://[::1]:9000  udp://0.0.0.0:9001\n"
    "          unix:///tmp/r.sock  unix://@abstract  unix-dgram:///tmp/d.sock\n";

constexpr const char* kOverview =
    "usage: ringsock SUBCOMMAND [options]\n"
    "\n"
    "  ringsock serve ENDPOINT... [options]  echo, sink or sockperf server\n"
    "  ringsock load ENDPOINT [options]      load: send, verify replies, report\n"
    "  ringsock merge RESULT... [options]    add the results of a sharded load\n"
  "  ringsock report RESULT... -o FILE     draw results as one HTML page\n"
    "  ringsock probe                        which backend a loop gets, and why\n"
    "  ringsock help [SUBCOMMAND]            this, or the options of a subcommand\n"
    "  ringsock --version                    print the version\n"
    "\n";

constexpr const char* kOverviewEnd =
    "\n"
    "environment: RINGSOCK_BACKEND=uring|epoll|auto overrides --backend\n"
    "exit codes: 0 ok, 1 runtime failure (cannot bind, no backend), 2 bad arguments,\n"
    "            3 could not connect, 4 verification failure, 5 failed assertion,\n"
    "            6 measured nothing, 7 every connection failed, 8 results not written\n"
    "\n"
    "'ringsock SUBCOMMAND --help' lists its options; ringsock(1) explains them all.\n";

constexpr const char* kServeHead =
    "usage: ringsock serve ENDPOINT... [options]\n"
    "\n"
    "Serves up to 16 ENDPOINTs until SIGINT or SIGTERM, then prints its counters.\n"
    "TCP and UDP endpoints are served by every thread (SO_REUSEPORT), UNIX ones\n"
    "by thread 0. A datagram must fit in --buffer-size minus 144 bytes.\n"
    "\n";

constexpr const char* kServeEnd =
    "example: ringsock serve tcp://127.0.0.1:9000 udp://127.0.0.1:9001 --threads 2\n";

constexpr const char* kLoadHead =
    "usage: ringsock load ENDPOINT [options]\n"
    "\n"
    "Loads ENDPOINT, verifies every reply, reports latency and throughput.\n"
    "\n";

constexpr const char* kLoadEnd =
    "\n"
    "modes: pingpong (round trips), throughput (one way, as fast as it goes),\n"
    "  rate (open loop at --rate, latency corrected), churn (connect, exchange,\n"
    "  close, again), idle (hold connections for --duration); see ringsock(1)\n"
    "exit codes: 3 could not connect, 4 verification failure, 5 failed --assert,\n"
    "            6 measured nothing, 7 every connection failed, 8 results not written\n";

constexpr const char* kLoadExample =
    "example: ringsock load tcp://127.0.0.1:9000 --connections 4 --duration 2s\n";

constexpr const char* kMergeHead =
    "usage: ringsock merge RESULT... [LOG.hlog...] [options]\n"
    "\n"
    "Adds the JSON results of the shards of one run (ringsock load --shard K/N\n"
    "--json FILE) exactly: counters summed, histograms added bucket by bucket.\n"
    "Prints load's table for the whole run and each shard's rate, errors and\n"
    "start skew.\n"
    "\n";

constexpr const char* kMergeEnd =
    "\n"
    "exit codes: 0 ok, 1 cannot write an output, 2 bad arguments, unreadable or\n"
    "            broken results, or results that are not the shards of one run,\n"
    "            5 failed assertion\n";

constexpr const char* kReportHead =
    "usage: ringsock report [LABEL=]RESULT.json... -o FILE [options]\n"
    "       ringsock report --bars BARS.json -o FILE.svg\n"
    "\n"
    "Draws the JSON results of ringsock load or merge (--json) as one\n"
    "self-contained HTML page: latency by percentile, latency, throughput,\n"
    "errors and open connections per one-second interval, the run's facts,\n"
    "summary and --assert verdicts. Several results are overlaid on the same\n"
    "axes, each named LABEL (default: the file name without .json).\n"
    "\n";

constexpr const char* kReportEnd =
    "\n"
    "exit codes: 0 ok, 1 cannot write FILE, 2 bad arguments, unreadable or\n"
    "            broken results, an empty run, or results with no chart in common\n"
    "            (nothing is written then)\n"
    "example: ringsock report uring=u.json epoll=e.json -o report.html\n";

constexpr const char* kProbe =
    "usage: ringsock probe\n"
    "\n"
    "Starts a loop as any program would, then one on each backend, and prints\n"
    "which backend each gets and why, the io_uring features of this kernel,\n"
    "the kernel, and RINGSOCK_BACKEND. Exits 0 when a loop starts, 1 when none.\n";

// "  --name VALUE  help": the name column is 29 wide, so lines fit 80.
void print_options(Command command, FILE* out) {
  fputs("options:\n", out);
  for (const OptionSpec& option : options_of(command)) {
    char left[64];
    if (strcmp(option.name, "--help") == 0) {
      snprintf(left, sizeof left, "-h, --help");
    } else {
      snprintf(left, sizeof left, "%s%s%s", option.name, option.value ? " " : "",
               option.value ? option.value : "");
    }
    fprintf(out, "  %-27s %s\n", left, option.help);
  }
}

}  // namespace

void print_usage(Command topic, FILE* out) noexcept {
  switch (topic) {
    case Command::serve:
      fputs(kServeHead, out);
      print_options(Command::serve, out);
      fputs("\n", out);
      fputs(kEndpoints, out);
      fputs(kServeEnd, out);
      return;
    case Command::load:
      fputs(kLoadHead, out);
      print_options(Command::load, out);
      fputs(kLoadEnd, out);
      fputs(kEndpoints, out);
      fputs(kLoadExample, out);
      return;
    case Command::merge:
      fputs(kMergeHead, out);
      print_options(Command::merge, out);
      fputs(kMergeEnd, out);
      return;
    case Command::report:
      fputs(kReportHead, out);
      print_options(Command::report, out);
      fputs(kReportEnd, out);
      return;
    case Command::probe:
      fputs(kProbe, out);
      return;
    case Command::help:
    case Command::version:
      break;
  }
  fputs(kOverview, out);
  fputs(kEndpoints, out);
  fputs(kOverviewEnd, out);
}

}  // namespace ringsock_cli
