// Thread priorities of this process, by thread name (Linux: /proc/self/task/TID/comm).
#include <dirent.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "spinekit/common.h"

extern "C" int spinekit_renice_threads(const char* prefix, int nice) {
  if (!prefix) return -1;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  size_t n = std::strlen(prefix);
  int set = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE* f = std::fopen(path, "r");
    if (!f) continue;  // the thread ended meanwhile
    char name[32] = {0};
    bool read = std::fgets(name, sizeof name, f) != nullptr;
    std::fclose(f);
    if (!read || std::strncmp(name, prefix, n) != 0) continue;
    // On Linux a thread id names that one thread for PRIO_PROCESS.
    id_t tid = static_cast<id_t>(std::strtol(e->d_name, nullptr, 10));
    if (setpriority(PRIO_PROCESS, tid, nice) == 0) set++;
  }
  closedir(dir);
  return set;
}
