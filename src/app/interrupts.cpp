#include "app/interrupts.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <thread>

namespace pfode::app {

namespace {
// Never destroyed: a signal may come while the process exits, after static destructors ran.
std::mutex& report_mutex = *new std::mutex;
std::function<std::string(const std::string&)>& report = *new std::function<std::string(const std::string&)>;
}  // namespace

void watch_interrupts() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int signal = 0;
    while (sigwait(&signals, &signal) != 0) {
    }
    const std::string name = signal == SIGINT ? "SIGINT" : "SIGTERM";
    std::string text = "pfode: interrupted by " + name + "; nothing was written\n";
    {
      const std::lock_guard<std::mutex> hold(report_mutex);
      if (report) text = report(name);
    }
    for (size_t done = 0; done < text.size();) {
      const ssize_t n = write(STDERR_FILENO, text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(128 + signal);
  }).detach();
}

void on_interrupt(std::function<std::string(const std::string& signal)> new_report) {
  const std::lock_guard<std::mutex> hold(report_mutex);
  report = std::move(new_report);
}

}  // namespace pfode::app
