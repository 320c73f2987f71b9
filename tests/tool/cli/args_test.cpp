#include "args.hpp"
#include "client_socket.hpp"
#include "options.hpp"
#include "usage.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <sstream>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

namespace {

using ringsock_cli::Args;
using ringsock_cli::Command;
using ringsock_cli::kExitUsage;
using ringsock_cli::parse_args;
using ringsock_cli::ServeMode;

struct Parsed {
  int rc;
  std::string error;
};

Parsed parse(std::initializer_list<const char*> words, Args& args) {
  std::vector<const char*> argv{"ringsock"};
  argv.insert(argv.end(), words);
  char error[320];
  int rc = parse_args(int(argv.size()), argv.data(), args, error, sizeof error);
  return {rc, error};
}

TEST(CliArgs, HelpVersionProbe) {
  Args args;
  EXPECT_EQ(parse({"--help"}, args).rc, 0);
  EXPECT_EQ(args.command, Command::help);
  EXPECT_EQ(args.help_topic, Command::help);
  EXPECT_EQ(parse({"--version"}, args).rc, 0);
  EXPECT_EQ(args.command, Command::version);
  EXPECT_EQ(parse({"probe"}, args).rc, 0);
  EXPECT_EQ(args.command, Command::probe);
}

// Every way of asking for a subcommand's usage, before or among its
// arguments, and without the arguments it would otherwise need.
TEST(CliArgs, HelpPerSubcommand) {
  struct Form {
    std::vector<const char*> words;
    Command topic;
  };
  const Form forms[] = {
      {{"help"}, Command::help},
      {{"-h"}, Command::help},
      {{"help", "serve"}, Command::serve},
      {{"help", "load"}, Command::load},
      {{"help", "probe"}, Command::probe},
      {{"--help", "load"}, Command::load},
      {{"serve", "--help"}, Command::serve},
      {{"serve", "-h"}, Command::serve},
      {{"serve", "tcp://127.0.0.1:1", "--threads", "2", "--help"}, Command::serve},
      {{"load", "--help"}, Command::load},
      {{"load", "-h"}, Command::load},
      {{"load", "tcp://127.0.0.1:1", "--mode=rate", "-h"}, Command::load},
      {{"probe", "--help"}, Command::probe},
      {{"probe", "-h"}, Command::probe},
  };
  for (const Form& form : forms) {
    std::vector<const char*> argv{"ringsock"};
    argv.insert(argv.end(), form.words.begin(), form.words.end());
    Args args;
    char error[320];
    ASSERT_EQ(parse_args(int(argv.size()), argv.data(), args, error, sizeof error), 0)
        << form.words.size() << " words: " << error;
    EXPECT_EQ(args.command, Command::help) << form.words[0];
    EXPECT_EQ(args.help_topic, form.topic) << form.words[0];
  }
}

// The option tables are what the parser accepts: every row reaches a handler
// (a bad value is refused by it, not as an unknown option).
TEST(CliArgs, EveryOptionOfTheTablesIsHandled) {
  for (Command command : {Command::serve, Command::load}) {
    const char* name = command == Command::serve ? "serve" : "load";
    ASSERT_FALSE(ringsock_cli::options_of(command).empty()) << name;
    for (const ringsock_cli::OptionSpec& option : ringsock_cli::options_of(command)) {
      if (std::string(option.name) == "--help") continue;
      Args args;
      Parsed p = option.value != nullptr
                     ? parse({name, "tcp://127.0.0.1:1", option.name, "bogus!"}, args)
                     : parse({name, "tcp://127.0.0.1:1", option.name, "--frobnicate"}, args);
      EXPECT_EQ(p.error.find("unknown option '" + std::string(option.name)), std::string::npos)
          << p.error;
      EXPECT_EQ(p.error.find("not handled"), std::string::npos) << p.error;
      if (option.value == nullptr) {  // the flag was taken; the next word was not
        EXPECT_NE(p.error.find("'--frobnicate'"), std::string::npos) << p.error;
      } else if (p.rc != 0) {  // its handler refused the value (--json takes any)
        EXPECT_NE(p.error.find(option.name), std::string::npos) << p.error;
      }
    }
  }
}

std::string usage_of(Command topic) {
  char* text = nullptr;
  size_t size = 0;
  FILE* out = open_memstream(&text, &size);
  ringsock_cli::print_usage(topic, out);
  fclose(out);
  std::string result(text, size);
  free(text);
  return result;
}

// Like wrk's and tcpkali's: one screen, 80 columns, every option on it.
TEST(CliArgs, UsageFitsAScreenAndListsEveryOption) {
  for (Command topic : {Command::help, Command::serve, Command::load, Command::merge, Command::probe}) {
    std::string text = usage_of(topic);
    std::istringstream lines(text);
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
      ++count;
      EXPECT_LE(line.size(), 80u) << line;
    }
    // load also lists the 14 options that drive any service (requests,
    // reply framing, checks, host names, --timeout), one line each so that
    // every option is on it: two screens' worth at most.
    EXPECT_LE(count, topic == Command::load ? 57 : 40) << text;
    for (const ringsock_cli::OptionSpec& option : ringsock_cli::options_of(topic)) {
      EXPECT_NE(text.find(std::string(" ") + option.name), std::string::npos) << option.name;
    }
  }
  EXPECT_NE(usage_of(Command::load).find("usage: ringsock load ENDPOINT"), std::string::npos);
  EXPECT_NE(usage_of(Command::serve).find("usage: ringsock serve ENDPOINT..."), std::string::npos);
}

