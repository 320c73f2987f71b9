// Fuzzes the endpoint URL parser (engine/include/ringsock/endpoint.hpp), the
// parser behind every endpoint the API, the C ABI and the command line take.
// Properties: a refused URL leaves the output untouched and says why; a URL
// that parses formats back to a URL that parses to the same address, and
// that URL formats to itself; format_endpoint never writes past `capacity`
// and refuses a short buffer with -ENOSPC.
#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "fuzz_check.hpp"
#include "ringsock/endpoint.hpp"

using ringsock::Endpoint;

namespace {

bool same_address(const Endpoint& a, const Endpoint& b) {
  return a.transport == b.transport && a.length == b.length &&
         std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

// An endpoint whose every byte is 0xA5: a refused parse must leave it so.
Endpoint sentinel() {
  Endpoint e;
  std::memset(static_cast<void*>(&e), 0xA5, sizeof e);
  return e;
}

// Formats into a heap block of exactly `capacity` bytes, so ASan sees any
// write past it; returns the result and copies the text out.
int format_exactly(const Endpoint& e, size_t capacity, char (&text)[ringsock::kEndpointUrlMax]) {
  auto block = std::make_unique<char[]>(capacity);
  int rc = ringsock::format_endpoint(e, block.get(), capacity);
  if (rc >= 0) {
    FUZZ_CHECK(size_t(rc) < capacity && block[size_t(rc)] == '\0');
    FUZZ_CHECK(std::strlen(block.get()) == size_t(rc));
    std::memcpy(text, block.get(), size_t(rc) + 1);
  }
  return rc;
}

void check_refused(const Endpoint& out, const ringsock::ParseResult& result) {
  Endpoint untouched = sentinel();
  FUZZ_CHECK(result.error == -EINVAL);
  FUZZ_CHECK(result.message != nullptr && result.message[0] != '\0');
  FUZZ_CHECK(std::memcmp(&out, &untouched, sizeof out) == 0);
}

void check_round_trip(const Endpoint& parsed) {
  FUZZ_CHECK(parsed.length > 0 && parsed.length <= sizeof parsed.storage);
  char text[ringsock::kEndpointUrlMax];
  int length = format_exactly(parsed, ringsock::kEndpointUrlMax, text);
  FUZZ_CHECK(length > 0);
  // Every capacity that cannot hold the URL and its NUL is refused.
  char scratch[ringsock::kEndpointUrlMax];
  for (size_t capacity : {size_t(0), size_t(1), size_t(length) / 2, size_t(length)}) {
    FUZZ_CHECK(format_exactly(parsed, capacity, scratch) == -ENOSPC);
  }
  FUZZ_CHECK(format_exactly(parsed, size_t(length) + 1, scratch) == length);

  Endpoint again;
  ringsock::ParseResult reparsed = ringsock::parse_endpoint(std::string_view(text, size_t(length)), again);
  FUZZ_CHECK(reparsed.error == 0);
  FUZZ_CHECK(same_address(parsed, again));
  char text_again[ringsock::kEndpointUrlMax];
  FUZZ_CHECK(format_exactly(again, ringsock::kEndpointUrlMax, text_again) == length);
  FUZZ_CHECK(std::memcmp(text, text_again, size_t(length)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view url(reinterpret_cast<const char*>(data), size);
  Endpoint out = sentinel();
  ringsock::ParseResult result = ringsock::parse_endpoint(url, out);
  if (result.error != 0) {
    check_refused(out, result);
  } else {
    check_round_trip(out);
  }
  return 0;
}
