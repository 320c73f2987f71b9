#include "logic/regex_limits.hpp"

#include <algorithm>

namespace ringsock::tool {

namespace {

constexpr std::size_t kOver = kRegexMaxExpandedAtoms + 1;
constexpr std::size_t kMaxCount = 1'000'000;  // a repeat count read past this stays here

// One level of ( ): the size of its finished branches, of the branch being
// read, and of the last atom in it (what a repeat after it multiplies).
struct Frame {
  std::size_t done = 0;
  std::size_t branch = 0;
  std::size_t last = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads decimal digits at p[i], clamped to kMaxCount; false when there are none.
bool read_count(std::string_view p, std::size_t& i, std::size_t& value) {
  const std::size_t start = i;
  value = 0;
  for (; i < p.size() && is_digit(p[i]); ++i) {
    value = std::min(value * 10 + std::size_t(p[i] - '0'), kMaxCount);
  }
  return i > start;
}

// An interval {M}, {M,}, {M,N} or {,N} at p[at] == '{': the index after its
// '}' and the copies regcomp writes out, or 0 when it is not one (regcomp
// then takes '{' as a literal or refuses it).
std::size_t read_interval(std::string_view p, std::size_t at, std::size_t& copies) {
  std::size_t i = at + 1;
  std::size_t low = 0, high = 0;
  const bool has_low = read_count(p, i, low);
  bool comma = false, has_high = false;
  if (i < p.size() && p[i] == ',') {
    comma = true;
    ++i;
    has_high = read_count(p, i, high);
  }
  if (i >= p.size() || p[i] != '}' || (!has_low && !has_high)) return 0;
  copies = !comma ? low : has_high ? high : low + 1;
  copies = std::max<std::size_t>(copies, 1);
  return i + 1;
}

// The index after the bracket expression at p[at] == '[' (its end if unclosed).
// A ']' first (after an optional '^') is a member; so is anything inside
// [:class:], [=x=] and [.x.].
std::size_t skip_bracket(std::string_view p, std::size_t at) {
  std::size_t i = at + 1;
  if (i < p.size() && p[i] == '^') ++i;
  if (i < p.size() && p[i] == ']') ++i;
  while (i < p.size()) {
    if (p[i] == '[' && i + 1 < p.size() && (p[i + 1] == ':' || p[i + 1] == '=' || p[i + 1] == '.')) {
      const char close[] = {p[i + 1], ']'};
      const std::size_t end = p.find(std::string_view(close, 2), i + 2);
      if (end == std::string_view::npos) return p.size();
      i = end + 2;
      continue;
    }
    if (p[i] == ']') return i + 1;
    ++i;
  }
  return p.size();
}

}  // namespace

RegexShape measure_regex(std::string_view p) noexcept {
  RegexShape shape;
  Frame frames[kRegexMaxGroupDepth + 1];
  std::size_t depth = 0;  // frames[depth] is the innermost open group
  std::size_t i = 0;
  while (i < p.size()) {
    std::size_t atom = 0;     // an atom of this size ends here, or
    std::size_t copies = 0;   // a repeat writes the last atom out this many times
    switch (p[i]) {
      case '(':
        if (depth == kRegexMaxGroupDepth) {
          shape.group_depth = depth + 1;
          return shape;
        }
        frames[++depth] = Frame{};
        shape.group_depth = std::max(shape.group_depth, depth);
        ++i;
        continue;
      case ')':
        if (depth == 0) {  // unmatched: regcomp decides
          atom = 1;
        } else {
          atom = frames[depth].done + frames[depth].branch + 1;
          --depth;
        }
        ++i;
        break;
      case '|':
        frames[depth].done += frames[depth].branch;
        frames[depth].branch = frames[depth].last = 0;
        ++i;
        continue;
      case '*':
        copies = 1;
        ++i;
        break;
      case '?':  // counted as two: stacked on itself and under +, it grows as they do
      case '+':  // a+ is aa*
        copies = 2;
        ++i;
        break;
      case '{': {
        const std::size_t end = read_interval(p, i, copies);
        if (end == 0) {
          atom = 1;
          ++i;
        } else {
          i = end;
        }
        break;
      }
      case '[':
        atom = 1;
        i = skip_bracket(p, i);
        break;
      case '\\':
        if (i + 1 < p.size() && p[i + 1] >= '1' && p[i + 1] <= '9' && shape.back_reference_at == 0) {
          shape.back_reference_at = i + 1;
        }
        atom = 1;
        i += std::min<std::size_t>(2, p.size() - i);
        break;
      default:
        atom = 1;
        ++i;
        break;
    }
    Frame& f = frames[depth];
    if (atom != 0) {
      f.last = atom;
      f.branch += atom;
    } else {  // f.last <= kOver and copies <= kMaxCount + 1: no overflow
      f.branch -= f.last;
      f.last *= copies;
      f.branch += f.last;
    }
    if (f.done + f.branch > kRegexMaxExpandedAtoms) {
      shape.expanded_atoms = kOver;
      return shape;
    }
  }
  std::size_t total = 0;  // groups left open count as closed
  for (std::size_t d = 0; d <= depth; ++d) total += frames[d].done + frames[d].branch + (d > 0);
  shape.expanded_atoms = std::min(total, kOver);
  return shape;
}

bool check_regex_limits(std::string_view pattern, std::string& error) {
  const RegexShape shape = measure_regex(pattern);
  if (shape.back_reference_at != 0) {
    error = "a back-reference (\\" + std::string(1, pattern[shape.back_reference_at]) +
            " at character " + std::to_string(shape.back_reference_at) +
            ") can make matching take time exponential in the reply's size; it is refused";
    return false;
  }
  if (shape.group_depth > kRegexMaxGroupDepth) {
    error = "groups nested more than " + std::to_string(kRegexMaxGroupDepth) +
            " deep are refused";
    return false;
  }
  if (shape.expanded_atoms > kRegexMaxExpandedAtoms) {
    error = "with its repeats written out (as regcomp does: (a{30}){30} counts 930 atoms, a+ counts 2) "
            "it has more than " + std::to_string(kRegexMaxExpandedAtoms) +
            " atoms, which would cost too much time and memory; it is refused";
    return false;
  }
  return true;
}

}  // namespace ringsock::tool