TEST(CliArgs, ServeDefaults) {
  Args args;
  ASSERT_EQ(parse({"serve", "tcp://127.0.0.1:9000"}, args).rc, 0);
  EXPECT_EQ(args.command, Command::serve);
  EXPECT_EQ(args.serve.endpoint_count, 1u);
  EXPECT_EQ(args.serve.mode, ServeMode::echo);
  EXPECT_EQ(args.serve.threads, 1u);
  EXPECT_EQ(args.serve.backend, ringsock::BackendChoice::automatic);
  EXPECT_EQ(args.serve.buffer_size, 4096u);
  EXPECT_EQ(args.serve.buffers, 1024u);
  EXPECT_EQ(args.serve.busy_poll_us, 0u);
  EXPECT_EQ(args.serve.max_connections, sizeof(void*) >= 8 ? 16384u : 1024u);  // 32-bit: less room
}

TEST(CliArgs, ServeEverything) {
  Args args;
  Parsed p = parse({"serve", "tcp://[::1]:0", "--mode", "sockperf", "udp://0.0.0.0:5000",
                    "--threads=4", "--backend", "epoll", "unix:///tmp/x.sock", "--buffer-size",
                    "65536", "--buffers=1024", "unix-dgram://@d", "--max-connections", "10",
                    "--max-message=100", "--busy-poll", "50", "--batch-wait", "20",
                    "--zero-copy", "16384", "--direct"},
                   args);
  ASSERT_EQ(p.rc, 0) << p.error;
  const auto& s = args.serve;
  EXPECT_EQ(s.endpoint_count, 4u);
  EXPECT_EQ(s.endpoints[0].transport, ringsock::Transport::tcp);
  EXPECT_EQ(s.endpoints[0].family(), AF_INET6);
  EXPECT_EQ(s.endpoints[1].transport, ringsock::Transport::udp);
  EXPECT_EQ(s.endpoints[2].transport, ringsock::Transport::unix_stream);
  EXPECT_EQ(s.endpoints[3].transport, ringsock::Transport::unix_dgram);
  EXPECT_EQ(s.mode, ServeMode::sockperf);
  EXPECT_EQ(s.threads, 4u);
  EXPECT_EQ(s.backend, ringsock::BackendChoice::epoll);
  EXPECT_EQ(s.buffer_size, 65536u);
  EXPECT_EQ(s.buffers, 1024u);
  EXPECT_EQ(s.max_connections, 10u);
  EXPECT_EQ(s.max_message, 100u);
  EXPECT_EQ(s.busy_poll_us, 50u);
  EXPECT_EQ(s.batch_wait_us, 20u);
  EXPECT_EQ(s.zero_copy_bytes, 16384u);
  EXPECT_TRUE(s.direct);
}

