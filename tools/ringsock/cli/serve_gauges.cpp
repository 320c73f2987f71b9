#include "serve_gauges.hpp"

#include <dirent.h>

#include <cstring>

namespace ringsock_cli {

int64_t count_open_fds() noexcept {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int64_t count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own fd
}

int64_t resident_kb() noexcept {
  FILE* status = fopen("/proc/self/status", "re");
  if (status == nullptr) return -1;
  char line[256];
  long long kb = -1;
  while (fgets(line, sizeof line, status) != nullptr) {
    if (strncmp(line, "VmRSS:", 6) == 0 && sscanf(line + 6, "%lld", &kb) == 1) break;
  }
  fclose(status);
  return kb;
}

void print_serve_gauges(FILE* out, const ServeGauges& gauges) noexcept {
  fprintf(out, "ringsock serve: connections %llu, fds %lld, rss_kb %lld, buffers_lent %llu\n",
          (unsigned long long)gauges.connections, (long long)count_open_fds(),
          (long long)resident_kb(), (unsigned long long)gauges.buffers_lent);
  fflush(out);
}

}  // namespace ringsock_cli
