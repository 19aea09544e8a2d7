// Running the pfode executable from tests: a scratch directory per test, commands run to
// completion (status, stderr, stdout) or started in the background to be signalled.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace pfode::test {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string err, out;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

class Sandbox {
 public:
  Sandbox() : dir_(fs::temp_directory_path() / ("pfode_cli_" + std::to_string(counter_++) + "_" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Sandbox() { fs::remove_all(dir_); }
  fs::path path(const std::string& name) const { return dir_ / name; }
  fs::path config(const std::string& text) const {
    const auto p = path("x.ini");
    std::ofstream(p) << text;
    return p;
  }
  // `env`: variable assignments put before the command ("PFODE_X=1 ").
  Result pfode(const std::string& args, const std::string& env = "") const {
    const std::string cmd = env + std::string(PFODE_EXECUTABLE) + " " + args + " > " + path("out.txt").string() +
                            " 2> " + path("err.txt").string();
    const int raw = std::system(cmd.c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(path("err.txt")), slurp(path("out.txt"))};
  }
  // Only the inputs remain: no results file, no temporary.
  bool no_output() const {
    for (const auto& entry : fs::directory_iterator(dir_)) {
      const auto name = entry.path().filename().string();
      if (name != "x.ini" && name != "out.txt" && name != "err.txt") return false;
    }
    return true;
  }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

// pfode started in the background, its stderr into a file; wait() gives its exit status (128 +
// the signal if one killed it).
class Background {
 public:
  Background(const std::string& args, const fs::path& err, const fs::path& cwd = ".") : err_(fs::absolute(err)) {
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(cwd.c_str()) != 0) _exit(127);
      const std::string cmd = "exec " + std::string(PFODE_EXECUTABLE) + " " + args + " > /dev/null 2> " + err_.string();
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !done_) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  // Polls every 10 ms until `ready` holds (true) or the process has ended (false).
  template <class F>
  bool wait_until(const F& ready) {
    for (;;) {
      if (ready()) return true;
      int raw = 0;
      if (waitpid(pid_, &raw, WNOHANG) == pid_) {
        done_ = true;
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void signal(int sig) const { kill(pid_, sig); }
  int wait() {
    if (!done_) {
      int raw = 0;
      waitpid(pid_, &raw, 0);
      done_ = true;
      status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    }
    return status_;
  }
  std::string err() const { return slurp(err_); }

 private:
  fs::path err_;
  pid_t pid_ = -1;
  bool done_ = false;
  int status_ = -1;
};

}  // namespace pfode::test
