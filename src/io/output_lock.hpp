// One live run per output: an advisory lock (flock) on "<out>.lock", taken before the run touches
// its checkpoint and held until it ends. A second run on the same output -- a fresh one, a
// --resume or a --force -- is refused and told which process holds it. The kernel drops the lock
// when its holder dies, even by kill -9; the file itself then stays behind, harmless, and the next
// run takes it over.
#pragma once

#include <string>

namespace pfode::io {

class OutputLock {
 public:
  static std::string path_for(const std::string& out) { return out + ".lock"; }

  // Takes the lock of `out`; throws std::invalid_argument naming the holder if another process
  // has it, or the reason if the lock file cannot be created.
  explicit OutputLock(const std::string& out);
  ~OutputLock();  // removes the lock file, then releases the lock
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace pfode::io