TEST(CliArgs, ModesAndBackends) {
  Args args;
  ASSERT_EQ(parse({"serve", "udp://127.0.0.1:1", "--mode", "sink", "--backend", "uring"}, args).rc, 0);
  EXPECT_EQ(args.serve.mode, ServeMode::sink);
  EXPECT_EQ(args.serve.backend, ringsock::BackendChoice::uring);
  ASSERT_EQ(parse({"serve", "udp://127.0.0.1:1", "--backend=auto", "--mode=echo"}, args).rc, 0);
  EXPECT_EQ(args.serve.backend, ringsock::BackendChoice::automatic);
  EXPECT_EQ(args.serve.mode, ServeMode::echo);
}

struct BadCase {
  std::vector<const char*> words;
  const char* mentions;  // the message must name the bad argument
};

class CliArgsBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(CliArgsBad, ExitsTwoNamingTheArgument) {
  std::vector<const char*> argv{"ringsock"};
  argv.insert(argv.end(), GetParam().words.begin(), GetParam().words.end());
  Args args;
  char error[320];
  int rc = parse_args(int(argv.size()), argv.data(), args, error, sizeof error);
  EXPECT_EQ(rc, kExitUsage);
  EXPECT_NE(std::string(error).find(GetParam().mentions), std::string::npos) << error;
}

const char* const kSeventeen[] = {
    "serve", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2", "tcp://127.0.0.1:3", "tcp://127.0.0.1:4",
    "tcp://127.0.0.1:5", "tcp://127.0.0.1:6", "tcp://127.0.0.1:7", "tcp://127.0.0.1:8",
    "tcp://127.0.0.1:9", "tcp://127.0.0.1:10", "tcp://127.0.0.1:11", "tcp://127.0.0.1:12",
    "tcp://127.0.0.1:13", "tcp://127.0.0.1:14", "tcp://127.0.0.1:15", "tcp://127.0.0.1:16",
    "tcp://127.0.0.1:17"};

