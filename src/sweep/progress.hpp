// Progress of a sweep: a redrawn bar (cells done/total, elapsed, ETA) on a terminal, otherwise
// one log line per finished cell.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace pfode::sweep {

class Progress {
 public:
  Progress(size_t total, bool enabled, std::string prefix = "");
  void cell_done(const std::string& what);
  void note(const std::string& line);  // a log line that does not disturb the bar
  void finish();

 private:
  void draw();
  size_t total_, done_ = 0;
  bool enabled_, terminal_;
  std::string prefix_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pfode::sweep
