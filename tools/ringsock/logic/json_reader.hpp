// A small strict JSON reader (RFC 8259) for the files ringsock reads back:
// results of `ringsock load --json` given to `ringsock merge`. Those files
// may come from anywhere, so the reader refuses rather than guesses: no
// comments, no trailing commas, no duplicate keys, no invalid UTF-8 or lone
// surrogates, no bytes after the document, nesting at most 64 deep, at most
// 64 MiB and 2^20 values (a bound on the memory a hostile file can take).
// Every refusal is a sentence with the line and column.
//
// Numbers keep their literal text, so 64-bit counters read back exactly
// (a double would round them above 2^53).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ringsock::tool {

inline constexpr int kJsonMaxDepth = 64;
inline constexpr std::size_t kJsonMaxBytes = 64u << 20;
inline constexpr std::size_t kJsonMaxValues = 1u << 20;

struct JsonValue {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };

  Kind kind = Kind::null;
  bool boolean = false;
  std::string text;  // a string's value, or a number's literal text
  std::vector<JsonValue> items;                              // array
  std::vector<std::pair<std::string, JsonValue>> members;    // object, in order

  // Defined in the .cpp, where JsonValue is complete: declared implicitly,
  // they make clang instantiate std::pair<std::string, JsonValue> (for its
  // default-constructibility) while JsonValue is still incomplete.
  JsonValue();
  ~JsonValue();
  JsonValue(const JsonValue&);
  JsonValue(JsonValue&&) noexcept;
  JsonValue& operator=(const JsonValue&);
  JsonValue& operator=(JsonValue&&) noexcept;

  // The member `key` of an object; nullptr when absent or not an object.
  const JsonValue* find(std::string_view key) const noexcept;

  bool is_object() const noexcept { return kind == Kind::object; }
  bool is_array() const noexcept { return kind == Kind::array; }
  bool is_string() const noexcept { return kind == Kind::string; }
  // A non-negative integer literal (no sign, fraction or exponent) that fits.
  std::optional<std::uint64_t> as_u64() const noexcept;
  // An integer literal, possibly negative, that fits in int64.
  std::optional<std::int64_t> as_i64() const noexcept;
  // Any number.
  std::optional<double> as_double() const noexcept;
};

std::variant<JsonValue, std::string> parse_json(std::string_view text);

}  // namespace ringsock::tool
