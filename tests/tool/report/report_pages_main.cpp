// Writes the example report pages the browser test opens:
//   report_example_pages OUTDIR
// single.html (one pingpong run), overlay.html (uring and epoll on the same
// axes), openloop.html (an open-loop run with a stall: corrected and
// uncorrected spectra), churn.html (connections open over time), shards.html
// (four shards of a run and their merged whole, highlighted).
#include <cstdio>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include "logic/report_page.hpp"
#include "report_examples.hpp"

namespace {

namespace tool = ringsock::tool;
using tool::examples::RunShape;

bool write_page(const std::string& path, const std::vector<tool::ReportSeries>& results) {
  auto page = tool::render_report_page(results);
  if (auto* e = std::get_if<tool::ReportError>(&page)) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e->message.c_str());
    return false;
  }
  std::ofstream out(path, std::ios::binary);
  out << std::get<std::string>(page);
  out.close();
  if (!out) std::fprintf(stderr, "%s: cannot write\n", path.c_str());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: report_example_pages OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const tool::ReportSeries uring = tool::examples::make_run(RunShape{});
  RunShape epoll_shape;
  epoll_shape.label = "epoll";
  epoll_shape.backend = "epoll";
  epoll_shape.seed = 2;
  epoll_shape.median_us = 52;
  epoll_shape.rate_per_s = 16000;
  const tool::ReportSeries epoll = tool::examples::make_run(epoll_shape);
  RunShape open_shape;
  open_shape.label = "open loop";
  open_shape.mode = "rate";
  open_shape.seed = 3;
  open_shape.stall_second = 6;
  RunShape churn_shape;
  churn_shape.label = "churn";
  churn_shape.mode = "churn";
  churn_shape.seed = 4;
  churn_shape.median_us = 90;
  churn_shape.rate_per_s = 5000;
  std::vector<tool::ReportSeries> shards;
  for (std::uint64_t k = 1; k <= 4; ++k) {
    RunShape shard;
    shard.label = "shard " + std::to_string(k) + "/4";
    shard.seed = 10 + k;
    shard.median_us = 36 + 4.0 * static_cast<double>(k);
    shard.rate_per_s = 5000;
    shards.push_back(tool::examples::make_run(shard));
  }
  RunShape merged_shape;
  merged_shape.label = "merged";
  merged_shape.seed = 20;
  merged_shape.median_us = 46;
  tool::ReportSeries merged = tool::examples::make_run(merged_shape);
  merged.highlight = true;
  shards.push_back(merged);
  bool ok = write_page(dir + "/single.html", {uring});
  ok = write_page(dir + "/shards.html", shards) && ok;
  ok = write_page(dir + "/overlay.html", {uring, epoll}) && ok;
  ok = write_page(dir + "/openloop.html", {tool::examples::make_run(open_shape)}) && ok;
  ok = write_page(dir + "/churn.html", {tool::examples::make_run(churn_shape)}) && ok;
  return ok ? 0 : 1;
}
