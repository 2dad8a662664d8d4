/*
 * pod's native core: the only C in the project.
 *
 * Why C: a Bun process has several threads from its first instruction, and
 * unshare(CLONE_NEWUSER) fails with EINVAL in a multi-threaded process. So the
 * namespace work happens here, in a child forked from the live process: right
 * after fork() the child has a single thread, may unshare, and then execs.
 * Until it execs, the child only calls async-signal-safe functions.
 *
 * No #include: the machine may have no C headers, and TinyCC (bun:ffi cc)
 * compiles this inside the pod binary. Prototypes and constants are declared
 * below for x86_64 / aarch64 Linux (they are the same on both).
 */

typedef int pid_t;
typedef unsigned int uid_t;
typedef unsigned int gid_t;
typedef long ssize_t;
typedef unsigned long size_t;

extern int fork(void);
extern int unshare(int flags);
extern int pipe2(int fds[2], int flags);
extern ssize_t read(int fd, void *buf, size_t n);
extern ssize_t write(int fd, const void *buf, size_t n);
extern int close(int fd);
extern int dup2(int oldfd, int newfd);
extern int open(const char *path, int flags, ...);
extern int execve(const char *path, char *const argv[], char *const envp[]);
extern int execvpe(const char *file, char *const argv[], char *const envp[]);
extern void _exit(int status);
extern pid_t waitpid(pid_t pid, int *status, int options);
extern pid_t getpid(void);
extern uid_t geteuid(void);
extern gid_t getegid(void);
extern int setresuid(uid_t r, uid_t e, uid_t s);
extern int setresgid(gid_t r, gid_t e, gid_t s);
extern int setgroups(size_t n, const gid_t *list);
extern int chdir(const char *path);
extern int setsid(void);
extern int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
extern long syscall(long number, ...);
extern int *__errno_location(void);
extern char *strerror(int errnum);
extern int snprintf(char *buf, size_t n, const char *fmt, ...);

#define CLONE_NEWNS   0x00020000
#define CLONE_NEWUSER 0x10000000
#define O_WRONLY 01
#define O_CLOEXEC 02000000
#define PR_SET_PDEATHSIG 1
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigaction 13
#define SYS_close_range 436
#define SIG_SETMASK 2
#define NSIG 65

/*
 * Sync bytes on the two pipes between the live process (parent) and the
 * child. Mirrored in protocol.ts; a unit test keeps them equal.
 */
#define SYNC_USERMAP_PLS 0x40 /* child -> parent: unshared, write my id maps */
#define SYNC_USERMAP_ACK 0x41 /* parent -> child: maps written, go on */
#define SYNC_USERMAP_FAIL 0x4e /* parent -> child: maps failed, exit 125 */

/* Stages the child reports on the status pipe when it fails; mirrored in protocol.ts. */
#define STAGE_UNSHARE 1
#define STAGE_SINGLE_MAP 2
#define STAGE_SYNC 3
#define STAGE_SETID 4
#define STAGE_CHDIR 5
#define STAGE_EXEC 6

/* Flags for pod_spawn_userns, mirrored in protocol.ts. */
#define SPAWN_NEWNS 1       /* also a new mount namespace */
#define SPAWN_SETSID 2      /* new session: no controlling terminal */

struct kernel_sigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

static int err_no(void) { return *__errno_location(); }

static void fail_msg(char *errbuf, int errlen, const char *what, int e) {
  snprintf(errbuf, (size_t)errlen, "%s: %s", what, strerror(e));
}

/*
 * Bun ignores SIGPIPE and SIGXFSZ, and ignored dispositions survive execve:
 * reset all of them, and the signal mask, or `yes | head` never ends.
 */
static void reset_signals(void) {
  struct kernel_sigaction dfl;
  unsigned long empty = 0;
  int sig;
  dfl.handler = 0; /* SIG_DFL */
  dfl.flags = 0;
  dfl.restorer = 0;
  dfl.mask = 0;
  for (sig = 1; sig < NSIG; sig++) {
    if (sig == 9 || sig == 19) continue; /* SIGKILL, SIGSTOP */
    syscall(SYS_rt_sigaction, sig, &dfl, 0, 8);
  }
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8);
}

static int write_file(const char *path, const char *data, int len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  int n;
  if (fd < 0) return -1;
  n = (int)write(fd, data, (size_t)len);
  close(fd);
  return n == len ? 0 : -1;
}

static int str_len(const char *s) {
  int n = 0;
  while (s[n]) n++;
  return n;
}

/* Runs newuidmap/newgidmap (argv already complete but for the pid slot). */
static int run_map_helper(char **argv, char *const envp[], int pid, char *errbuf, int errlen) {
  char pidbuf[16];
  int status = 0;
  int child;
  snprintf(pidbuf, sizeof pidbuf, "%d", pid);
  argv[1] = pidbuf;
  child = fork();
  if (child < 0) {
    fail_msg(errbuf, errlen, "fork for id map helper", err_no());
    return -1;
  }
  if (child == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, 1);
    execvpe(argv[0], argv, envp);
    _exit(127);
  }
  if (waitpid(child, &status, 0) < 0) {
    fail_msg(errbuf, errlen, "waiting for id map helper", err_no());
    return -1;
  }
  if (status != 0) {
    snprintf(errbuf, (size_t)errlen, "%s %s failed (wait status %d)", argv[0], pidbuf, status);
    return -1;
  }
  return 0;
}

/*
 * Child side, after fork: single-threaded, async-signal-safe calls only.
 * With a single-id mapping (no subuid range) the child writes its own maps,
 * which the kernel allows for exactly the caller's own uid and gid.
 */
