// C escapes in the texts a user types for `ringsock load` (--request,
// --reply-until, --expect, --expect-prefix), and the reverse: bytes shown
// escaped in a report.
//
// Decoding knows exactly these escapes, and every other backslash is an
// error (so that a typo never becomes a silent literal):
//   \r \n \t \\ \0 \xHH     the list; \xHH takes exactly two hex digits
//   \" \' \a \b \e \f \v    C's (and \e, ESC, as in GNU printf)
// Caveats: no octal (\012) and no \u: a \0 followed by a digit is an error
// that points to \xHH instead, so that \012 is never read as NUL "12".
// Entry points take (const uint8_t*, size_t) and accept any bytes: the
// fuzz harnesses call them as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringsock::tool {

// Decodes `text` into `out` (replaced). Returns false with `error` set to a
// sentence that names the escape and its character position (1-based), and
// `out` left unspecified.
bool decode_escapes(const std::uint8_t* text, std::size_t size, std::string& out,
                    std::string& error);
bool decode_escapes(std::string_view text, std::string& out, std::string& error);

// Writes `bytes` as a C string body that decode_escapes turns back into the
// same bytes: printable ASCII as it is (backslash and double quote escaped),
// \r \n \t \0 by name, everything else \xHH. Only the first `max_bytes`
// input bytes are written: the caller says that it cut (size > max_bytes),
// outside the quotes, where the marker cannot be taken for data.
std::string escape_for_display(const std::uint8_t* bytes, std::size_t size,
                               std::size_t max_bytes = SIZE_MAX);
std::string escape_for_display(std::string_view bytes, std::size_t max_bytes = SIZE_MAX);

// Text that escape_for_display (or a description built on it) wrote, cut
// after at most max_chars characters, never inside an escape, a doubled
// brace or a {placeholder}, with what was cut said after it: "... (N
// characters, first M shown)", after the closing quote of a "..." that the
// cut left open. Shorter text is returned as it is. For one line of a
// report: a request file can be megabytes.
std::string cut_for_display(std::string_view text, std::size_t max_chars = 200);

}  // namespace ringsock::tool
