#include "logic/request_template.hpp"

#include <cstring>

#include "logic/escape.hpp"

namespace ringsock::tool {

namespace {

constexpr std::size_t kMaxRequestBytes = std::size_t(1) << 30;  // pieces hold 32-bit offsets
constexpr std::uint32_t kSequenceDigits = 20;                   // UINT64_MAX
constexpr std::uint32_t kConnectionDigits = 10;                 // UINT32_MAX

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::size_t write_decimal(std::uint64_t value, std::uint8_t* out) noexcept {
  std::uint8_t digits[20];
  std::size_t n = 0;
  do {
    digits[n++] = std::uint8_t('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (std::size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return n;
}

std::string at(std::size_t index) { return "at character " + std::to_string(index + 1); }

// Parses the digits of {rand:N}; 0 when they are not a number in 1..20.
std::uint32_t random_digits(std::string_view digits) noexcept {
  if (digits.empty() || digits.size() > 2) return 0;
  std::uint32_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + std::uint32_t(c - '0');
  }
  return n >= 1 && n <= RequestTemplate::kMaxRandomDigits ? n : 0;
}

}  // namespace

bool RequestTemplate::add_literal(const std::uint8_t* bytes, std::size_t size) {
  if (size == 0) return true;
  if (!pieces_.empty() && pieces_.back().kind == Kind::literal) {
    pieces_.back().length += std::uint32_t(size);
  } else {
    pieces_.push_back({Kind::literal, std::uint32_t(literal_.size()), std::uint32_t(size)});
  }
  literal_.insert(literal_.end(), bytes, bytes + size);
  max_size_ += size;
  return true;
}

void RequestTemplate::add_placeholder(Kind kind, std::uint32_t digits) {
  pieces_.push_back({kind, 0, digits});
  max_size_ += digits;
  has_placeholders_ = true;
}

bool RequestTemplate::compile(const std::uint8_t* text, std::size_t size, RequestTemplate& out,
                              std::string& error) {
  if (size == 0) {
    error = "the request is empty; give at least one byte";
    return false;
  }
  if (size > kMaxRequestBytes) {
    error = "the request is larger than 1 GiB";
    return false;
  }
  RequestTemplate t;
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint8_t c = text[i];
    const bool doubled = i + 1 < size && text[i + 1] == c;
    if (c == '}') {
      if (!doubled) {
        error = "a lone } " + at(i) + "; write }} for a literal brace";
        return false;
      }
      t.add_literal(text + i++, 1);
      continue;
    }
    if (c != '{') {
      t.add_literal(text + i, 1);
      continue;
    }
    if (doubled) {
      t.add_literal(text + i++, 1);
      continue;
    }
    const void* close = std::memchr(text + i, '}', size - i);
    if (close == nullptr) {
      error = "the { " + at(i) + " is never closed; write {{ for a literal brace";
      return false;
    }
    const std::size_t end = std::size_t(static_cast<const std::uint8_t*>(close) - text);
    const std::string_view name(reinterpret_cast<const char*>(text + i + 1), end - i - 1);
    if (name == "seq") {
      t.add_placeholder(Kind::sequence, kSequenceDigits);
    } else if (name == "conn") {
      t.add_placeholder(Kind::connection, kConnectionDigits);
    } else if (name == "round") {
      t.add_placeholder(Kind::round, kSequenceDigits);
    } else if (name.substr(0, 5) == "rand:") {
      const std::uint32_t digits = random_digits(name.substr(5));
      if (digits == 0) {
        error = "{" + escape_for_display(name, 40) + "} " + at(i) +
                ": the number of random digits must be 1 to 20, e.g. {rand:8}";
        return false;
      }
      t.add_placeholder(Kind::random, digits);
    } else {
      error = "unknown placeholder {" + escape_for_display(name, 40) + "} " + at(i) +
              "; known: {seq} {conn} {round} {rand:N}, and {{ }} for literal braces";
      return false;
    }
    i = end;
  }
  out = std::move(t);
  return true;
}

bool RequestTemplate::compile(std::string_view text, RequestTemplate& out, std::string& error) {
  return compile(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), out, error);
}

bool RequestTemplate::compile_literal(const std::uint8_t* bytes, std::size_t size,
                                      RequestTemplate& out, std::string& error) {
  if (size == 0) {
    error = "the request is empty; give at least one byte";
    return false;
  }
  if (size > kMaxRequestBytes) {
    error = "the request is larger than 1 GiB";
    return false;
  }
  RequestTemplate t;
  t.add_literal(bytes, size);
  out = std::move(t);
  return true;
}

std::size_t RequestTemplate::render(const RenderValues& values, std::uint8_t* out,
                                    std::size_t capacity) const noexcept {
  if (capacity < max_size_) return 0;
  std::uint8_t* p = out;
  std::uint64_t piece_index = 0;
  for (const Piece& piece : pieces_) {
    ++piece_index;
    switch (piece.kind) {
      case Kind::literal:
        std::memcpy(p, literal_.data() + piece.offset, piece.length);
        p += piece.length;
        break;
      case Kind::sequence: p += write_decimal(values.sequence, p); break;
      case Kind::connection: p += write_decimal(values.connection, p); break;
      case Kind::round: p += write_decimal(values.round, p); break;
      case Kind::random: {
        // One stream per (seed, connection, sequence, placeholder).
        std::uint64_t state = values.seed ^ (std::uint64_t(values.connection) << 40) ^
                              (values.sequence * 0xD1B54A32D192ED03ULL) ^ (piece_index << 20);
        (void)splitmix64(state);
        for (std::uint32_t d = 0; d < piece.length; ++d) {
          // The top bits times 10: an unbiased-enough digit without a division.
          const std::uint64_t x = splitmix64(state) >> 32;
          *p++ = std::uint8_t('0' + ((x * 10) >> 32));
        }
        break;
      }
    }
  }
  return std::size_t(p - out);
}

std::string RequestTemplate::describe() const {
  std::string text;
  for (const Piece& piece : pieces_) {
    switch (piece.kind) {
      case Kind::literal: {
        std::string part = escape_for_display(literal_.data() + piece.offset, piece.length);
        // Braces doubled so that the description compiles back to this template.
        for (char c : part) {
          text.push_back(c);
          if (c == '{' || c == '}') text.push_back(c);
        }
        break;
      }
      case Kind::sequence: text += "{seq}"; break;
      case Kind::connection: text += "{conn}"; break;
      case Kind::round: text += "{round}"; break;
      case Kind::random: text += "{rand:" + std::to_string(piece.length) + "}"; break;
    }
  }
  return text;
}

void RequestCycle::add(RequestTemplate request) {
  if (request.max_size() > max_size_) max_size_ = request.max_size();
  requests_.push_back(std::move(request));
}

}  // namespace ringsock::tool