/* Reports the failed stage and errno on the close-on-exec status pipe, then exits. */
static void die_stage(int status_fd, int stage) {
  unsigned char msg[2];
  msg[0] = (unsigned char)stage;
  msg[1] = (unsigned char)err_no();
  write(status_fd, msg, 2);
  _exit(125);
}

static void child_stage(int flags, int to_parent, int from_parent, int status_fd, int single_uid, int single_gid,
                        const char *cwd, const char *path, char *const argv[], char *const envp[]) {
  char sync = SYNC_USERMAP_PLS;
  char buf[64];
  int n;
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (flags & SPAWN_SETSID) setsid();
  if (unshare(CLONE_NEWUSER | ((flags & SPAWN_NEWNS) ? CLONE_NEWNS : 0)) < 0) die_stage(status_fd, STAGE_UNSHARE);
  if (single_uid >= 0) {
    if (write_file("/proc/self/setgroups", "deny", 4) < 0) die_stage(status_fd, STAGE_SINGLE_MAP);
    n = snprintf(buf, sizeof buf, "0 %d 1\n", single_uid);
    if (write_file("/proc/self/uid_map", buf, n) < 0) die_stage(status_fd, STAGE_SINGLE_MAP);
    n = snprintf(buf, sizeof buf, "0 %d 1\n", single_gid);
    if (write_file("/proc/self/gid_map", buf, n) < 0) die_stage(status_fd, STAGE_SINGLE_MAP);
  } else {
    if (write(to_parent, &sync, 1) != 1) die_stage(status_fd, STAGE_SYNC);
    if (read(from_parent, &sync, 1) != 1 || sync != SYNC_USERMAP_ACK) _exit(125);
  }
  close(to_parent);
  close(from_parent);
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die_stage(status_fd, STAGE_SETID);
  if (single_uid < 0) setgroups(0, 0);
  if (cwd && cwd[0] && chdir(cwd) < 0) die_stage(status_fd, STAGE_CHDIR);
  reset_signals();
  /* No fd of ours survives exec but stdio; the status pipe closes on exec. */
  if (status_fd > 3) syscall(SYS_close_range, 3, status_fd - 1, 0);
  syscall(SYS_close_range, status_fd + 1, ~0U, 0);
  execve(path, argv, envp);
  die_stage(status_fd, STAGE_EXEC);
}

/*
 * Forks a child that enters a new user namespace (and, with SPAWN_NEWNS, a
 * new mount namespace), is mapped 0 -> the caller and 1..N -> the subuid
 * range through newuidmap/newgidmap, becomes uid 0 there and execs path.
 *
 * uidmap_argv / gidmap_argv: {"newuidmap", <pid slot>, "0", "1000", "1", ...}
 * or NULL for the single-id fallback. Returns the child's pid once it has
 * exec'd, or a negative value with a message in errbuf: -1 for the parent's own
 * failures, -(STAGE+1) when the child failed at STAGE. The caller reaps the child.
 */
int pod_spawn_userns(int flags, const char *path, char **argv, char **envp,
                     char **uidmap_argv, char **gidmap_argv, const char *cwd,
                     char *errbuf, int errlen) {
  int to_parent[2];
  int from_parent[2];
  int status_pipe[2];
  unsigned char report[2];
  int pid;
  int status;
  char sync = 0;
  int single = uidmap_argv == 0 || gidmap_argv == 0;
  int uid = (int)geteuid();
  int gid = (int)getegid();
  report[0] = 0;
  report[1] = 0;

  if (pipe2(to_parent, O_CLOEXEC) < 0 || pipe2(from_parent, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0) {
    fail_msg(errbuf, errlen, "creating sync pipes", err_no());
    return -1;
  }
  pid = fork();
  if (pid < 0) {
    fail_msg(errbuf, errlen, "fork", err_no());
    return -1;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    child_stage(flags, to_parent[1], from_parent[0], status_pipe[1], single ? uid : -1, single ? gid : -1,
                cwd, path, argv, envp);
  }
  close(to_parent[1]);
  close(from_parent[0]);
  close(status_pipe[1]);
  if (!single) {
    if (read(to_parent[0], &sync, 1) != 1 || sync != SYNC_USERMAP_PLS) {
      waitpid(pid, &status, 0);
      if (read(status_pipe[0], report, 2) == 2)
        snprintf(errbuf, (size_t)errlen, "%d:%d:%s", (int)report[0], (int)report[1], strerror((int)report[1]));
      else
        snprintf(errbuf, (size_t)errlen, "creating user namespace failed (child wait status %d)", status);
      close(to_parent[0]);
      close(from_parent[1]);
      close(status_pipe[0]);
      return report[0] ? -(int)report[0] - 1 : -1;
    }
    if (run_map_helper(uidmap_argv, envp, pid, errbuf, errlen) < 0 ||
        run_map_helper(gidmap_argv, envp, pid, errbuf, errlen) < 0) {
      sync = SYNC_USERMAP_FAIL;
      write(from_parent[1], &sync, 1);
      waitpid(pid, &status, 0);
      close(to_parent[0]);
      close(from_parent[1]);
      close(status_pipe[0]);
      return -1;
    }
    sync = SYNC_USERMAP_ACK;
    write(from_parent[1], &sync, 1);
  }
  close(to_parent[0]);
  close(from_parent[1]);
  /* EOF means the exec succeeded; two bytes mean a stage failed. */
  if (read(status_pipe[0], report, 2) == 2) {
    close(status_pipe[0]);
    waitpid(pid, &status, 0);
    snprintf(errbuf, (size_t)errlen, "%d:%d:%s", (int)report[0], (int)report[1], strerror((int)report[1]));
    return -(int)report[0] - 1;
  }
  close(status_pipe[0]);
  return pid;
}

/* Length helper so TS can size buffers without a libc import. */
int pod_strlen(const char *s) { return str_len(s); }
