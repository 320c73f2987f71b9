# ringsock_tool_logic: the ringsock command's logic without I/O (histogram,
# open-loop pacing, message format and verification, JSON, --assert, a user's
# requests, reply framing and checks, the report: its model, SVG charts and
# HTML page; sharding, --start-at, the HdrHistogram encoding and .hlog files,
# the mergeable JSON result), so that it can be unit-tested without sockets.
add_library(ringsock_tool_logic STATIC
  ${CMAKE_CURRENT_LIST_DIR}/logic/histogram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/pacing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/crc32c.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/assertion.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/report_model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/svg_chart.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/svg_bar_chart.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/report_charts.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/report_page.cpp
  # A user's requests, how its replies end, what they must be (`ringsock load` against any service).
  ${CMAKE_CURRENT_LIST_DIR}/logic/escape.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/request_template.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/reply_framing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/reply_check.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/regex_limits.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/shard.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/start_at.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/hlog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/hlog_merge.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/interval_recorder.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/result_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/run_merge.cpp)
target_compile_features(ringsock_tool_logic PUBLIC cxx_std_20)
# zlib: the compressed HdrHistogram encoding (logic/hlog.cpp). Required on the
# build machine (scripts/deps.sh installs it); a cross target without it
# (riscv64 has no multiarch libraries on bookworm) builds without .hlog and
# histogram results, which then say so.
if(CMAKE_CROSSCOMPILING)
  find_package(ZLIB)
else()
  find_package(ZLIB REQUIRED)
endif()
if(ZLIB_FOUND)
  target_link_libraries(ringsock_tool_logic PUBLIC ZLIB::ZLIB)
  target_compile_definitions(ringsock_tool_logic PUBLIC RINGSOCK_HAVE_ZLIB=1)
endif()
# Headers are included as "logic/histogram.hpp".
target_include_directories(ringsock_tool_logic PUBLIC ${CMAKE_CURRENT_LIST_DIR})
