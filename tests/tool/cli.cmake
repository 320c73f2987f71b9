# Tests of the ringsock binary: argument parser and sockperf framing (unit),
# serve and load end to end as child processes on every socket type and both backends.
add_executable(tool_cli_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/cli/args_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/sockperf_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/resolve_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_requests_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/report_series_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/output_file_test.cpp
)
target_link_libraries(tool_cli_unit_tests PRIVATE ringsock_cli_core GTest::gtest GTest::gtest_main)
ringsock_batch_test_sources(tool_cli_unit_tests)
ringsock_add_unit_suite(tool_cli_unit_tests 60 tool)

add_executable(tool_cli_e2e_tests
  ${CMAKE_CURRENT_LIST_DIR}/cli/child.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/e2e_support.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/serve_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/serve_half_close_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_modes_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/wait_options_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/zero_copy_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/direct_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/help_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_failures_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/merge_e2e_test.cpp
  # Against redis-server, memcached, nginx and dnsmasq (skipped when missing).
  ${CMAKE_CURRENT_LIST_DIR}/cli/real_servers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_real_servers_e2e_test.cpp
  # The user's requests against serve and the test's own servers.
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_custom_e2e_test.cpp
  # --ipv6 on localhost, and a name resolved to the family of --source.
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_family_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/report_e2e_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/shard_e2e_test.cpp
  # Against the real sockperf when installed (skipped otherwise, and when cross-compiled).
  ${CMAKE_CURRENT_LIST_DIR}/cli/sockperf_interop_test.cpp
)
target_link_libraries(tool_cli_e2e_tests PRIVATE ringsock_cli_core ringsock_tool_logic GTest::gtest
                      GTest::gtest_main)
ringsock_batch_test_sources(tool_cli_e2e_tests)
target_compile_definitions(tool_cli_e2e_tests PRIVATE RINGSOCK_BIN="$<TARGET_FILE:ringsock>")
# Cross builds: the tests run under qemu-user, which cannot exec a foreign
# binary by itself; the children are started through the same emulator
# (passed '|'-separated: a CMake list cannot go through a definition).
if(CMAKE_CROSSCOMPILING_EMULATOR)
  string(REPLACE ";" "|" ringsock_emulator "${CMAKE_CROSSCOMPILING_EMULATOR}")
  target_compile_definitions(tool_cli_e2e_tests PRIVATE RINGSOCK_EMULATOR="${ringsock_emulator}")
endif()
add_dependencies(tool_cli_e2e_tests ringsock)
# Labelled "tool-threads" (one label: gtest_discover_tests cannot pass a list),
# which both `ctest -L tool` and the TSan pass's `ctest -L threads` select
# (-L is a regular expression): `serve --threads` (and its --dispatch handoff), `load --threads`, and the
# tests whose own peer runs on threads. Not LoadIdle: its peer's threads are
# the test's own, and its 300 ms run assumes connects far faster than TSan's.
set(tool_threaded_tests "*ServeE2E.ManyClientsAndThreads/*:*ServeE2E.Handoff*/*:*LoadModes.ThreadsShareTheConnectionsAndTheCount/*:LoadVerification.*:LoadThroughput.*:LoadSource.*:*LoadCustom.ADatagramReplyLargerThanTheToolHoldsIsAFailure/*")
gtest_discover_tests(tool_cli_e2e_tests TEST_FILTER "-${tool_threaded_tests}"
                     PROPERTIES TIMEOUT 60 LABELS tool DISCOVERY_TIMEOUT 60)
gtest_discover_tests(tool_cli_e2e_tests TEST_FILTER "${tool_threaded_tests}"
                     PROPERTIES TIMEOUT 60 LABELS tool-threads DISCOVERY_TIMEOUT 60)
add_dependencies(threads_tests tool_cli_e2e_tests)

