# ringsock_tool_logic: the ringsock command's logic without I/O (histogram,
# open-loop pacing, message format and verification, JSON, --assert), so that
# it can be unit-tested without sockets.
add_library(ringsock_tool_logic STATIC
  ${CMAKE_CURRENT_LIST_DIR}/logic/histogram.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/pacing.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/crc32c.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/json.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/assertion.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/shard.cpp
  ${CMAKE_CURRENT_LIST_DIR}/logic/start_at.cpp)
target_compile_features(ringsock_tool_logic PUBLIC cxx_std_20)
# Headers are included as "logic/histogram.hpp".
target_include_directories(ringsock_tool_logic PUBLIC ${CMAKE_CURRENT_LIST_DIR})
