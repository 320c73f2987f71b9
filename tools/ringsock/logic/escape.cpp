#include "logic/escape.hpp"

#include <algorithm>

namespace ringsock::tool {

namespace {

int hex_value(std::uint8_t c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The byte a one-letter escape stands for, or -1 when it is not one.
int named_escape(std::uint8_t c) noexcept {
  switch (c) {
    case 'r': return '\r';
    case 'n': return '\n';
    case 't': return '\t';
    case '\\': return '\\';
    case '"': return '"';
    case '\'': return '\'';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'e': return 0x1b;
    case 'f': return '\f';
    case 'v': return '\v';
    default: return -1;
  }
}

// What the user typed after the backslash, for an error sentence.
std::string shown(std::uint8_t c) {
  if (c >= 0x21 && c < 0x7f) return std::string("\\") + char(c);
  return "\\ followed by byte " + escape_for_display(&c, 1);
}

}  // namespace

bool decode_escapes(const std::uint8_t* text, std::size_t size, std::string& out,
                    std::string& error) {
  out.clear();
  out.reserve(size);
  for (std::size_t i = 0; i < size; ++i) {
    const std::uint8_t c = text[i];
    if (c != '\\') {
      out.push_back(char(c));
      continue;
    }
    const std::string where = "at character " + std::to_string(i + 1);
    if (i + 1 == size) {
      error = "the text ends in a lone backslash (" + where + "); write \\\\ for a backslash";
      return false;
    }
    const std::uint8_t e = text[++i];
    if (const int named = named_escape(e); named >= 0) {
      out.push_back(char(named));
    } else if (e == '0') {
      if (i + 1 < size && text[i + 1] >= '0' && text[i + 1] <= '9') {
        error = "octal escapes are not supported (" + where + "); write \\xHH, e.g. \\x0a";
        return false;
      }
      out.push_back('\0');
    } else if (e == 'x') {
      const int high = i + 1 < size ? hex_value(text[i + 1]) : -1;
      const int low = i + 2 < size ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        error = "\\x " + where + " needs exactly two hex digits, e.g. \\x0a";
        return false;
      }
      out.push_back(char(high * 16 + low));
      i += 2;
    } else {
      error = shown(e) + " " + where +
              " is not an escape ringsock knows (\\r \\n \\t \\\\ \\0 \\xHH \\\" \\' \\a \\b \\e "
              "\\f \\v); write \\\\ for a backslash";
      return false;
    }
  }
  return true;
}

bool decode_escapes(std::string_view text, std::string& out, std::string& error) {
  return decode_escapes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size(), out,
                        error);
}

std::string escape_for_display(const std::uint8_t* bytes, std::size_t size,
                               std::size_t max_bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  const std::size_t shown_bytes = std::min(size, max_bytes);
  out.reserve(shown_bytes);
  for (std::size_t i = 0; i < shown_bytes; ++i) {
    const std::uint8_t c = bytes[i];
    switch (c) {
      case '\r': out += "\\r"; continue;
      case '\n': out += "\\n"; continue;
      case '\t': out += "\\t"; continue;
      case '\\': out += "\\\\"; continue;
      case '"': out += "\\\""; continue;
      default: break;
    }
    // \0 only where no digit follows, so that decoding reads it back as NUL.
    const bool digit_next = i + 1 < shown_bytes && bytes[i + 1] >= '0' && bytes[i + 1] <= '9';
    if (c == 0 && !digit_next) {
      out += "\\0";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(char(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string escape_for_display(std::string_view bytes, std::size_t max_bytes) {
  return escape_for_display(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                            max_bytes);
}

std::string cut_for_display(std::string_view text, std::size_t max_chars) {
  if (text.size() <= max_chars) return std::string(text);
  std::size_t cut = 0;
  bool quoted = false;  // inside a "..." of the text
  while (cut < text.size()) {
    std::size_t token = 1;
    const char c = text[cut];
    if (c == '\\') {
      token = cut + 1 < text.size() && text[cut + 1] == 'x' ? 4 : 2;
    } else if (c == '{' || c == '}') {
      // A doubled brace, or a placeholder such as {rand:8}, stays whole.
      const std::size_t close = c == '{' ? text.find('}', cut) : std::string_view::npos;
      if (cut + 1 < text.size() && text[cut + 1] == c) {
        token = 2;
      } else if (close != std::string_view::npos) {
        token = close - cut + 1;
      }
    }
    if (cut + token > max_chars) break;
    if (c == '"') quoted = !quoted;
    cut += token;
  }
  return std::string(text.substr(0, cut)) + (quoted ? "\"" : "") + "... (" +
         std::to_string(text.size()) + " characters, first " + std::to_string(cut) + " shown)";
}

}  // namespace ringsock::tool
