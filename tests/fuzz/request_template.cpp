// Fuzzes `ringsock load --request` (tools/ringsock/logic/request_template.hpp
// and escape.hpp): the text's C escapes decoded, its placeholders compiled,
// then rendered per message, alone and in a RequestCycle.
//
// Input: byte 0 (bit 0: take the bytes literally, as --request-file does;
// bits 1-2: how many extra copies of the template a cycle holds); then the
// render values (sequence 8 bytes, connection 4, seed 8); the rest is the
// --request text.
// Properties: a template that compiles renders at most max_size() bytes,
// nothing into a smaller buffer, the same bytes twice for the same values,
// and what a model expander of the text says ({seq} {conn} {round} as
// decimals, {rand:N} as N digits, {{ }} as braces); describe() compiles back
// to a template that renders the same bytes; escapes shown by
// escape_for_display decode back to the same bytes.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "byte_reader.hpp"
#include "fuzz_check.hpp"
#include "logic/escape.hpp"
#include "logic/request_template.hpp"

namespace tool = ringsock::tool;

namespace {

const std::uint8_t* bytes_of(std::string_view s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

std::string render(const tool::RequestTemplate& t, const tool::RenderValues& values) {
  std::string out(t.max_size(), '\0');
  const std::size_t n = t.render(values, reinterpret_cast<std::uint8_t*>(out.data()), out.size());
  FUZZ_CHECK(n <= t.max_size());
  out.resize(n);
  return out;
}

// Walks the compiled text beside what it rendered: literals and braces as
// they are, numbers as decimals, {rand:N} as N digits.
void check_model(std::string_view text, const tool::RenderValues& v, std::string_view rendered) {
  std::size_t r = 0;
  auto expect = [&](std::string_view bytes) {
    FUZZ_CHECK(rendered.substr(r, bytes.size()) == bytes);
    r += bytes.size();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < text.size() && text[i + 1] == c) {
      expect(text.substr(i++, 1));
      continue;
    }
    if (c != '{') {
      expect(text.substr(i, 1));
      continue;
    }
    const std::size_t end = text.find('}', i);
    FUZZ_CHECK(end != std::string_view::npos);  // it compiled
    const std::string_view name = text.substr(i + 1, end - i - 1);
    if (name == "seq") expect(std::to_string(v.sequence));
    else if (name == "conn") expect(std::to_string(v.connection));
    else if (name == "round") expect(std::to_string(v.round));
    else {
      FUZZ_CHECK(name.substr(0, 5) == "rand:");
      std::size_t digits = 0;
      for (char d : name.substr(5)) {
        FUZZ_CHECK(d >= '0' && d <= '9');
        digits = digits * 10 + std::size_t(d - '0');
      }
      FUZZ_CHECK(digits >= 1 && digits <= tool::RequestTemplate::kMaxRandomDigits);
      for (std::size_t d = 0; d < digits; ++d, ++r) {
        FUZZ_CHECK(r < rendered.size() && rendered[r] >= '0' && rendered[r] <= '9');
      }
    }
    i = end;
  }
  FUZZ_CHECK(r == rendered.size());
}

void check_template(const tool::RequestTemplate& t, const tool::RenderValues& values) {
  const std::string once = render(t, values);
  FUZZ_CHECK(render(t, values) == once);
  if (t.max_size() > 0) {
    std::string small(t.max_size() - 1, '\0');
    FUZZ_CHECK(t.render(values, reinterpret_cast<std::uint8_t*>(small.data()), small.size()) == 0);
  }
  if (t.is_constant()) {
    const auto bytes = t.constant_bytes();
    FUZZ_CHECK(once == std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  // The description (escaped, braces doubled) compiles back to the same template.
  const std::string described = t.describe();
  std::string decoded, error;
  FUZZ_CHECK(tool::decode_escapes(bytes_of(described), described.size(), decoded, error));
  tool::RequestTemplate again;
  FUZZ_CHECK(tool::RequestTemplate::compile(bytes_of(decoded), decoded.size(), again, error));
  FUZZ_CHECK(again.max_size() == t.max_size() && render(again, values) == once);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ringsock_fuzz::ByteReader in(data, size);
  const std::uint8_t flags = in.take<std::uint8_t>();
  tool::RenderValues values;
  values.sequence = in.take<std::uint64_t>();
  values.connection = in.take<std::uint32_t>();
  values.seed = in.take<std::uint64_t>();
  const std::string_view option = in.rest();

  // What a report shows of the bytes decodes back to them.
  const std::string shown = tool::escape_for_display(bytes_of(option), option.size());
  std::string back, error;
  FUZZ_CHECK(tool::decode_escapes(bytes_of(shown), shown.size(), back, error) && back == option);

  tool::RequestTemplate t;
  if ((flags & 1) != 0) {
    if (!tool::RequestTemplate::compile_literal(bytes_of(option), option.size(), t, error)) {
      FUZZ_CHECK(option.empty() && !error.empty());
      return 0;
    }
    FUZZ_CHECK(render(t, values) == option);
    check_template(t, values);
    return 0;
  }
  std::string text;
  if (!tool::decode_escapes(bytes_of(option), option.size(), text, error) ||
      !tool::RequestTemplate::compile(bytes_of(text), text.size(), t, error)) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  check_model(text, values, render(t, values));
  check_template(t, values);

  // A cycle of this template and copies of a constant one: message s uses
  // template s % count, and {round} is s / count.
  tool::RequestCycle cycle;
  const std::size_t count = 1 + ((flags >> 1) & 3);
  cycle.add(t);
  tool::RequestTemplate constant;
  FUZZ_CHECK(tool::RequestTemplate::compile_literal(bytes_of("k"), 1, constant, error));
  for (std::size_t i = 1; i < count; ++i) cycle.add(constant);
  FUZZ_CHECK(cycle.max_size() == std::max<std::size_t>(t.max_size(), 1));
  std::string out(cycle.max_size(), '\0');
  const std::size_t n =
      cycle.render(values, reinterpret_cast<std::uint8_t*>(out.data()), out.size());
  out.resize(n);
  if (values.sequence % count == 0) {
    tool::RenderValues round = values;
    round.round = values.sequence / count;
    check_model(text, round, out);
  } else {
    FUZZ_CHECK(out == "k");
  }
  return 0;
}
