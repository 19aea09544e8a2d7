#include "sweep/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace pfode::sweep {

namespace {
std::string clock_text(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}
}  // namespace

Progress::Mode Progress::parse_mode(const std::string& text) {
  if (text == "auto") return Mode::automatic;
  if (text == "bar") return Mode::bar;
  if (text == "cells") return Mode::cells;
  if (text == "none") return Mode::none;
  throw std::invalid_argument("--progress: unknown '" + text + "' (auto | bar | cells | none)");
}

Progress::Progress(size_t total, Mode mode, std::string prefix, int sharing_ranks)
    : total_(total),
      sharing_ranks_(sharing_ranks),
      mode_(mode),
      prefix_(std::move(prefix)),
      start_(std::chrono::steady_clock::now()) {
  const bool terminal = isatty(STDERR_FILENO) != 0;
  if (mode_ == Mode::automatic) mode_ = terminal ? Mode::bar : Mode::cells;
  if (mode_ == Mode::bar && !terminal) mode_ = Mode::none;
  if (mode_ == Mode::bar) draw();  // 0/N at once: the first cell may take a while
}

void Progress::cell_done(const std::string& what) {
  ++done_;
  if (mode_ == Mode::bar) return draw();
  if (mode_ != Mode::cells) return;
  if (sharing_ranks_ > 1)
    std::fprintf(stderr, "%s[%zu of %zu on %d ranks] %s\n", prefix_.c_str(), done_, total_, sharing_ranks_, what.c_str());
  else
    std::fprintf(stderr, "%s[%zu/%zu] %s\n", prefix_.c_str(), done_, total_, what.c_str());
}

void Progress::note(const std::string& line) {
  if (mode_ == Mode::none) return;
  if (mode_ == Mode::bar) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s%s\n", prefix_.c_str(), line.c_str());
  if (mode_ == Mode::bar) draw();
}

void Progress::draw() {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int width = 30;
  const size_t share = (total_ + sharing_ranks_ - 1) / sharing_ranks_, expected = std::max(share, done_);
  const int filled = expected ? static_cast<int>(width * done_ / expected) : width;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  const std::string eta = done_ ? clock_text(elapsed / done_ * (expected - done_)) : "--:--:--";
  const std::string count = sharing_ranks_ > 1 ? std::to_string(done_) + " of " + std::to_string(total_) + " cells on " +
                                                     std::to_string(sharing_ranks_) + " ranks"
                                               : std::to_string(done_) + "/" + std::to_string(total_) + " cells";
  std::fprintf(stderr, "\r\033[K%s[%s] %s  elapsed %s  ETA %s", prefix_.c_str(), bar.c_str(), count.c_str(),
               clock_text(elapsed).c_str(), eta.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (mode_ == Mode::bar) std::fprintf(stderr, "\n");
}

}  // namespace pfode::sweep
