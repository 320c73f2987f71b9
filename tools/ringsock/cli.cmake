# The ringsock binary: arguments, probe, serve (echo/sink/sockperf), load.
# ringsock_cli_core holds the pure parts (argument parser and its option
# tables, the help texts, sockperf framing, report's arguments and input)
# so the unit tests link them without the binary's main().
add_library(ringsock_cli_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cli/args.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/value_options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/usage.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/sockperf.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/client_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/resolve.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_requests.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/report.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/result_input.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/report_series.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/bar_input.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/command_line.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/output_file.cpp
)
target_include_directories(ringsock_cli_core PUBLIC ${CMAKE_CURRENT_LIST_DIR}/cli)
target_link_libraries(ringsock_cli_core PUBLIC ringsock::engine ringsock_tool_logic)

add_executable(ringsock
  ${CMAKE_CURRENT_LIST_DIR}/cli/main.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/probe.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/serve.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/run_serve.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/serve_gauges.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/stale_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_interrupt.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_framing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_report.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/load_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/merge.cpp
  ${CMAKE_CURRENT_LIST_DIR}/cli/start_wait.cpp
)
target_compile_definitions(ringsock PRIVATE RINGSOCK_VERSION="${PROJECT_VERSION}")
target_link_libraries(ringsock PRIVATE ringsock_cli_core ringsock_tool_logic Threads::Threads)

# `cmake --install`: bin/ringsock, in the Debian package of the command.
include(GNUInstallDirs)
install(TARGETS ringsock RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT command)