INSTANTIATE_TEST_SUITE_P(
    Forms, CliArgsBad,
    ::testing::Values(
        BadCase{{}, "no command"},
        BadCase{{"frobnicate"}, "'frobnicate'"},
        BadCase{{"load"}, "ENDPOINT"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--mode", "flood"}, "'flood' for --mode"},
        BadCase{{"probe", "extra"}, "'extra'"},
        BadCase{{"probe", "--help", "x"}, "'--help'"},
        BadCase{{"help", "bogus"}, "'bogus'"},
        BadCase{{"help", "serve", "load"}, "'load'"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--nodelay=yes"}, "'--nodelay' takes no value"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--frob"}, "unknown option '--frob' for load"},
        BadCase{{"load", "tcp://127.0.0.1:1", "-x"}, "'-x'"},
        BadCase{{"serve"}, "ENDPOINT"},
        BadCase{{"serve", "--mode", "echo"}, "ENDPOINT"},
        BadCase{{"serve", "tcp://1.2.3:4"}, "'tcp://1.2.3:4'"},
        BadCase{{"load", "tcp://127.0.0.1:0"}, "server's port in 'tcp://127.0.0.1:0'"},
        BadCase{{"load", "udp://[::1]:0"}, "server's port in 'udp://[::1]:0'"},
        BadCase{{"load", "tcp://cache.internal:0"}, "server's port in 'tcp://cache.internal:0'"},
        BadCase{{"load", "tcp://cache.internal:65536"},
                "'tcp://cache.internal:65536': port is not a decimal number"},
        BadCase{{"load", "udp://cache.internal:"}, "'udp://cache.internal:': port is not"},
        BadCase{{"serve", "tcp://127.0.0.1:70000"}, "'tcp://127.0.0.1:70000'"},
        BadCase{{"serve", "http://127.0.0.1:80"}, "'http://127.0.0.1:80'"},
        BadCase{{"serve", "127.0.0.1:80"}, "'127.0.0.1:80'"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--mode", "flood"}, "'flood' for --mode"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--backend", "kqueue"}, "'kqueue' for --backend"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--threads", "0"}, "'0' for --threads"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--threads", "-1"}, "'-1' for --threads"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--threads", "2x"}, "'2x' for --threads"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--threads="}, "'' for --threads"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--threads", "99999999999"}, "--threads"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--buffer-size", "100"}, "'100' for --buffer-size"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--buffers", "1000"}, "power of two"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--buffers", "65536"}, "'65536' for --buffers"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--max-connections", "0"}, "--max-connections"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--max-message", "13"}, "--max-message"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--busy-poll", "1000001"}, "'1000001' for --busy-poll"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--busy-poll", "-5"}, "'-5' for --busy-poll"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--batch-wait", "1000001"}, "'1000001' for --batch-wait"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--batch-wait", "1s"}, "'1s' for --batch-wait"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--busy-poll", "2000000"}, "'2000000' for --busy-poll"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--zero-copy", "64k"}, "'64k' for --zero-copy"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--zero-copy", "2000000000"}, "'2000000000' for --zero-copy"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--direct", "--threads", "2", "--dispatch", "handoff"},
                "--direct does not go with --dispatch handoff"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--direct", "--max-connections", "65537"},
                "--direct takes at most 65536"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--direct=1"}, "'--direct' takes no value"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--mode"}, "'--mode' needs a value"},
        BadCase{{"serve", "tcp://127.0.0.1:1", "--colour", "red"}, "'--colour'"},
        BadCase{{"serve", "unix://"}, "'unix://'"},
        BadCase{{std::begin(kSeventeen), std::end(kSeventeen)}, "too many endpoints"},
        // load: the options of churn/idle, threads, sources, buffers, sockperf
        BadCase{{"load", "tcp://127.0.0.1:1", "--threads", "0"}, "'0' for --threads"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--threads", "2"}, "--threads must not exceed"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--arrival", "bursty"}, "'bursty' for --arrival"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--arrival", "poisson"}, "needs --rate"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--mode", "idle", "--count", "5"}, "--duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--mode", "churn", "--inflight", "2"}, "--inflight"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--mode", "pingpong", "--rate", "5"}, "--rate is only"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "1.2.3"}, "'1.2.3' for --source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "10.0.0.9-10.0.0.1"}, "for --source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "10.0.0.1-::1"}, "for --source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "fd00::1-fd01::2"}, "for --source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "10.0.0.0-11.0.0.0"}, "--source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "::1"}, "both be IPv4 or both IPv6"},
        BadCase{{"load", "unix:///tmp/x", "--source", "127.0.0.1"}, "tcp:// and udp://"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source-ports", "100-200"}, "needs --source"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "127.0.0.2", "--source-ports", "5-2"},
                "'5-2' for --source-ports"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "127.0.0.2", "--source-ports", "0-2"},
                "--source-ports"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--source", "127.0.0.2", "--source-ports",
                 "9000-70000"}, "--source-ports"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--connections", "5", "--source",
                 "127.0.0.2-127.0.0.3", "--source-ports", "9000-9001"}, "--source addresses x"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--sndbuf", "10"}, "'10' for --sndbuf"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--rcvbuf", "lots"}, "'lots' for --rcvbuf"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--sockperf", "--size", "53"}, "at least 54"},
        // durations: decimals only as digits '.' digits, at most 9, whole nanoseconds
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1."}, "'1.' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", ".5s"}, "'.5s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1.5.0s"}, "'1.5.0s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "0.5ns"}, "'0.5ns' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "0.0000000001s"}, "'0.0000000001s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1e3s"}, "'1e3s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1.5x"}, "'1.5x' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "-0.5s"}, "'-0.5s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1,5s"}, "'1,5s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "0.1234567891s"}, "'0.1234567891s' for --duration"},
        BadCase{{"load", "tcp://127.0.0.1:1", "--duration", "1000000001s"}, "'1000000001s' for --duration"}));

