// Fuzzes the JSON writer's string escape and number output
// (tools/ringsock/logic/json.hpp): `load --json` writes strings that come
// from the user (endpoints, assertion text, error messages).
// Properties: an escaped string is one JSON string literal with no raw
// control character, and reading its escapes back gives the input bytes
// exactly (UTF-8 or not: bytes >= 0x80 pass through); a finite double is
// written as a JSON number that reads back as the same double, anything else
// as null.
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "logic/json.hpp"

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one JSON string literal as RFC 8259 reads it; only \u escapes
// below 0x100 occur in the writer's output (it passes UTF-8 through), others
// are a failure here. False when `literal` is not exactly one string.
bool unescape(std::string_view literal, std::string& out) {
  if (literal.size() < 2 || literal.front() != '"' || literal.back() != '"') return false;
  for (size_t i = 1; i + 1 < literal.size(); ++i) {
    auto c = static_cast<unsigned char>(literal[i]);
    if (c < 0x20 || c == 0x7F || c == '"') return false;
    if (c != '\\') {
      out += char(c);
      continue;
    }
    if (++i + 1 >= literal.size()) return false;
    switch (literal[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        if (i + 5 >= literal.size()) return false;
        int value = 0;
        for (int k = 1; k <= 4; ++k) {
          int digit = hex_digit(literal[i + size_t(k)]);
          if (digit < 0) return false;
          value = value * 16 + digit;
        }
        if (value > 0xFF) return false;
        out += char(value);
        i += 4;
        break;
      }
      default: return false;
    }
  }
  return true;
}

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

void check_number(double value) {
  std::string out;
  ringsock::tool::JsonWriter(out).value(value);
  if (!std::isfinite(value)) {
    FUZZ_CHECK(out == "null");
    return;
  }
  FUZZ_CHECK(is_json_number(out));
  double back = 0;
  auto result = std::from_chars(out.data(), out.data() + out.size(), back);
  FUZZ_CHECK(result.ec == std::errc() && result.ptr == out.data() + out.size());
  FUZZ_CHECK(std::memcmp(&back, &value, sizeof value) == 0 || (back == 0 && value == 0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string literal;
  ringsock::tool::JsonWriter::escape(literal, input);
  std::string decoded;
  FUZZ_CHECK(unescape(literal, decoded));
  FUZZ_CHECK(decoded == input);

  ringsock_fuzz::ByteReader in(data, size);
  check_number(in.take<double>());
  return 0;
}
