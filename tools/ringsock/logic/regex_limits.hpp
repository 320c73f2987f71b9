// What an --expect-regex may be before glibc's regcomp/regexec see it. A
// POSIX regex is compiled and run by glibc, which is exposed three ways:
//
// - a back-reference (\1 to \9) makes regexec backtrack: time exponential
//   in the reply's size (`^(a|a)*(a*)\2\1c` takes 6 s on 200 bytes);
// - a counted repeat is written out by regcomp, a copy per count, so nested
//   ones multiply (`(a{1000}){1000}` is a million nodes), and `+` is a copy
//   too (`a+` is `aa*`, so nested `+` doubles at each level), and `+`
//   over stacked `?` compiles in time that grows sixteenfold per `+`
//   (`x????????++++++` takes 8 s);
// - regcomp parses groups recursively: thousands of nested parentheses
//   overflow its stack.
//
// measure_regex() reads the pattern's structure without compiling it (an
// iterative pass, any bytes accepted, fuzzed); check_regex_limits() refuses
// a back-reference, an expanded size above kRegexMaxExpandedAtoms and groups
// nested deeper than kRegexMaxGroupDepth, with a sentence.
// The expanded size counts each atom (a character, a bracket expression, `.`,
// `^`, `$`, an escape) and each group once, with every repeat written out:
// {M,N} counts N copies, {M,} M+1, `+` and `?` 2, `*` 1.
// Caveats: the size bounds compile time and memory and the states regexec
// walks per reply byte; a small regex full of `.*` may still take time on a
// large reply (that cost grows with its size, not exponentially). The pass
// does not validate the syntax: regcomp does, after it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringsock::tool {

inline constexpr std::size_t kRegexMaxExpandedAtoms = 500;
inline constexpr std::size_t kRegexMaxGroupDepth = 32;

struct RegexShape {
  // The expanded size, or kRegexMaxExpandedAtoms + 1 once it is exceeded
  // (the pass stops there).
  std::size_t expanded_atoms = 0;
  std::size_t group_depth = 0;         // the deepest nesting of ( )
  std::size_t back_reference_at = 0;   // 1-based character of the first \1..\9; 0: none
};

RegexShape measure_regex(std::string_view pattern) noexcept;

// True when the pattern is within the limits; false with `error` set to a
// sentence that names the limit (the caller puts the option's name before it).
bool check_regex_limits(std::string_view pattern, std::string& error);

}  // namespace ringsock::tool
