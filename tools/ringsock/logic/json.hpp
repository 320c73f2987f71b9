// A tiny streaming JSON writer into a std::string: the machine-readable
// results of `ringsock load --json`. Commas and nesting are tracked here so
// callers only say what comes next.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringsock::tool {

class JsonWriter {
 public:
  // indent > 0 pretty-prints with that many spaces per level.
  explicit JsonWriter(std::string& out, int indent = 0) : out_(out), indent_(indent) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  // The key of the next value, inside an object.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(bool b);
  JsonWriter& value(std::nullptr_t) { return null(); }
  // Non-finite doubles have no JSON form: they are written as null.
  JsonWriter& value(double d);
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonWriter& value(T v) {
    if constexpr (std::is_signed_v<T>) return integer(static_cast<std::int64_t>(v));
    else return unsigned_integer(static_cast<std::uint64_t>(v));
  }
  JsonWriter& null();

  // key + value in one call.
  template <class T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // Nesting depth still open; 0 once the document is complete.
  int depth() const noexcept { return depth_; }

  static void escape(std::string& out, std::string_view s);

 private:
  static constexpr int kMaxDepth = 64;

  void before_value();
  void newline();
  JsonWriter& open(char bracket);
  JsonWriter& close(char bracket);
  JsonWriter& integer(std::int64_t v);
  JsonWriter& unsigned_integer(std::uint64_t v);

  std::string& out_;
  int indent_;
  int depth_ = 0;
  bool has_items_[kMaxDepth + 1] = {};  // per level: a comma is due
  bool after_key_ = false;
};

}  // namespace ringsock::tool
