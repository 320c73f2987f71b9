// A user's request for `ringsock load`, compiled once from its bytes (after
// escapes are decoded) into literal pieces and placeholders, then rendered
// per message into the caller's buffer without allocating.
//
//   {seq}      the message's sequence number on its connection, decimal
//   {conn}     the connection's index (0-based, global over threads), decimal
//   {round}    the turn through a RequestCycle: sequence / number of requests
//              (SET k:{round} then GET k:{round} reach the same key)
//   {rand:N}   N decimal digits (N = 1..20), the same for the same
//              (seed, connection, sequence, placeholder): a rerun with the
//              same --seed sends the same bytes
//   {{  }}     a literal { and }
// A lone `}`, an unknown name ({foo}), a `{` never closed, and {rand:N} with
// N outside 1..20 are errors; so is an empty request.
// Caveats: {rand:N} digits come from a hash, not a secure generator. A
// template's rendered size varies with the numbers in it: max_size() bounds
// it (a {seq} is at most 20 digits, a {conn} 10). compile_literal() takes
// bytes as they are (a binary --request-file, where a `{` is data).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringsock::tool {

// What a placeholder is rendered from.
struct RenderValues {
  std::uint64_t sequence = 0;
  std::uint32_t connection = 0;
  std::uint64_t seed = 0;
  std::uint64_t round = 0;  // RequestCycle::render sets it
};

class RequestTemplate {
 public:
  static constexpr std::uint32_t kMaxRandomDigits = 20;

  // Compiles bytes with placeholders. Returns false with `error` set to a
  // sentence naming the problem and its character position (1-based).
  static bool compile(const std::uint8_t* text, std::size_t size, RequestTemplate& out,
                      std::string& error);
  static bool compile(std::string_view text, RequestTemplate& out, std::string& error);
  // Takes the bytes as they are, braces included; false (an empty request) if size == 0.
  static bool compile_literal(const std::uint8_t* bytes, std::size_t size, RequestTemplate& out,
                              std::string& error);

  // The largest render() can write.
  std::size_t max_size() const noexcept { return max_size_; }
  // No placeholders: every message is constant_bytes().
  bool is_constant() const noexcept { return !has_placeholders_; }
  std::span<const std::uint8_t> constant_bytes() const noexcept { return literal_; }

  // Writes one message into out; returns the bytes written, or 0 if
  // capacity < max_size() (nothing useful written). Allocation-free.
  std::size_t render(const RenderValues& values, std::uint8_t* out,
                     std::size_t capacity) const noexcept;

  // The template as the user would write it (escaped), for the JSON result.
  std::string describe() const;

 private:
  enum class Kind : std::uint8_t { literal, sequence, connection, round, random };
  struct Piece {
    Kind kind = Kind::literal;
    std::uint32_t offset = 0;  // literal: into literal_
    std::uint32_t length = 0;  // literal: bytes; random: digits
  };
  bool add_literal(const std::uint8_t* bytes, std::size_t size);
  void add_placeholder(Kind kind, std::uint32_t digits);

  std::vector<std::uint8_t> literal_;  // every literal piece, back to back
  std::vector<Piece> pieces_;
  std::size_t max_size_ = 0;
  bool has_placeholders_ = false;
};

// Several requests sent in turn: message `sequence` uses template
// sequence % count (--request / --request-file repeated, in order).
class RequestCycle {
 public:
  void add(RequestTemplate request);
  bool empty() const noexcept { return requests_.empty(); }
  std::size_t size() const noexcept { return requests_.size(); }
  const RequestTemplate& for_sequence(std::uint64_t sequence) const noexcept {
    return requests_[sequence % requests_.size()];
  }
  // Renders message values.sequence with its template and its {round}.
  std::size_t render(RenderValues values, std::uint8_t* out, std::size_t capacity) const noexcept {
    values.round = values.sequence / requests_.size();
    return for_sequence(values.sequence).render(values, out, capacity);
  }
  // The largest any of them renders: the send buffer each connection needs.
  std::size_t max_size() const noexcept { return max_size_; }
  const std::vector<RequestTemplate>& requests() const noexcept { return requests_; }

 private:
  std::vector<RequestTemplate> requests_;
  std::size_t max_size_ = 0;
};

}  // namespace ringsock::tool
