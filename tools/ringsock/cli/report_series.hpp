// One result of `ringsock load --json` (or `ringsock merge --json`) as the
// report draws it: its "run" record (logic/result_file.hpp) gives the
// spectra and the one-second intervals, the classic fields (environment,
// config, assertions) the header. `ringsock report` and `load --report`
// both come through here, so a page made at the end of a run and one made
// later from its file are the same page.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "logic/report_model.hpp"

namespace ringsock_cli {

/// The series of one result file's text, labelled `label`; or one sentence
/// saying what is wrong with it (broken JSON, not a ringsock result, no
/// samples at all).
std::variant<ringsock::tool::ReportSeries, std::string> series_from_result(const std::string& label,
                                                                          std::string_view json_text);

/// Renders the page and writes it to `path` (only when the page could be
/// made; output_file.hpp: a failed write changes nothing). Returns "" or one
/// sentence on why not; `write_failed` (if given) says whether the write was
/// what failed.
std::string write_report_page(const std::vector<ringsock::tool::ReportSeries>& results,
                              const std::string& path, bool* write_failed = nullptr);

}  // namespace ringsock_cli
