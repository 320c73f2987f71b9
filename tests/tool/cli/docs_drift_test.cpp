// The option tables, the help, the man pages and docs/command.md never drift:
// every option a subcommand accepts (its table in options.cpp, which the
// parser looks every option up in) is listed by `ringsock SUBCOMMAND --help`,
// in that subcommand's OPTIONS section of ringsock(1) and in its section of
// docs/command.md, and each of those lists nothing else. The same for the C
// ABI: every rsk_ function of ringsock.h is in ringsock(3), and ringsock(3)
// names no function the header lacks.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "args.hpp"
#include "child.hpp"
#include "options.hpp"
#include "report.hpp"

namespace {

using ringsock_cli::Command;
using Names = std::set<std::string>;

std::string source_file(const std::string& relative) {
  std::ifstream in(std::string(RINGSOCK_SOURCE_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* name_of(Command command) {
  switch (command) {
    case Command::serve: return "serve";
    case Command::merge: return "merge";
    case Command::report: return "report";
    default: return "load";
  }
}

// The section of ringsock(1) with a subcommand's options: "SERVE OPTIONS".
std::string man_section(Command command) {
  std::string name = name_of(command);
  for (char& c : name) c = char(c - 'a' + 'A');
  return name + " OPTIONS";
}

// "--name" words of a line.
Names long_options(const std::string& line) {
  static const std::regex option(R"((^|[^a-z0-9-])(--[a-z][a-z0-9-]*))");
  Names names;
  for (std::sregex_iterator it(line.begin(), line.end(), option), end; it != end; ++it) {
    names.insert((*it)[2]);
  }
  return names;
}

Names from_table(Command command) {
  Names names;
  for (const auto& option : ringsock_cli::options_of(command)) names.insert(option.name);
  return names;
}

// The option lines of `ringsock SUBCOMMAND --help`: "  --name VALUE  help"
// (or "  -h, --help  ...") between "options:" and the next blank line.
Names from_help(Command command) {
  std::string out, err;
  EXPECT_EQ(cli_test::run({name_of(command), "--help"}, &out, &err), 0) << err;
  Names names;
  std::istringstream lines(out);
  std::string line;
  bool in_options = false;
  static const std::regex row(R"(^  (-h, )?(--[a-z][a-z0-9-]*))");
  while (std::getline(lines, line)) {
    if (line == "options:") in_options = true;
    else if (line.empty()) in_options = false;
    std::smatch m;
    if (in_options && std::regex_search(line, m, row)) names.insert(m[2]);
  }
  return names;
}

// roff: "\-" is a minus, "\fB" and friends change the font.
std::string unroff(std::string line) {
  line = std::regex_replace(line, std::regex(R"(\\f[BIRP])"), "");
  return std::regex_replace(line, std::regex(R"(\\-)"), "-");
}

// The tags of the .TP paragraphs in the section ".SH SERVE OPTIONS" (or LOAD).
Names from_man_page(Command command) {
  std::istringstream lines(source_file("docs/man/ringsock.1"));
  const std::string wanted = ".SH " + man_section(command);
  Names names;
  std::string line;
  bool in_section = false, tag_next = false;
  while (std::getline(lines, line)) {
    if (line.rfind(".SH", 0) == 0) in_section = line == wanted;
    if (!in_section) continue;
    if (tag_next) names.merge(long_options(unroff(line)));
    tag_next = line == ".TP";
  }
  return names;
}

// The list items "- `--name VALUE`: ..." under "## ringsock serve" (or load).
Names from_command_md(Command command) {
  std::istringstream lines(source_file("docs/command.md"));
  const std::string wanted = std::string("## ringsock ") + name_of(command);
  Names names;
  std::string line;
  bool in_section = false;
  while (std::getline(lines, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line.rfind(wanted, 0) == 0;
    if (in_section && line.rfind("- `-", 0) == 0) {
      names.merge(long_options(line.substr(0, line.find("`:") + 1)));
    }
  }
  return names;
}

std::string listed(const Names& names) {
  std::string text;
  for (const auto& name : names) text += " " + name;
  return text.empty() ? " (none)" : text;
}

// What `a` has that `b` lacks, and the other way round.
void expect_same(const Names& table, const Names& other, const std::string& where) {
  Names missing, extra;
  for (const auto& name : table) {
    if (!other.count(name)) missing.insert(name);
  }
  for (const auto& name : other) {
    if (!table.count(name)) extra.insert(name);
  }
  EXPECT_TRUE(missing.empty()) << where << " lacks options the parser accepts:" << listed(missing);
  EXPECT_TRUE(extra.empty()) << where << " lists options the parser refuses:" << listed(extra);
}

class DocsDrift : public ::testing::TestWithParam<Command> {};

TEST_P(DocsDrift, TheTableHasTheOptions) {
  Names table = from_table(GetParam());
  EXPECT_TRUE(table.count("--help"));
  if (GetParam() == Command::report) {  // report.cpp parses its own arguments
    for (const auto& name : table) {
      if (name == "--help") continue;
      std::vector<const char*> argv{"ringsock", "report", "a.json", "-o", "r.html", name.c_str(), "x"};
      ringsock_cli::ReportArgs args;
      std::string error;
      ringsock_cli::parse_report_args(int(argv.size()), argv.data(), args, error);
      EXPECT_EQ(error.find("unknown option"), std::string::npos) << error;
    }
    return;
  }
  // merge's arguments are files, parsed by merge.cpp: its e2e tests cover them.
  if (GetParam() == Command::merge) return;
  EXPECT_GE(table.size(), 5u);
  // The parser accepts exactly the table: every row reaches a handler.
  for (const auto& name : table) {
    if (name == "--help") continue;
    std::vector<const char*> argv{"ringsock", name_of(GetParam()), "tcp://127.0.0.1:1",
                                  name.c_str(), "1"};
    ringsock_cli::Args args;
    char error[320];
    ringsock_cli::parse_args(int(argv.size()), argv.data(), args, error, sizeof error);
    EXPECT_EQ(std::string(error).find("unknown option"), std::string::npos) << error;
    EXPECT_EQ(std::string(error).find("not handled"), std::string::npos) << error;
  }
}

TEST_P(DocsDrift, HelpListsEveryOption) {
  expect_same(from_table(GetParam()), from_help(GetParam()),
              std::string("ringsock ") + name_of(GetParam()) + " --help");
}

TEST_P(DocsDrift, ManPageListsEveryOption) {
  expect_same(from_table(GetParam()), from_man_page(GetParam()),
              "ringsock(1) " + man_section(GetParam()));
}

TEST_P(DocsDrift, CommandManualListsEveryOption) {
  expect_same(from_table(GetParam()), from_command_md(GetParam()),
              std::string("docs/command.md, ## ringsock ") + name_of(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Subcommands, DocsDrift, ::testing::Values(Command::serve, Command::load,
                                                                      Command::merge, Command::report),
                         [](const auto& param_info) { return std::string(name_of(param_info.param)); });

// Functions declared with RSK_API in ringsock.h, and named in ringsock(3)'s synopsis.
TEST(DocsDrift, CAbiManPageHasEveryFunction) {
  Names header, synopsis;
  std::string text = source_file("bindings-c/include/ringsock.h");
  static const std::regex declared(R"(RSK_API[^;(]*?\b(rsk_[a-z0-9_]+)\s*\()");
  for (std::sregex_iterator it(text.begin(), text.end(), declared), end; it != end; ++it) {
    header.insert((*it)[1]);
  }
  std::istringstream lines(source_file("docs/man/ringsock.3"));
  std::string line, body;
  bool in_synopsis = false;
  static const std::regex named(R"(\b(rsk_[a-z0-9_]+)\()");
  while (std::getline(lines, line)) {
    if (line.rfind(".SH", 0) == 0) in_synopsis = line == ".SH SYNOPSIS";
    if (in_synopsis) {
      std::string plain = unroff(line);
      for (std::sregex_iterator it(plain.begin(), plain.end(), named), end; it != end; ++it) {
        if (std::string((*it)[1]) != "rsk_callback") synopsis.insert((*it)[1]);
      }
    } else {
      body += unroff(line) + "\n";
    }
  }
  EXPECT_GE(header.size(), 40u);
  expect_same(header, synopsis, "ringsock(3) SYNOPSIS");
  for (const auto& name : header) {  // and each is described below the synopsis
    EXPECT_NE(body.find(name), std::string::npos) << "ringsock(3) does not describe " << name;
  }
}

// The footer of each man page names the version the build installs it with.
TEST(DocsDrift, ManPagesNameThisVersion) {
  for (const char* page : {"docs/man/ringsock.1", "docs/man/ringsock.3"}) {
    std::istringstream lines(source_file(page));
    std::string line;
    while (std::getline(lines, line) && line.rfind(".TH ", 0) != 0) {
    }
    EXPECT_NE(line.find(std::string("\"ringsock ") + RINGSOCK_PROJECT_VERSION + "\""),
              std::string::npos)
        << page << ": " << line;
  }
}

}  // namespace
