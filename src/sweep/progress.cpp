#include "sweep/progress.hpp"

#include <unistd.h>

namespace pfode::sweep {

namespace {
std::string clock_text(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  std::snprintf(buf, sizeof buf, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(size_t total, bool enabled, std::string prefix)
    : total_(total), enabled_(enabled), terminal_(isatty(STDERR_FILENO) != 0), prefix_(std::move(prefix)),
      start_(std::chrono::steady_clock::now()) {
  if (enabled_ && terminal_) draw();  // 0/N at once: the first cell may take a while
}

void Progress::cell_done(const std::string& what) {
  ++done_;
  if (!enabled_) return;
  if (terminal_) return draw();
  std::fprintf(stderr, "%s[%zu/%zu] %s\n", prefix_.c_str(), done_, total_, what.c_str());
}

void Progress::note(const std::string& line) {
  if (!enabled_) return;
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s%s\n", prefix_.c_str(), line.c_str());
  if (terminal_) draw();
}

void Progress::draw() {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int width = 30;
  const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
  std::string bar(filled, '#');
  bar.resize(width, '.');
  const std::string eta = done_ ? clock_text(elapsed / done_ * (total_ - done_)) : "--:--:--";
  std::fprintf(stderr, "\r\033[K%s[%s] %zu/%zu cells  elapsed %s  ETA %s", prefix_.c_str(), bar.c_str(), done_, total_,
               clock_text(elapsed).c_str(), eta.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (enabled_ && terminal_) std::fprintf(stderr, "\n");
}

}  // namespace pfode::sweep
