# Unit tests of ringsock_tool_logic: pure computation, no sockets, no sleeping.
add_executable(tool_logic_tests
  ${CMAKE_CURRENT_LIST_DIR}/logic/histogram_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/pacing_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/message_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/assertion_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/escape_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/request_template_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/reply_framing_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/reply_check_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/regex_limits_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/no_alloc_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/shard_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/start_at_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/hlog_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/hlog_merge_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/interval_recorder_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json_reader_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/result_file_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/run_merge_test.cpp)
target_link_libraries(tool_logic_tests PRIVATE ringsock_tool_logic GTest::gtest GTest::gtest_main)
ringsock_batch_test_sources(tool_logic_tests)
ringsock_add_unit_suite(tool_logic_tests 60 "")

# The report: unit tests of its geometry, model and page, and a browser test
# that renders example pages in headless Chromium (skipped without it).
add_library(report_examples STATIC ${CMAKE_CURRENT_LIST_DIR}/report/report_examples.cpp)
target_link_libraries(report_examples PUBLIC ringsock_tool_logic)
target_include_directories(report_examples PUBLIC ${CMAKE_CURRENT_LIST_DIR}/report)
add_executable(report_example_pages ${CMAKE_CURRENT_LIST_DIR}/report/report_pages_main.cpp)
target_link_libraries(report_example_pages PRIVATE report_examples)
add_executable(report_tests
  ${CMAKE_CURRENT_LIST_DIR}/logic/svg_chart_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/svg_bar_chart_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/report_model_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/report_test.cpp)
target_link_libraries(report_tests PRIVATE report_examples GTest::gtest GTest::gtest_main)
ringsock_batch_test_sources(report_tests)
ringsock_add_unit_suite(report_tests 60 "")
# The pages in headless Chromium (scripts/browser-deps.sh installs it; skipped
# without it). Not when cross-compiling: the page writer is a foreign binary.
# Plain builds only: what Chromium checks is the page, and report_tests already
# run the code that writes it under the sanitizers.
if(NOT CMAKE_CROSSCOMPILING AND RINGSOCK_SANITIZE STREQUAL "")
  add_test(NAME report_browser
           COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/report/report_browser_test.py
                   --pages $<TARGET_FILE:report_example_pages>
                   --work ${CMAKE_CURRENT_BINARY_DIR}/report_browser)
  # Each Chromium run is bounded by 90 s inside the script; six runs at most.
  set_tests_properties(report_browser PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 570 PROCESSORS 2
                       LABELS tool)
  # A page `ringsock report` made from real `ringsock load` runs (both
  # backends) against `ringsock serve` over loopback.
  if(TARGET ringsock)
    add_test(NAME report_browser_real
             COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/report/report_browser_test.py
                     --ringsock $<TARGET_FILE:ringsock>
                     --work ${CMAKE_CURRENT_BINARY_DIR}/report_browser_real)
    set_tests_properties(report_browser_real PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300
                         PROCESSORS 2 LABELS tool)
  endif()
endif()

# An .hlog read by a reader ringsock did not write: hdr-histogram-js from the
# npm registry, installed into the build tree on first use (skipped without
# node, npm or the registry).
add_executable(tool_interop_tests ${CMAKE_CURRENT_LIST_DIR}/interop/hlog_js_test.cpp)
target_link_libraries(tool_interop_tests PRIVATE ringsock_tool_logic GTest::gtest GTest::gtest_main)
target_compile_definitions(tool_interop_tests PRIVATE
  HLOG_JS_CHECK="${CMAKE_CURRENT_LIST_DIR}/interop/hlog_js_check.js"
  NPM_CACHE_DIR="${CMAKE_CURRENT_BINARY_DIR}/npm-hdr-histogram")
# With the binary: the log of a real load, read by the same reader.
if(TARGET ringsock)
  target_sources(tool_interop_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cli/child.cpp
                 ${CMAKE_CURRENT_LIST_DIR}/cli/e2e_support.cpp)
  target_include_directories(tool_interop_tests PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cli)
  target_compile_definitions(tool_interop_tests PRIVATE RINGSOCK_BIN="$<TARGET_FILE:ringsock>")
  if(CMAKE_CROSSCOMPILING_EMULATOR)
    string(REPLACE ";" "|" ringsock_interop_emulator "${CMAKE_CROSSCOMPILING_EMULATOR}")
    target_compile_definitions(tool_interop_tests PRIVATE
                               RINGSOCK_EMULATOR="${ringsock_interop_emulator}")
  endif()
  add_dependencies(tool_interop_tests ringsock)
endif()
gtest_discover_tests(tool_interop_tests PROPERTIES TIMEOUT 240 LABELS tool DISCOVERY_TIMEOUT 60)

# (Native builds only: slurmd cannot exec a foreign binary.)
# Plain builds only, like the other tests of orchestrators: the launcher is
# what they check; the sanitizer passes run the shard logic in unit tests.
if(NOT CMAKE_CROSSCOMPILING AND RINGSOCK_SANITIZE STREQUAL "")
  # --shard auto under a real single-node Slurm started by scripts/slurm-node.sh
  # (skipped without root or Slurm's packages; one Slurm test at a time: its ports are fixed).
  add_executable(shard_env_probe ${CMAKE_CURRENT_LIST_DIR}/slurm/shard_env_probe.cpp)
  target_link_libraries(shard_env_probe PRIVATE ringsock_tool_logic)
  add_test(NAME tool_slurm_shard_auto
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/slurm/slurm_shard_test.sh
                   $<TARGET_FILE:shard_env_probe> ${PROJECT_SOURCE_DIR}/scripts)
  set_tests_properties(tool_slurm_shard_auto PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK slurm LABELS tool)
endif()
