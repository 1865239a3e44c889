// Power-cut shim for the torture row R2 (LD_PRELOAD into the agent's node process).
//
// Keeps the writes that were not fsynced apart, as LazyFS does, but the other way
// round: each write to a file under $POWERCUT_DIR goes through to the file (so the
// process reads what it wrote, as from a page cache), and the bytes and size it
// replaced are first appended to an undo log ($POWERCUT_LOG). fsync/fdatasync of
// a file marks everything before as durable. After the process is SIGKILLed, the
// row's restorer undoes, newest first, every write not covered by a later sync:
// the files are then exactly what a disk that lost its volatile cache would hold.
// Metadata (create, rename, unlink) is taken as durable at once, as LazyFS does.
// The SQLite -shm file is left alone: it is shared memory that SQLite rebuilds
// from the WAL on the first open after a crash.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXFD 65536
// 0 unknown, 1 tracked, 2 not tracked
static unsigned char state[MAXFD];
static int logfd = -1;
static char dir[PATH_MAX];
static size_t dirlen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct rec {
  char kind;  // 'W' undo of a write, 'S' sync
  char pad[7];
  uint64_t dev, ino, off, oldsize;
  uint64_t len;  // bytes of old data that follow
};

__attribute__((constructor)) static void init(void) {
  const char *d = getenv("POWERCUT_DIR");
  const char *l = getenv("POWERCUT_LOG");
  if (!d || !l) return;
  snprintf(dir, sizeof dir, "%s", d);
  dirlen = strlen(dir);
  logfd = (int)syscall(SYS_openat, AT_FDCWD, l, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

static int tracked(int fd) {
  if (logfd < 0 || fd < 0 || fd >= MAXFD || fd == logfd) return 0;
  if (state[fd]) return state[fd] == 1;
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  int yes = 0;
  if (n > 0) {
    path[n] = 0;
    size_t len = (size_t)n;
    yes = len > dirlen && strncmp(path, dir, dirlen) == 0 && path[dirlen] == '/' &&
          !(len > 4 && strcmp(path + len - 4, "-shm") == 0);
  }
  struct stat st;
  if (yes && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) yes = 0;
  state[fd] = yes ? 1 : 2;
  return yes;
}

static void put(const struct rec *r, const void *data) {
  size_t total = sizeof *r + r->len;
  char *buf = malloc(total);
  if (!buf) abort();
  memcpy(buf, r, sizeof *r);
  if (r->len) memcpy(buf + sizeof *r, data, r->len);
  pthread_mutex_lock(&mu);
  size_t done = 0;
  while (done < total) {
    ssize_t w = syscall(SYS_write, logfd, buf + done, total - done);
    if (w <= 0) abort();  // an undo we cannot keep would make the cut a lie
    done += (size_t)w;
  }
  pthread_mutex_unlock(&mu);
  free(buf);
}

// Saves what [off, off+len) and the size were before a change.
static void save(int fd, int64_t off, uint64_t len) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  struct rec r = {.kind = 'W', .dev = st.st_dev, .ino = st.st_ino, .off = (uint64_t)off,
                  .oldsize = (uint64_t)st.st_size, .len = 0};
  char *old = NULL;
  if (off < st.st_size && len > 0) {
    uint64_t have = (uint64_t)st.st_size - (uint64_t)off;
    if (have > len) have = len;
    old = malloc(have);
    if (!old) abort();
    ssize_t got = syscall(SYS_pread64, fd, old, have, off);
    r.len = got > 0 ? (uint64_t)got : 0;
  }
  put(&r, old);
  free(old);
}

static int64_t here(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0 && (fl & O_APPEND)) {
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : 0;
  }
  return lseek(fd, 0, SEEK_CUR);
}

static void synced(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  struct rec r = {.kind = 'S', .dev = st.st_dev, .ino = st.st_ino};
  put(&r, NULL);
}

