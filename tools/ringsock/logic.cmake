# ringsock_tool_logic: the ringsock command's logic without I/O (histogram,
# open-loop pacing, message format and verification, JSON, --assert, a user's
# requests, reply framing and checks, and the report: its model, SVG charts
# and HTML page), so that it can be unit-tested without sockets.
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
  ${CMAKE_CURRENT_LIST_DIR}/logic/reply_check.cpp)
target_compile_features(ringsock_tool_logic PUBLIC cxx_std_20)
# Headers are included as "logic/histogram.hpp".
target_include_directories(ringsock_tool_logic PUBLIC ${CMAKE_CURRENT_LIST_DIR})
