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
  ${CMAKE_CURRENT_LIST_DIR}/logic/hlog_test.cpp)
target_link_libraries(tool_logic_tests PRIVATE ringsock_tool_logic GTest::gtest GTest::gtest_main)
gtest_discover_tests(tool_logic_tests PROPERTIES TIMEOUT 60 DISCOVERY_TIMEOUT 60)