TEST(CliArgs, LoadModesSourcesAndKnobs) {
  Args args;
  Parsed p = parse({"load", "tcp://127.0.0.1:9", "--mode", "churn", "--rate", "500", "--arrival",
                    "poisson", "--connections", "8", "--threads", "2", "--source",
                    "127.0.0.2-127.0.0.9", "--source-ports", "40000-40999", "--sndbuf", "65536",
                    "--rcvbuf=131072", "--sockperf", "--size", "54"},
                   args);
  ASSERT_EQ(p.rc, 0) << p.error;
  const auto& load = args.load;
  EXPECT_EQ(load.mode, ringsock_cli::LoadMode::churn);
  EXPECT_EQ(load.arrival, ringsock_cli::Arrival::poisson);
  EXPECT_EQ(load.threads, 2u);
  EXPECT_EQ(load.source.count, 8u);
  EXPECT_EQ(load.source.port_low, 40000);
  EXPECT_EQ(load.source.ports(), 1000u);
  EXPECT_EQ(load.send_buffer, 65536);
  EXPECT_EQ(load.receive_buffer, 131072);
  EXPECT_TRUE(load.sockperf);
  EXPECT_EQ(parse({"load", "tcp://[::1]:9", "--mode", "idle", "--source", "fd00::fe-fd00::103"},
                  args).rc, 0);
  EXPECT_EQ(args.load.mode, ringsock_cli::LoadMode::idle);
  EXPECT_EQ(args.load.source.count, 0x103u - 0xfeu + 1);
  // Only the last 16 bits may differ.
  EXPECT_EQ(parse({"load", "tcp://[::1]:9", "--source", "fd00::fe-fd00::1:3"}, args).rc, kExitUsage);
}

TEST(CliArgs, SourceOfEachConnection) {
  Args args;
  ASSERT_EQ(parse({"load", "tcp://127.0.0.1:9", "--source", "10.0.0.254-10.0.1.1",
                   "--source-ports", "5000-5001", "--connections", "8"}, args).rc, 0);
  // Connection i: address i % 4, port (i / 4) % 2.
  const char* expected[] = {"tcp://10.0.0.254:5000", "tcp://10.0.0.255:5000",
                            "tcp://10.0.1.0:5000",   "tcp://10.0.1.1:5000",
                            "tcp://10.0.0.254:5001", "tcp://10.0.0.255:5001",
                            "tcp://10.0.1.0:5001",   "tcp://10.0.1.1:5001"};
  for (uint32_t i = 0; i < 8; ++i) {
    ringsock::Endpoint local;
    ASSERT_TRUE(ringsock_cli::source_for(args.load.source, i, local));
    local.transport = ringsock::Transport::tcp;
    char url[ringsock::kEndpointUrlMax];
    ASSERT_GT(ringsock::format_endpoint(local, url, sizeof url), 0);
    EXPECT_STREQ(url, expected[i]) << i;
  }
  ASSERT_EQ(parse({"load", "tcp://[::1]:9", "--source", "fd00::fffc-fd00::ffff"}, args).rc, 0);
  ringsock::Endpoint local;
  ASSERT_TRUE(ringsock_cli::source_for(args.load.source, 3, local));
  local.transport = ringsock::Transport::tcp;
  char url[ringsock::kEndpointUrlMax];
  ASSERT_GT(ringsock::format_endpoint(local, url, sizeof url), 0);
  EXPECT_STREQ(url, "tcp://[fd00::ffff]:0");
  ASSERT_EQ(parse({"load", "tcp://127.0.0.1:9"}, args).rc, 0);
  EXPECT_FALSE(ringsock_cli::source_for(args.load.source, 0, local));
}

