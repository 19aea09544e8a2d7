/* LD_PRELOAD library for the fault-injection tests: a full disk on demand.
 *   PFODE_FAULT_WRITE_BUDGET=N  writes to regular files fail with ENOSPC once N bytes have been
 *                               written (a disk that fills up during the run);
 *   PFODE_FAULT_FAIL_NAME=TEXT  writes to files whose path contains TEXT fail with ENOSPC (the disk
 *                               fills up exactly there, e.g. at the results file);
 *   PFODE_FAULT_FREE_BYTES=N    statvfs reports N bytes free (a disk that is nearly full), for
 *                               every path or, with PFODE_FAULT_FREE_PATH=TEXT, for the paths that
 *                               contain TEXT;
 *   PFODE_FAULT_SLOW_NAME=TEXT  a rename onto a path that contains TEXT first waits 50 ms (a slow
 *                               disk, so a run can be interrupted between two of its checkpoints
 *                               however fast the machine).
 * Without the variables every call goes through unchanged. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static long long written = 0;

/* Whether this write to fd must fail: it goes to a regular file, and the budget is spent or the
 * file is the one named. */
static int out_of_space(int fd, size_t count) {
  const char* budget = getenv("PFODE_FAULT_WRITE_BUDGET");
  const char* name = getenv("PFODE_FAULT_FAIL_NAME");
  struct stat st;
  if ((!budget && !name) || fd < 3 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  if (name) {
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    return strstr(target, name) != 0;
  }
  if (written + (long long)count > atoll(budget)) return 1;
  written += (long long)count;
  return 0;
}

/* `real`: the function of the same name that the shim stands in front of, looked up once. */
#define REAL(name)                   \
  static __typeof__(name)* real = 0; \
  if (!real) real = (__typeof__(name)*)dlsym(RTLD_NEXT, #name)
#define FAIL_WHEN_OUT_OF_SPACE(fd, count) \
  if (out_of_space(fd, count)) {          \
    errno = ENOSPC;                       \
    return -1;                            \
  }

ssize_t write(int fd, const void* buf, size_t count) {
  REAL(write);
  FAIL_WHEN_OUT_OF_SPACE(fd, count);
  return real(fd, buf, count);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite);
  FAIL_WHEN_OUT_OF_SPACE(fd, count);
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off_t offset) {
  REAL(pwrite64);
  FAIL_WHEN_OUT_OF_SPACE(fd, count);
  return real(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec* iov, int n) {
  REAL(writev);
  size_t count = 0;
  for (int i = 0; i < n; ++i) count += iov[i].iov_len;
  FAIL_WHEN_OUT_OF_SPACE(fd, count);
  return real(fd, iov, n);
}

/* statvfs and statvfs64 differ only in their field types. */
#define REPORT_FREE_BYTES(status, path, buf)                                  \
  const char* free_bytes = getenv("PFODE_FAULT_FREE_BYTES");                  \
  const char* free_path = getenv("PFODE_FAULT_FREE_PATH");                    \
  if (status == 0 && free_bytes && (!free_path || strstr(path, free_path))) { \
    buf->f_frsize = 4096;                                                     \
    buf->f_bavail = buf->f_bfree = (unsigned long long)(atoll(free_bytes) / 4096); \
  }

int statvfs(const char* path, struct statvfs* buf) {
  REAL(statvfs);
  const int status = real(path, buf);
  REPORT_FREE_BYTES(status, path, buf);
  return status;
}

int statvfs64(const char* path, struct statvfs64* buf) {
  REAL(statvfs64);
  const int status = real(path, buf);
  REPORT_FREE_BYTES(status, path, buf);
  return status;
}

int rename(const char* from, const char* to) {
  REAL(rename);
  const char* slow = getenv("PFODE_FAULT_SLOW_NAME");
  if (slow && strstr(to, slow)) {
    const struct timespec wait = {0, 50 * 1000 * 1000};
    nanosleep(&wait, 0);
  }
  return real(from, to);
}
