// How many times a needle occurs in a text, not overlapping: the report's
// tests count the elements of a page or a chart this way.
#pragma once

#include <cstddef>
#include <string>

namespace ringsock::tool {

inline std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

}  // namespace ringsock::tool
