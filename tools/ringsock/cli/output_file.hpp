// Result files written so that a failure changes nothing: the text goes to
// a temporary file beside the path, which replaces the path only once all
// of it is written (rename(2)). Several files staged together are put in
// place together, after every one of them was written.
// A path that exists and is no regular file (/dev/null, /dev/stdout, a
// FIFO), or is a symbolic link, is written in place and never removed:
// it is not ours to replace. The temporary takes the mode of the file it
// replaces, or 0666 less the umask for a new one, as fopen(3) would.
// Caveats: a crash between two renames leaves the first file replaced; a
// temporary of a killed process stays beside its path (".NAME.XXXXXX").
#pragma once

#include <string>
#include <vector>

namespace ringsock_cli {

class OutputFiles {
 public:
  OutputFiles() = default;
  OutputFiles(const OutputFiles&) = delete;
  OutputFiles& operator=(const OutputFiles&) = delete;
  ~OutputFiles();  // removes the temporaries not put in place

  /// Writes `text` for `path` (to its temporary, or in place); 0 or an errno.
  int stage(const std::string& path, const std::string& text);
  /// Puts every staged file in place; 0 or the errno of the first failure.
  int commit();

 private:
  struct Staged {
    std::string path, temporary;  // temporary empty: written in place
  };
  std::vector<Staged> staged_;
};

/// One file: stage and commit. Returns 0 or an errno.
int write_output_file(const std::string& path, const std::string& text);

/// Whether `path` could be written so, later (a temporary beside it can be
/// made, or it is no regular file and opens for writing): 0 or an errno.
/// Checks before a run, so that it cannot end with nowhere to put its
/// results; nothing is left behind.
int output_writable(const std::string& path);

/// Whether two paths name one file (the same name, or the same inode): an
/// output that is one of a command's inputs would replace it.
bool same_file(const std::string& a, const std::string& b);

}  // namespace ringsock_cli
