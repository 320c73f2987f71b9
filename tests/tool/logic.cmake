# Unit tests of ringsock_tool_logic: pure computation, no sockets, no sleeping.
add_executable(tool_logic_tests
  ${CMAKE_CURRENT_LIST_DIR}/logic/histogram_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/pacing_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/message_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/assertion_test.cpp
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
gtest_discover_tests(tool_logic_tests PROPERTIES TIMEOUT 60 DISCOVERY_TIMEOUT 60)

# An .hlog read by a reader ringsock did not write: hdr-histogram-js from the
# npm registry, installed into the build tree on first use (skipped without
# node, npm or the registry).
add_executable(tool_interop_tests ${CMAKE_CURRENT_LIST_DIR}/interop/hlog_js_test.cpp)
target_link_libraries(tool_interop_tests PRIVATE ringsock_tool_logic GTest::gtest GTest::gtest_main)
target_compile_definitions(tool_interop_tests PRIVATE
  HLOG_JS_CHECK="${CMAKE_CURRENT_LIST_DIR}/interop/hlog_js_check.js"
  NPM_CACHE_DIR="${CMAKE_CURRENT_BINARY_DIR}/npm-hdr-histogram")
gtest_discover_tests(tool_interop_tests PROPERTIES TIMEOUT 240 LABELS tool DISCOVERY_TIMEOUT 60)

# --shard auto under a real single-node Slurm started by scripts/slurm-node.sh
# (skipped without root or Slurm's packages; serial: Slurm's ports are fixed).
add_executable(shard_env_probe ${CMAKE_CURRENT_LIST_DIR}/slurm/shard_env_probe.cpp)
target_link_libraries(shard_env_probe PRIVATE ringsock_tool_logic)
add_test(NAME tool_slurm_shard_auto
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/slurm/slurm_shard_test.sh
                 $<TARGET_FILE:shard_env_probe> ${PROJECT_SOURCE_DIR}/scripts)
set_tests_properties(tool_slurm_shard_auto PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                     RUN_SERIAL TRUE LABELS tool)