// --ipv4 / --ipv6 on an ENDPOINT that names no host: `localhost` is ::1
// under --ipv6, an address of the other family is refused, and so are the
// endpoints that have no family; a host name is resolved later, to the
// family of --source when one is given.
TEST(CliArgs, AddressFamilyOptions) {
  Args args;
  ASSERT_EQ(parse({"load", "tcp://localhost:9", "--ipv6"}, args).rc, 0);
  char url[ringsock::kEndpointUrlMax];
  ASSERT_GT(ringsock::format_endpoint(args.load.endpoint, url, sizeof url), 0);
  EXPECT_STREQ(url, "tcp://[::1]:9");
  ASSERT_EQ(parse({"load", "--ipv4", "udp://localhost:9"}, args).rc, 0);
  ASSERT_GT(ringsock::format_endpoint(args.load.endpoint, url, sizeof url), 0);
  EXPECT_STREQ(url, "udp://127.0.0.1:9");
  ASSERT_EQ(parse({"load", "tcp://[::1]:9", "--ipv6", "--source", "::1"}, args).rc, 0);

  Parsed other = parse({"load", "tcp://127.0.0.1:9", "--ipv6"}, args);
  EXPECT_EQ(other.rc, kExitUsage);
  EXPECT_NE(other.error.find("is not an IPv6 address, but --ipv6 was given"), std::string::npos)
      << other.error;
  EXPECT_EQ(parse({"load", "tcp://[::1]:9", "--ipv4"}, args).rc, kExitUsage);
  Parsed unix_path = parse({"load", "unix:///tmp/x.sock", "--ipv4"}, args);
  EXPECT_EQ(unix_path.rc, kExitUsage);
  EXPECT_EQ(unix_path.error, "--ipv4 and --ipv6 are for tcp:// and udp:// endpoints");
  Parsed mixed = parse({"load", "tcp://db.example:9", "--ipv4", "--source", "::1"}, args);
  EXPECT_EQ(mixed.rc, kExitUsage);
  EXPECT_EQ(mixed.error, "--source is IPv6, but --ipv4 was given");
  // A name's family is not known yet: either source family is taken.
  ASSERT_EQ(parse({"load", "tcp://db.example:9", "--source", "::1"}, args).rc, 0);
  ASSERT_EQ(parse({"load", "tcp://db.example:9", "--source", "127.0.0.2"}, args).rc, 0);
  EXPECT_EQ(parse({"load", "tcp://127.0.0.1:9", "--source", "::1"}, args).rc, kExitUsage);
}

// Durations take up to 9 decimals (a whole number of nanoseconds); the forms
// they refuse are among the CliArgsBad cases.
TEST(CliArgs, DurationsTakeDecimals) {
  const std::vector<std::pair<std::string, uint64_t>> good = {
      {"0.5s", 500000000u},  {"0.5", 500000000u},           {"1.25ms", 1250000u},
      {"2.5m", 150000000000u}, {"1.000000001s", 1000000001u}, {"0.001us", 1u},
      {"10s", 10000000000u}, {"7ns", 7u},
  };
  for (const auto& [text, ns] : good) {
    Args args;
    Parsed parsed = parse({"load", "tcp://127.0.0.1:9", "--warmup", text.c_str()}, args);
    ASSERT_EQ(parsed.rc, 0) << text << ": " << parsed.error;
    EXPECT_EQ(args.load.warmup_ns, ns) << text;
  }
}

}  // namespace

namespace {

TEST(CliArgsSafety, MaxLentIsAServeOption) {
  Args args;
  ASSERT_EQ(parse({"serve", "tcp://127.0.0.1:1"}, args).rc, 0);
  EXPECT_EQ(args.serve.max_lent, 32u);  // a default server is safe from a client that never reads
  ASSERT_EQ(parse({"serve", "tcp://127.0.0.1:1", "--max-lent", "4"}, args).rc, 0);
  EXPECT_EQ(args.serve.max_lent, 4u);
  Parsed p = parse({"serve", "tcp://127.0.0.1:1", "--max-lent", "0"}, args);
  EXPECT_EQ(p.rc, kExitUsage);
  EXPECT_NE(p.error.find("--max-lent"), std::string::npos) << p.error;
}

}  // namespace

