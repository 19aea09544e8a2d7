#include "io/output_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pfode::io {

namespace {

std::string holder_of(int fd) {
  char text[128] = {};
  const ssize_t n = pread(fd, text, sizeof text - 1, 0);
  std::string holder = n > 0 ? std::string(text, static_cast<size_t>(n)) : "";
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
  return holder.empty() ? "" : " (" + holder + ")";
}

}  // namespace

OutputLock::OutputLock(const std::string& out) : path_(path_for(out)) {
  // A holder removes the file while it still holds the lock: a lock taken on a file that is no
  // longer at the path locks nothing, so take it again on the new file.
  for (;;) {
    fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::invalid_argument("cannot create the lock file '" + path_ + "': " + std::strerror(errno));
    if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const std::string holder = holder_of(fd_);
      close(fd_);
      if (error == EWOULDBLOCK)
        throw std::invalid_argument("output '" + out + "' is in use by another pfode run" + holder +
                                    "; wait for it to end, or stop it first");
      throw std::invalid_argument("cannot lock '" + path_ + "': " + std::strerror(error));
    }
    struct stat held {}, at_path {};
    if (fstat(fd_, &held) == 0 && stat(path_.c_str(), &at_path) == 0 && held.st_ino == at_path.st_ino &&
        held.st_dev == at_path.st_dev)
      break;
    close(fd_);
  }
  char host[128] = {};
  gethostname(host, sizeof host - 1);
  const std::string holder = "process " + std::to_string(getpid()) + " on " + host + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, holder.data(), holder.size(), 0) < 0) {
    // Only informative: the lock holds without it.
  }
}

OutputLock::~OutputLock() {
  unlink(path_.c_str());
  close(fd_);
}

}  // namespace pfode::io
