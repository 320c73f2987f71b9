// Fuzzes the JSON result that `ringsock merge` and `ringsock report` read
// (tools/ringsock/logic/json_reader.hpp, result_file.hpp, run_merge.hpp and
// cli/report_series.hpp): the strict JSON reader, the "run" record read
// from it, a merge of it alone, and the series the report draws from it.
//
// Input: the whole file.
// Properties: a record that reads writes out as a document that reads back
// to the same document (a fixed point after one round), with the same
// counters and histogram counts; a one-shard record merges alone into the
// same counters; the report's reader accepts no file the record reader
// refuses.
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "logic/json_reader.hpp"
#include "logic/result_file.hpp"
#include "logic/run_merge.hpp"
#include "report_series.hpp"

namespace tool = ringsock::tool;

namespace {

void check_same_samples(const tool::RunRecord& a, const tool::RunRecord& b) {
  FUZZ_CHECK(a.counters == b.counters);
  FUZZ_CHECK(a.histograms.size() == b.histograms.size());
  for (std::size_t i = 0; i < a.histograms.size(); ++i) {
    FUZZ_CHECK(a.histograms[i].name == b.histograms[i].name);
    FUZZ_CHECK(a.histograms[i].histogram.count() == b.histograms[i].histogram.count());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto json = tool::parse_json(text);
  if (const auto* error = std::get_if<std::string>(&json)) FUZZ_CHECK(!error->empty());

  const auto series = ringsock_cli::series_from_result("fuzz", text);
  const auto read = tool::read_run_record(text);
  if (const auto* error = std::get_if<std::string>(&read)) {
    FUZZ_CHECK(!error->empty());
    FUZZ_CHECK(std::holds_alternative<std::string>(series));
    return 0;
  }
  FUZZ_CHECK(std::holds_alternative<tool::JsonValue>(json));
  const tool::RunRecord& record = std::get<tool::RunRecord>(read);

  const std::string written = tool::run_record_document(record);
  const auto reread = tool::read_run_record(written);
  if (const auto* error = std::get_if<std::string>(&reread)) {
    std::fprintf(stderr, "a record read back from its own document: %s\n", error->c_str());
    FUZZ_CHECK(!"a written record reads back");
  }
  const tool::RunRecord& second = std::get<tool::RunRecord>(reread);
  check_same_samples(record, second);
  FUZZ_CHECK(second.intervals.size() == record.intervals.size());
  FUZZ_CHECK(tool::run_record_document(second) == written);

  if (record.shard.count == 1) {
    const auto merged = tool::merge_runs({{"fuzz", record}});
    if (const auto* error = std::get_if<std::string>(&merged)) {
      std::fprintf(stderr, "one shard merged alone: %s\n", error->c_str());
      FUZZ_CHECK(!"one shard merges alone");
    }
    check_same_samples(record, std::get<tool::RunRecord>(merged));
  }
  return 0;
}
