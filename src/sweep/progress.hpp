// Progress of a sweep: a redrawn bar (cells done/total, elapsed, ETA) on a terminal, or one log
// line per finished cell (logs, batch jobs), or nothing.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace pfode::sweep {

class Progress {
 public:
  // auto: the bar on a terminal, cell lines otherwise; bar: the bar on a terminal, nothing
  // otherwise (make run: the order table is the output); cells: one line per cell; none: nothing.
  enum class Mode { automatic, bar, cells, none };
  static Mode parse_mode(const std::string& text);  // throws std::invalid_argument

  // total: the cells to do. With sharing_ranks > 1 that many ranks share them as they go: this
  // rank counts its own cells, out of the total of all, and estimates its share as total / ranks.
  Progress(size_t total, Mode mode, std::string prefix = "", int sharing_ranks = 1);
  void cell_done(const std::string& what);
  void note(const std::string& line);  // a log line that does not disturb the bar
  void finish();

 private:
  void draw();
  size_t total_, done_ = 0;
  int sharing_ranks_;
  Mode mode_;  // resolved: bar (on a terminal), cells or none
  std::string prefix_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace pfode::sweep