# The soak (label soak, tests/tool/cli/soak_test.cpp): every kind of client at
# once against one serve, then its fds, buffers and RSS back at the baseline.
# Native plain builds only: under ASan/TSan or qemu the rates and RSS mean
# something else, and its time (about 21 s: 10 s of load per backend by
# default) belongs to the plain pass. RUN_SERIAL: it keeps both cores busy,
# which would slow the tests beside it. TIMEOUT: it bounds itself (a watchdog
# at 2 x RINGSOCK_SOAK_SECONDS + 120 s, the seconds at most 600).
if(NOT CMAKE_CROSSCOMPILING AND RINGSOCK_SANITIZE STREQUAL "")
  find_package(Threads REQUIRED)
  add_executable(tool_soak_tests
    ${CMAKE_CURRENT_LIST_DIR}/cli/child.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cli/e2e_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cli/soak_test.cpp
  )
  target_link_libraries(tool_soak_tests PRIVATE GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(tool_soak_tests PRIVATE RINGSOCK_BIN="$<TARGET_FILE:ringsock>")
  add_dependencies(tool_soak_tests ringsock)
  gtest_discover_tests(tool_soak_tests PROPERTIES TIMEOUT 1500 RUN_SERIAL TRUE LABELS soak
                       DISCOVERY_TIMEOUT 60)
endif()

# The option tables (what the parser accepts) against `ringsock SUBCOMMAND
# --help`, ringsock(1) and docs/command.md, ringsock.h against ringsock(3), and
# the version the man pages name.
add_executable(tool_docs_drift_tests
  ${CMAKE_CURRENT_LIST_DIR}/cli/child.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/docs_drift_test.cpp
)
target_link_libraries(tool_docs_drift_tests PRIVATE ringsock_cli_core GTest::gtest GTest::gtest_main)
target_compile_definitions(tool_docs_drift_tests PRIVATE RINGSOCK_BIN="$<TARGET_FILE:ringsock>"
                           RINGSOCK_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                           RINGSOCK_PROJECT_VERSION="${PROJECT_VERSION}")
if(CMAKE_CROSSCOMPILING_EMULATOR)
  target_compile_definitions(tool_docs_drift_tests PRIVATE RINGSOCK_EMULATOR="${ringsock_emulator}")
endif()
add_dependencies(tool_docs_drift_tests ringsock)
# GCC 12 under -fsanitize=address reports -Wmaybe-uninitialized inside
# libstdc++'s <regex> (std::function in its NFA states), a false positive in
# the library's code, not this test's.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(tool_docs_drift_tests PRIVATE -Wno-maybe-uninitialized)
endif()
ringsock_add_unit_suite(tool_docs_drift_tests 60 "tool;docs")

# The request, framing and check logic against real servers (redis-server,
# memcached, nginx, dnsmasq from scripts/deps.sh), each started on a free
# loopback port; a missing server skips.
add_executable(tool_real_server_tests
  ${CMAKE_CURRENT_LIST_DIR}/cli/real_servers.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/real_servers_test.cpp
)
target_link_libraries(tool_real_server_tests PRIVATE ringsock_tool_logic GTest::gtest GTest::gtest_main)
ringsock_batch_test_sources(tool_real_server_tests)
gtest_discover_tests(tool_real_server_tests PROPERTIES TIMEOUT 60 LABELS tool DISCOVERY_TIMEOUT 60)

# The orchestration tests (Kubernetes' Job command, Slurm) exec the tool from a
# shell or from slurmd: native builds only, qemu-user cannot run them there;
# and plain builds only: the launchers are what they check, and the sanitizer
# passes run the same sharding and merging in the tool's other tests.
if(NOT CMAKE_CROSSCOMPILING AND RINGSOCK_SANITIZE STREQUAL "")
  # deploy/kubernetes: the Indexed Job's container command run as the Job runs
  # it, for 2 indices against a local serve, then the merge Job's command.
  add_test(NAME tool_kubernetes_indexed_job
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/kubernetes/indexed_job_test.sh
                   $<TARGET_FILE:ringsock> ${PROJECT_SOURCE_DIR}/deploy/kubernetes)
  set_tests_properties(tool_kubernetes_indexed_job PROPERTIES TIMEOUT 120 LABELS tool)

  # A sharded load under a real single-node Slurm (scripts/slurm-node.sh), each
  # srun task in its own network namespace against a serve in another, merged;
  # skipped without root or Slurm's packages; one Slurm test at a time: its ports are fixed.
  add_test(NAME tool_slurm_netns_load
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/slurm/slurm_netns_load_test.sh
                   $<TARGET_FILE:ringsock> ${PROJECT_SOURCE_DIR}/scripts)
  set_tests_properties(tool_slurm_netns_load PROPERTIES TIMEOUT 240 SKIP_RETURN_CODE 77
                       RESOURCE_LOCK slurm LABELS tool)
endif()

if(NOT CMAKE_CROSSCOMPILING)
  # `load` in one network namespace of the test's own, `serve` in another,
  # the path cut mid-run (nft drops in the server's namespace) and the server
  # killed mid-run: load ends on time, names the errors, exits non-zero; the
  # path back, a new load verifies every reply. Skipped without root or nft.
  add_test(NAME tool_netns_load_faults
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/netns/netns_load_fault_test.sh
                   $<TARGET_FILE:ringsock>)
  set_tests_properties(tool_netns_load_faults PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                       LABELS tool)

  # Churn from one local address at a quarter or more of the ephemeral ports
  # per second prints the "ports" note; from eight addresses, or slower, it
  # does not. In a namespace of its own with 64 ephemeral ports, both
  # backends. Skipped without root or ip.
  add_test(NAME tool_churn_ports_note
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/netns/churn_ports_note_test.sh
                   $<TARGET_FILE:ringsock>)
  set_tests_properties(tool_churn_ports_note PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77
                       LABELS tool)

  # `load` through lossy_proxy.py (drops every Nth datagram, delays, reorders,
  # re-chunks TCP): UDP loss counted exactly, TCP replies all verified.
  add_test(NAME tool_lossy_proxy
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/lossy_proxy_test.sh $<TARGET_FILE:ringsock>)
  set_tests_properties(tool_lossy_proxy PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77 LABELS tool)

  # The acceptor/worker example (tools/examples): every echo verified by
  # `load`, connections handed to every worker, on both backends.
  if(TARGET acceptor_workers)
    add_test(NAME tool_example_acceptor_workers
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/acceptor_workers_test.sh
                     $<TARGET_FILE:acceptor_workers> $<TARGET_FILE:ringsock>)
    set_tests_properties(tool_example_acceptor_workers PROPERTIES TIMEOUT 120
                         SKIP_RETURN_CODE 77 LABELS tool-threads)
    add_dependencies(threads_tests acceptor_workers ringsock)
  endif()
endif()
