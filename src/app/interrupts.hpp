// SIGINT and SIGTERM during `pfode run`. Both are blocked in every thread and taken by one watcher
// thread, so the report on the way out is ordinary code: it says what is checkpointed and how to
// go on, then the process ends at once with 128 + the signal (130, 143). The cell in flight is
// discarded (the next run removes its temporary file); every checkpointed record stays valid.
#pragma once

#include <functional>
#include <string>

namespace pfode::app {

// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts later (call before
// MPI and Kokkos start theirs), and starts the watcher.
void watch_interrupts();

// What the watcher prints (to stderr) before the process ends; `signal` is "SIGINT" or
// "SIGTERM". Until one is set: "pfode: interrupted by SIGINT; nothing was written". An empty
// report prints nothing.
void on_interrupt(std::function<std::string(const std::string& signal)> report);

}  // namespace pfode::app