namespace {

TEST(CliArgsSafety, UnlinkStaleIsAFlag) {
  Args args;
  ASSERT_EQ(parse({"serve", "unix:///tmp/x.sock"}, args).rc, 0);
  EXPECT_FALSE(args.serve.unlink_stale);
  Parsed p = parse({"serve", "--unlink-stale", "unix:///tmp/x.sock", "--threads", "2"}, args);
  ASSERT_EQ(p.rc, 0) << p.error;
  EXPECT_TRUE(args.serve.unlink_stale);
  EXPECT_EQ(args.serve.endpoint_count, 1u);
  EXPECT_EQ(args.serve.threads, 2u);
}

}  // namespace

namespace {

// One message is one datagram: a size no datagram holds is refused before any work.
TEST(CliArgsSafety, DatagramSizeIsRefusedAtParseTime) {
  struct Limit {
    const char* endpoint;
    const char* fits;
    const char* too_big;
    const char* says;
  };
  for (const Limit& l : {Limit{"udp://127.0.0.1:9", "65507", "65508", "65507 bytes (UDP over IPv4)"},
                         Limit{"udp://[::1]:9", "65527", "65528", "65527 bytes (UDP over IPv6)"},
                         Limit{"unix-dgram:///tmp/d", "65507", "1048576", "65507 bytes (unix-dgram"}}) {
    SCOPED_TRACE(l.endpoint);
    Args args;
    Parsed ok = parse({"load", l.endpoint, "--size", l.fits}, args);
    EXPECT_EQ(ok.rc, 0) << ok.error;
    Parsed bad = parse({"load", l.endpoint, "--size", l.too_big}, args);
    EXPECT_EQ(bad.rc, kExitUsage);
    EXPECT_NE(bad.error.find(l.says), std::string::npos) << bad.error;
    Parsed range = parse({"load", l.endpoint, "--size", "64-1048576"}, args);
    EXPECT_EQ(range.rc, kExitUsage);
  }
  Args args;
  EXPECT_EQ(parse({"load", "tcp://127.0.0.1:9", "--size", "1048576"}, args).rc, 0);  // streams: fine
}

}  // namespace

namespace {

// --shard, --start-at, --hlog: what load keeps, and exit 2 with a reason.
TEST(CliArgs, LoadShardStartAtAndHlog) {
  Args args;
  Parsed p = parse({"load", "tcp://127.0.0.1:9", "--shard", "2/4", "--hlog", "/tmp/x.hlog",
                    "--start-at", "2999-01-01T00:00:00Z"},
                   args);
  // The year 2999 is more than a day ahead: refused, naming the option.
  EXPECT_EQ(p.rc, 2);
  EXPECT_NE(p.error.find("--start-at"), std::string::npos) << p.error;
  Args good;
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  const std::string soon = std::to_string(now.tv_sec + 60) + ".5";
  ASSERT_EQ(parse({"load", "tcp://127.0.0.1:9", "--shard", "2/4", "--hlog", "/tmp/x.hlog",
                   "--start-at", soon.c_str()},
                  good)
                .rc,
            0);
  EXPECT_EQ(good.load.shard_index, 2u);
  EXPECT_EQ(good.load.shard_count, 4u);
  EXPECT_STREQ(good.load.hlog_file, "/tmp/x.hlog");
  EXPECT_EQ(good.load.start_at_unix_ns, (int64_t(now.tv_sec) + 60) * 1'000'000'000LL + 500'000'000LL);
  for (const char* bad : {"4/4", "1/0", "x", "1/", "-1/2"}) {
    Args a;
    Parsed q = parse({"load", "tcp://127.0.0.1:9", "--shard", bad}, a);
    EXPECT_EQ(q.rc, 2) << bad;
    EXPECT_NE(q.error.find("--shard"), std::string::npos) << bad << ": " << q.error;
  }
  Args past;
  Parsed q = parse({"load", "tcp://127.0.0.1:9", "--start-at", "1000000000"}, past);
  EXPECT_EQ(q.rc, 2);
  EXPECT_NE(q.error.find("past"), std::string::npos) << q.error;
}

}  // namespace