#define REAL(ret, name, ...)                                      \
  static ret (*real_##name)(__VA_ARGS__);                        \
  if (!real_##name) real_##name = dlsym(RTLD_NEXT, #name);

ssize_t write(int fd, const void *b, size_t n) {
  REAL(ssize_t, write, int, const void *, size_t);
  if (tracked(fd)) save(fd, here(fd), n);
  return real_write(fd, b, n);
}

ssize_t pwrite(int fd, const void *b, size_t n, off_t off) {
  REAL(ssize_t, pwrite, int, const void *, size_t, off_t);
  if (tracked(fd)) save(fd, off, n);
  return real_pwrite(fd, b, n, off);
}

ssize_t pwrite64(int fd, const void *b, size_t n, off_t off) {
  REAL(ssize_t, pwrite64, int, const void *, size_t, off_t);
  if (tracked(fd)) save(fd, off, n);
  return real_pwrite64(fd, b, n, off);
}

static uint64_t iovlen(const struct iovec *v, int c) {
  uint64_t n = 0;
  for (int i = 0; i < c; i++) n += v[i].iov_len;
  return n;
}

ssize_t writev(int fd, const struct iovec *v, int c) {
  REAL(ssize_t, writev, int, const struct iovec *, int);
  if (tracked(fd)) save(fd, here(fd), iovlen(v, c));
  return real_writev(fd, v, c);
}

ssize_t pwritev(int fd, const struct iovec *v, int c, off_t off) {
  REAL(ssize_t, pwritev, int, const struct iovec *, int, off_t);
  if (tracked(fd)) save(fd, off, iovlen(v, c));
  return real_pwritev(fd, v, c, off);
}

ssize_t pwritev64(int fd, const struct iovec *v, int c, off_t off) {
  REAL(ssize_t, pwritev64, int, const struct iovec *, int, off_t);
  if (tracked(fd)) save(fd, off, iovlen(v, c));
  return real_pwritev64(fd, v, c, off);
}

ssize_t pwritev2(int fd, const struct iovec *v, int c, off_t off, int flags) {
  REAL(ssize_t, pwritev2, int, const struct iovec *, int, off_t, int);
  if (tracked(fd)) save(fd, off == -1 ? here(fd) : off, iovlen(v, c));
  return real_pwritev2(fd, v, c, off, flags);
}

static void truncating(int fd, off_t len) {
  struct stat st;
  if (!tracked(fd) || fstat(fd, &st) != 0) return;
  if (len < st.st_size) save(fd, len, (uint64_t)(st.st_size - len));
  else save(fd, st.st_size, 0);
}

int ftruncate(int fd, off_t len) {
  REAL(int, ftruncate, int, off_t);
  truncating(fd, len);
  return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len) {
  REAL(int, ftruncate64, int, off_t);
  truncating(fd, len);
  return real_ftruncate64(fd, len);
}

ssize_t copy_file_range(int in, off_t *inoff, int out, off_t *outoff, size_t n, unsigned int flags) {
  REAL(ssize_t, copy_file_range, int, off_t *, int, off_t *, size_t, unsigned int);
  if (tracked(out)) save(out, outoff ? *outoff : here(out), n);
  return real_copy_file_range(in, inoff, out, outoff, n, flags);
}

ssize_t sendfile(int out, int in, off_t *off, size_t n) {
  REAL(ssize_t, sendfile, int, int, off_t *, size_t);
  if (tracked(out)) save(out, here(out), n);
  return real_sendfile(out, in, off, n);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n) {
  REAL(ssize_t, sendfile64, int, int, off_t *, size_t);
  if (tracked(out)) save(out, here(out), n);
  return real_sendfile64(out, in, off, n);
}

int fsync(int fd) {
  REAL(int, fsync, int);
  int r = real_fsync(fd);
  if (r == 0 && tracked(fd)) synced(fd);
  return r;
}

int fdatasync(int fd) {
  REAL(int, fdatasync, int);
  int r = real_fdatasync(fd);
  if (r == 0 && tracked(fd)) synced(fd);
  return r;
}

int close(int fd) {
  REAL(int, close, int);
  if (fd >= 0 && fd < MAXFD) state[fd] = 0;
  return real_close(fd);
}
