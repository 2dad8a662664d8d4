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
extern void _exit(int status);
extern pid_t waitpid(pid_t pid, int *status, int options);
extern pid_t getpid(void);
extern uid_t geteuid(void);
extern gid_t getegid(void);
extern int chdir(const char *path);
extern int setsid(void);
extern int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
extern long syscall(long number, ...);
extern int *__errno_location(void);
extern char *strerror(int errnum);
extern int rename(const char *from, const char *to);
extern char **environ;
extern int nanosleep(const void *req, void *rem);
extern int snprintf(char *buf, size_t n, const char *fmt, ...);
extern int mount(const char *src, const char *target, const char *fstype, unsigned long flags, const void *data);
extern int umount2(const char *target, int flags);
extern int mkdirat(int dirfd, const char *path, unsigned int mode);
extern int openat(int dirfd, const char *path, int flags, ...);
extern int symlinkat(const char *target, int dirfd, const char *linkpath);
extern int sethostname(const char *name, size_t len);
extern int ioctl(int fd, unsigned long req, ...);
extern int kill(pid_t pid, int sig);
extern int fchdir(int fd);
extern int setns(int fd, int nstype);
extern ssize_t readlink(const char *path, char *buf, size_t len);
extern int socketpair(int domain, int type, int protocol, int sv[2]);
extern ssize_t sendmsg(int fd, const void *msg, int flags);
extern ssize_t recvmsg(int fd, void *msg, int flags);

#define CLONE_NEWNS   0x00020000
#define CLONE_NEWUSER 0x10000000
#define O_WRONLY 01
#define O_CLOEXEC 02000000
#define PR_SET_PDEATHSIG 1
#define PR_SET_DUMPABLE 4

/* Syscall numbers differ between architectures; the new ones (>= 424) do not. */
#if defined(__aarch64__)
#define SYS_rt_sigaction 134
#define SYS_rt_sigprocmask 135
#define SYS_rt_sigtimedwait 137
#define SYS_clone 220
#define SYS_pivot_root 41
#define SYS_capset 91
#define SYS_sethostname 161
#define SYS_setresuid 147
#define SYS_setresgid 149
#define SYS_setgroups 159
#define SYS_prlimit64 261
#else
#define SYS_rt_sigaction 13
#define SYS_rt_sigprocmask 14
#define SYS_rt_sigtimedwait 128
#define SYS_clone 56
#define SYS_pivot_root 155
#define SYS_capset 126
#define SYS_sethostname 170
#define SYS_setresuid 117
#define SYS_setresgid 119
#define SYS_setgroups 116
#define SYS_prlimit64 302
#endif
#define SYS_close_range 436
#define SYS_openat2 437
#define SYS_mount_setattr 442
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
#define STAGE_SET_ID 4
#define STAGE_CHDIR 5
#define STAGE_EXEC 6

/* Flags for pod_spawn_userns, mirrored in protocol.ts. */
#define SPAWN_NEWNS 1       /* also a new mount namespace */
#define SPAWN_SETSID 2      /* new session: no controlling terminal */
#define SPAWN_NEWNET 4      /* also a new network namespace, owned by the new user namespace */
#define SPAWN_DAEMON 8      /* leave the caller: a second fork, no parent-death signal (the process says its own pid) */

struct kernel_sigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  unsigned long mask;
};

static int err_no(void) { return *__errno_location(); }

/*
 * Credentials are changed with raw syscalls. glibc's setresuid() and friends
 * broadcast the change to every thread glibc knows of, and a child made by a
 * raw clone() still carries the parent's thread list: it would wait forever
 * for threads that do not exist in it (or on a lock another thread held).
 * The raw syscall changes exactly the calling thread, the only one here.
 */
static int set_ids(unsigned int uid, unsigned int gid) {
  if (syscall(SYS_setresgid, gid, gid, gid) < 0) return -1;
  return (int)syscall(SYS_setresuid, uid, uid, uid);
}

static int set_groups(size_t n, const unsigned int *groups) { return (int)syscall(SYS_setgroups, n, groups); }

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

static void write_all(int fd, const void *buf, int n) {
  const char *p = (const char *)buf;
  while (n > 0) {
    int w = (int)write(fd, p, (size_t)n);
    if (w <= 0) return;
    p += w;
    n -= w;
  }
}

static int read_full(int fd, void *buf, int n) {
  char *p = (char *)buf;
  int got = 0;
  while (got < n) {
    int r = (int)read(fd, p + got, (size_t)(n - got));
    if (r <= 0) break;
    got += r;
  }
  return got;
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

/*
 * newuidmap/newgidmap run by absolute path (argv[0]) with an empty
 * environment; argv[1] is the pid slot. Both are started before either is
 * waited for: they are setuid programs, and each exec costs milliseconds.
 */
static int start_map_helper(char **argv, char *pidbuf) {
  int child;
  argv[1] = pidbuf;
  child = fork();
  if (child == 0) {
    char *no_env[1];
    int devnull = open("/dev/null", O_WRONLY);
    no_env[0] = 0;
    if (devnull >= 0) dup2(devnull, 1);
    execve(argv[0], argv, no_env);
    _exit(127);
  }
  return child;
}

static int finish_map_helper(int child, char **argv, const char *pidbuf, char *errbuf, int errlen) {
  int status = 0;
  if (child < 0) {
    fail_msg(errbuf, errlen, "fork for id map helper", err_no());
    return -1;
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
 * A child's failure report (STAGE, ERRNO and, for a mount op, its index in
 * two more bytes) as "STAGE:ERRNO:OPINDEX:strerror" for spawnFailure in
 * core.ts; returns -(STAGE+1), what the spawn functions return.
 */
static int stage_error(const unsigned char *report, int nread, char *errbuf, int errlen) {
  int op = nread >= 4 ? (int)report[2] | ((int)report[3] << 8) : 0;
  snprintf(errbuf, (size_t)errlen, "%d:%d:%d:%s", (int)report[0], (int)report[1], op, strerror((int)report[1]));
  return -(int)report[0] - 1;
}

/*
 * Parent side of the id-map handshake: waits for the child's request, runs
 * newuidmap and newgidmap for it, and answers. Returns 0, or a negative code
 * as the spawn functions do, after reaping the child.
 */
static int map_child_ids(int pid, int to_parent, int from_parent, int status_fd, char **uidmap_argv,
                         char **gidmap_argv, char *errbuf, int errlen) {
  char sync = 0;
  char pidbuf[16];
  int uid_helper;
  int gid_helper;
  int failed;
  int status = 0;
  unsigned char report[4];
  report[0] = 0;
  report[1] = 0;
  if (read(to_parent, &sync, 1) != 1 || sync != SYNC_USERMAP_PLS) {
    waitpid(pid, &status, 0);
    if (read(status_fd, report, 2) == 2) return stage_error(report, 2, errbuf, errlen);
    snprintf(errbuf, (size_t)errlen, "creating the user namespace failed (wait status %d)", status);
    return -1;
  }
  snprintf(pidbuf, sizeof pidbuf, "%d", pid);
  uid_helper = start_map_helper(uidmap_argv, pidbuf);
  gid_helper = start_map_helper(gidmap_argv, pidbuf);
  failed = finish_map_helper(uid_helper, uidmap_argv, pidbuf, errbuf, errlen) < 0;
  failed = finish_map_helper(gid_helper, gidmap_argv, pidbuf, errbuf, errlen) < 0 || failed;
  if (failed) {
    sync = SYNC_USERMAP_FAIL;
    write(from_parent, &sync, 1);
    waitpid(pid, &status, 0);
    return -1;
  }
  sync = SYNC_USERMAP_ACK;
  write(from_parent, &sync, 1);
  return 0;
}

/* Reports the failed stage and errno on the close-on-exec status pipe, then exits. */
static void die_stage(int status_fd, int stage) {
  unsigned char msg[2];
  msg[0] = (unsigned char)stage;
  msg[1] = (unsigned char)err_no();
  write(status_fd, msg, 2);
  _exit(125);
}

/*
 * Child side of the id mapping, in the new user namespace: write the
 * single-id maps itself, or ask the parent to run newuidmap/newgidmap and
 * wait for its answer; then become uid 0 there. Exits through die_stage on
 * failure.
 */
static void become_mapped_root(int to_parent, int from_parent, int status_fd, int single_uid, int single_gid) {
  char sync = SYNC_USERMAP_PLS;
  char buf[64];
  int n;
  /* /proc/PID/{uid,gid}_map and setgroups belong to root while a process is not dumpable (its own writes and
   * newuidmap's are then refused): dumpable only while it is alone in its new namespaces (runc does the same) */
  int hidden = prctl(3 /* PR_GET_DUMPABLE */, 0, 0, 0, 0) == 0;
  prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
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
  if (hidden) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  close(to_parent);
  close(from_parent);
  if (set_ids(0, 0) < 0) die_stage(status_fd, STAGE_SET_ID);
}

/*
 * SPAWN_DAEMON: the caller reaps this first child; the second one outlives
 * the caller and keeps its namespaces, with no parent-death signal and
 * nothing of the caller's stdio (a pipe held open would keep its reader waiting).
 */
static void daemonize(int status_fd) {
  int fd;
  int pid = fork();
  if (pid < 0) die_stage(status_fd, STAGE_UNSHARE);
  if (pid > 0) _exit(0);
  prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
  setsid();
  fd = open("/dev/null", 2 /* O_RDWR */);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
}

/*
 * Child side, after fork: single-threaded, async-signal-safe calls only.
 * With a single-id mapping (no subuid range) the child writes its own maps,
 * which the kernel allows for exactly the caller's own uid and gid.
 */
static void child_stage(int flags, int to_parent, int from_parent, int status_fd, int single_uid, int single_gid,
                        const char *cwd, const char *path, char *const argv[], char *const envp[]) {
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (flags & SPAWN_SETSID) setsid();
  if (unshare(CLONE_NEWUSER | ((flags & SPAWN_NEWNS) ? CLONE_NEWNS : 0) | ((flags & SPAWN_NEWNET) ? 0x40000000 : 0)) < 0)
    die_stage(status_fd, STAGE_UNSHARE);
  become_mapped_root(to_parent, from_parent, status_fd, single_uid, single_gid);
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (flags & SPAWN_DAEMON) daemonize(status_fd);
  if (single_uid < 0) set_groups(0, 0);
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
    int rc = map_child_ids(pid, to_parent[0], from_parent[1], status_pipe[0], uidmap_argv, gidmap_argv, errbuf, errlen);
    if (rc < 0) {
      close(to_parent[0]);
      close(from_parent[1]);
      close(status_pipe[0]);
      return rc;
    }
  }
  close(to_parent[0]);
  close(from_parent[1]);
  /* EOF means the exec succeeded; two bytes mean a stage failed. */
  if (read(status_pipe[0], report, 2) == 2) {
    close(status_pipe[0]);
    waitpid(pid, &status, 0);
    return stage_error(report, 2, errbuf, errlen);
  }
  close(status_pipe[0]);
  return pid;
}


/* ------------------------------------------------------------------------
 * Containers
 *
 * pod_spawn_container clone()s the container's first process straight into
 * new user, mount, PID, UTS, IPC and cgroup namespaces (and a network
 * namespace for --network none), so it is PID 1 there. clone() with
 * CLONE_NEWUSER is allowed from a multi-threaded process, unlike unshare().
 * The child then applies the plan TypeScript built (pkg/native/plan.ts):
 * rootfs mount, mount ops, pivot_root, hostname, credentials, capabilities,
 * stdio, and execs. It reports a failed stage on the close-on-exec status
 * pipe, so the parent knows exec happened when that pipe reaches EOF.
 * ------------------------------------------------------------------------ */

#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define CLONE_PARENT 0x00008000
#define SIGCHLD 17
#define MS_RDONLY 1
#define MS_NOSUID 2
#define MS_NODEV 4
#define MS_NOEXEC 8
#define MS_BIND 4096
#define MS_REC 16384
#define MS_PRIVATE (1 << 18)
#define MNT_DETACH 2
#define O_RDONLY 0
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define O_NOCTTY 0400
#define O_DIRECTORY 0200000
#define O_NOFOLLOW 0400000
#define O_PATH 010000000
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define AT_RECURSIVE 0x8000
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#define MOUNT_ATTR_RDONLY 0x1
#define ENOENT 2
#define EACCES 13
#define EEXIST 17
#define ENOTDIR 20
#define TIOCSCTTY 0x540E
#define TIOCSWINSZ 0x5414
#define TIOCSPTLCK 0x40045431
#define TIOCGPTPEER 0x5441
#define AF_UNIX 1
#define SOCK_STREAM 1
#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define PR_SET_NAME 15
#define PR_SET_KEEPCAPS 8
#define PR_CAPBSET_DROP 24
#define PR_SET_NO_NEW_PRIVS 38
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define CAP_LAST 40
#define WNOHANG 1

#define STAGE_ROOTFS 7
#define STAGE_MOUNT 8
#define STAGE_PIVOT 9
#define STAGE_HOSTNAME 10
#define STAGE_CREDS 11
#define STAGE_CAPS 12
#define STAGE_TTY 13
#define STAGE_HELPER 14
#define STAGE_INIT 15
#define STAGE_CGROUP 17
#define STAGE_NETWORK 18
#define STAGE_JOIN 16
#define STAGE_KEYRING 19
#define STAGE_SECCOMP 20
#define F_SETFD 2
#define CLOSE_RANGE_CLOEXEC 4
#if defined(__aarch64__)
#define SYS_fcntl 25
#else
#define SYS_fcntl 72
#endif

/* Indexes of the plan's header strings; mirrored in core.ts (planHeader). */
#define P_ROOTFS 0
#define P_ROOT_KIND 1
#define P_OVERLAY_CWD 2
#define P_OVERLAY_DATA 3
#define P_READONLY_ROOT 4
#define P_HOSTNAME 5
#define P_NEW_NET 6
#define P_CWD 7
#define P_UID 8
#define P_GID 9
#define P_GROUPS 10
#define P_CAP_BOUNDING 11
#define P_CAP_EFFECTIVE 12
#define P_CAP_PERMITTED 13
#define P_CAP_INHERITABLE 14
#define P_CAP_AMBIENT 15
#define P_NO_NEW_PRIVS 16
#define P_INIT 17
#define P_RLIMITS 18
/* --pid, --ipc, --uts, --cgroupns: "1" a namespace of its own, "0" pod's (the host's), "/path" one to join */
#define P_PID_NS 19
#define P_IPC_NS 20
#define P_UTS_NS 21
#define P_CGROUP_NS 22
/* run --preserve-fds N: pod's fds 3 .. 3+N-1 stay open in the container's process ("0": none) */
#define P_PRESERVE_FDS 23
/* the session keyring's name ("_ses.<id>"; "" none) and the seccomp filter (hex of struct sock_filter[]; "" none) */
#define P_KEYRING 24
#define P_SECCOMP 25
#define P_HEADER_LEN 26

struct open_how {
  unsigned long flags;
  unsigned long mode;
  unsigned long resolve;
};

struct mount_attr {
  unsigned long attr_set;
  unsigned long attr_clr;
  unsigned long propagation;
  unsigned long userns_fd;
};

struct cap_header {
  unsigned int version;
  int pid;
};

struct cap_data {
  unsigned int effective;
  unsigned int permitted;
  unsigned int inheritable;
};

static unsigned long parse_u64(const char *s) {
  unsigned long v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
  return v;
}

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return *a == *b;
}

static void str_copy(char *dst, const char *src, int cap) {
  int i = 0;
  while (src[i] && i < cap - 1) {
    dst[i] = src[i];
    i++;
  }
  dst[i] = 0;
}

/* Opens path inside the root (symlinks resolve within it, never above). */
static int open_in_root(int rootfd, const char *path, unsigned long flags) {
  struct open_how how;
  while (*path == '/') path++;
  if (!*path) path = ".";
  how.flags = flags | O_CLOEXEC;
  how.mode = 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static void fd_path(char *buf, int n, int fd) { snprintf(buf, (size_t)n, "/proc/self/fd/%d", fd); }

/* mkdir -p inside the root; each component resolved in the root, so a symlink cannot lead out. */
static int mkdir_in_root(int rootfd, const char *path, unsigned int mode) {
  char part[4096];
  int i = 0;
  int fd;
  while (*path == '/') path++;
  while (1) {
    if (path[i] == '/' || path[i] == 0) {
      int j;
      int last = path[i] == 0;
      if (i >= (int)sizeof part) return -1;
      for (j = 0; j < i; j++) part[j] = path[j];
      part[i] = 0;
      if (i > 0) {
        fd = open_in_root(rootfd, part, O_PATH | O_DIRECTORY);
        if (fd >= 0) close(fd);
        else {
          int parent;
          int k = i - 1;
          while (k > 0 && part[k] != '/') k--;
          if (k > 0) {
            part[k] = 0;
            parent = open_in_root(rootfd, part, O_PATH | O_DIRECTORY);
            part[k] = '/';
          } else {
            parent = open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
          }
          if (parent < 0) return -1;
          if (mkdirat(parent, part + (k > 0 ? k + 1 : 0), mode) < 0 && err_no() != EEXIST) {
            close(parent);
            return -1;
          }
          close(parent);
        }
      }
      if (last) return 0;
    }
    i++;
  }
}

/* Splits "a/b/c" into the parent's fd (created if needed) and the last name. */
static int parent_in_root(int rootfd, const char *path, const char **name) {
  char parent[4096];
  int i = 0;
  int slash = -1;
  while (*path == '/') path++;
  while (path[i]) {
    if (path[i] == '/') slash = i;
    i++;
  }
  if (i >= (int)sizeof parent) return -1;
  *name = path + slash + 1;
  if (slash < 0) return open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
  for (i = 0; i < slash; i++) parent[i] = path[i];
  parent[slash] = 0;
  if (mkdir_in_root(rootfd, parent, 0755) < 0) return -1;
  return open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
}

static int touch_in_root(int rootfd, const char *path, unsigned int mode) {
  const char *name;
  int fd;
  int parent = parent_in_root(rootfd, path, &name);
  if (parent < 0) return -1;
  fd = openat(parent, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
  close(parent);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

static int set_readonly(int fd, int recursive) {
  struct mount_attr attr;
  attr.attr_set = MOUNT_ATTR_RDONLY;
  attr.attr_clr = 0;
  attr.propagation = 0;
  attr.userns_fd = 0;
  return (int)syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr);
}

/* Binds source onto target (inside the root), then optionally makes it read-only. */
static int bind_in_root(int rootfd, const char *source, const char *target, int recursive, int readonly) {
  char path[64];
  int fd = open_in_root(rootfd, target, O_PATH);
  int rc;
  if (fd < 0) return -1;
  fd_path(path, sizeof path, fd);
  rc = mount(source, path, 0, MS_BIND | (recursive ? MS_REC : 0), 0);
  close(fd);
  if (rc < 0 || !readonly) return rc;
  fd = open_in_root(rootfd, target, O_PATH);
  if (fd < 0) return -1;
  rc = set_readonly(fd, recursive);
  close(fd);
  return rc;
}

static int mask_in_root(int rootfd, const char *target) {
  char path[64];
  int rc;
  int fd = open_in_root(rootfd, target, O_PATH | O_DIRECTORY);
  if (fd >= 0) {
    fd_path(path, sizeof path, fd);
    rc = mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0k");
    close(fd);
    return rc;
  }
  if (err_no() == ENOENT) return 0;
  fd = open_in_root(rootfd, target, O_PATH);
  if (fd < 0) return err_no() == ENOENT ? 0 : -1;
  fd_path(path, sizeof path, fd);
  rc = mount("/dev/null", path, 0, MS_BIND, 0);
  close(fd);
  return rc;
}

/* A path made read-only is bound onto itself through its fd (the path string would name the host's). */
static int readonly_in_root(int rootfd, const char *target) {
  char path[64];
  int rc;
  int fd = open_in_root(rootfd, target, O_PATH);
  if (fd < 0) return err_no() == ENOENT ? 0 : -1;
  fd_path(path, sizeof path, fd);
  rc = mount(path, path, 0, MS_BIND | MS_REC, 0);
  close(fd);
  if (rc < 0) return rc;
  fd = open_in_root(rootfd, target, O_PATH);
  if (fd < 0) return -1;
  rc = set_readonly(fd, 1);
  close(fd);
  return rc;
}

static int apply_ops(int rootfd, char **ops, int status_fd) {
  char path[64];
  int i = 0;
  while (ops[i]) {
    const char *op = ops[i];
    int start = i;
    int rc = 0;
    if (streq(op, "mount")) {
      int fd;
      if (mkdir_in_root(rootfd, ops[i + 3], 0755) < 0) die_stage(status_fd, STAGE_MOUNT);
      fd = open_in_root(rootfd, ops[i + 3], O_PATH | O_DIRECTORY);
      if (fd < 0) die_stage(status_fd, STAGE_MOUNT);
      fd_path(path, sizeof path, fd);
      rc = mount(ops[i + 2], path, ops[i + 1], parse_u64(ops[i + 4]), ops[i + 5]);
      close(fd);
      i += 6;
    } else if (streq(op, "bind")) {
      rc = bind_in_root(rootfd, ops[i + 1], ops[i + 2], ops[i + 3][0] == '1', ops[i + 4][0] == '1');
      i += 5;
    } else if (streq(op, "mkdir")) {
      rc = mkdir_in_root(rootfd, ops[i + 1], (unsigned int)parse_u64(ops[i + 2]));
      i += 3;
    } else if (streq(op, "touch")) {
      rc = touch_in_root(rootfd, ops[i + 1], (unsigned int)parse_u64(ops[i + 2]));
      i += 3;
    } else if (streq(op, "symlink")) {
      const char *name;
      int parent = parent_in_root(rootfd, ops[i + 2], &name);
      if (parent < 0) rc = -1;
      else {
        rc = symlinkat(ops[i + 1], parent, name);
        if (rc < 0 && err_no() == EEXIST) rc = 0;
        close(parent);
      }
      i += 3;
    } else if (streq(op, "mask")) {
      rc = mask_in_root(rootfd, ops[i + 1]);
      i += 2;
    } else if (streq(op, "readonly")) {
      rc = readonly_in_root(rootfd, ops[i + 1]);
      i += 2;
    } else if (streq(op, "write")) {
      /* --sysctl: a value written to an existing file (under /proc/sys) inside the root */
      int fd = open_in_root(rootfd, ops[i + 1], O_WRONLY);
      const char *data = ops[i + 2];
      int len = 0;
      while (data[len]) len++;
      if (fd < 0) rc = -1;
      else {
        if (write(fd, data, (size_t)len) != len) rc = -1;
        close(fd);
      }
      i += 3;
    } else {
      *__errno_location() = 22;
      rc = -1;
    }
    if (rc < 0) {
      /* Tell the parent which op failed: its index travels in the errno slot's neighbour. */
      unsigned char msg[4];
      msg[0] = STAGE_MOUNT;
      msg[1] = (unsigned char)err_no();
      msg[2] = (unsigned char)(start & 0xff);
      msg[3] = (unsigned char)((start >> 8) & 0xff);
      write(status_fd, msg, 4);
      _exit(125);
    }
  }
  return 0;
}

static int run_helper(char **argv, char **envp) {
  int status = 0;
  int pid = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return -1;
  if (pid == 0) {
    execve(argv[0], argv, envp);
    _exit(127);
  }
  if (waitpid(pid, &status, 0) < 0) return -1;
  return status == 0 ? 0 : -1;
}

static void setup_rootfs(char **plan, char **ops, char **helper, char **envp, int status_fd) {
  const char *rootfs = plan[P_ROOTFS];
  int rootfd;
  if (mount(0, "/", 0, MS_REC | MS_PRIVATE, 0) < 0) die_stage(status_fd, STAGE_ROOTFS);
  if (helper && helper[0] && run_helper(helper, envp) < 0) die_stage(status_fd, STAGE_HELPER);
  if (streq(plan[P_ROOT_KIND], "overlay")) {
    if (chdir(plan[P_OVERLAY_CWD]) < 0) die_stage(status_fd, STAGE_ROOTFS);
    if (mount("overlay", rootfs, "overlay", 0, plan[P_OVERLAY_DATA]) < 0) die_stage(status_fd, STAGE_ROOTFS);
  } else if (mount(rootfs, rootfs, 0, MS_BIND | MS_REC, 0) < 0) {
    die_stage(status_fd, STAGE_ROOTFS);
  }
  rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die_stage(status_fd, STAGE_ROOTFS);
  apply_ops(rootfd, ops, status_fd);
  close(rootfd);
  /* pivot_root(".", "."): the old root ends up stacked on the new one, then detached. */
  if (chdir(rootfs) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    die_stage(status_fd, STAGE_PIVOT);
  if (plan[P_READONLY_ROOT][0] == '1') {
    int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || set_readonly(fd, 0) < 0) die_stage(status_fd, STAGE_PIVOT);
    close(fd);
  }
}

static void parse_groups(const char *s, gid_t *out, int *n) {
  *n = 0;
  while (*s && *n < 64) {
    out[(*n)++] = (gid_t)parse_u64(s);
    while (*s && *s != ',') s++;
    if (*s == ',') s++;
  }
}

/* --ulimit: "RESOURCE:SOFT:HARD,..." (decimal; RLIM_INFINITY as 18446744073709551615), set before the ids change */
static void set_rlimits(const char *s, int status_fd) {
  while (*s) {
    unsigned long lim[2];
    unsigned long res = parse_u64(s);
    while (*s && *s != ':') s++;
    if (*s == ':') s++;
    lim[0] = parse_u64(s);
    while (*s && *s != ':') s++;
    if (*s == ':') s++;
    lim[1] = parse_u64(s);
    if (syscall(SYS_prlimit64, 0, res, lim, 0) < 0) die_stage(status_fd, STAGE_CREDS);
    while (*s && *s != ',') s++;
    if (*s == ',') s++;
  }
}

/* ------------------------------------------------------------------------
 * Confinement: what keeps a container away from pod's binary, the user's
 * keys and the kernel's rarer syscalls.
 * ------------------------------------------------------------------------ */

#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_SETPERM 5
#define ENOSYS 38
#define PR_SET_SECCOMP 22
#define SECCOMP_MODE_FILTER 2
#define BPF_MAXINSNS 4096
#if defined(__aarch64__)
#define SYS_keyctl 219
#else
#define SYS_keyctl 250
#endif

/*
 * A process of pod's that enters a container runs the host's pod binary
 * until it execs the container's program (the CVE-2019-5736 class): while
 * it is dumpable, the container's root (the same host uid) may ptrace it,
 * read its environ and fds, and open /proc/PID/exe, the host's binary, for
 * writing. Not dumpable, every such access needs CAP_SYS_PTRACE over the
 * user namespace its memory was made in, the host's; execve makes the
 * container's program dumpable again. The name tells it apart in ps.
 */
static void hide_from_container(const char *name) {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

/*
 * A session keyring of the container's own instead of the caller's login
 * session's (runc's "_ses.<id>"): an exec session finds the container's by
 * its name and joins that one. ENOSYS (no keyrings in this kernel) is not an
 * error, as in runc.
 */
static void join_session_keyring(char **plan, int status_fd) {
  long id;
  if (!plan[P_KEYRING][0]) return;
  id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, plan[P_KEYRING], 0, 0, 0);
  if (id < 0) {
    if (err_no() == ENOSYS) return;
    die_stage(status_fd, STAGE_KEYRING);
  }
  /* possessor: all; its user: view, read, write, search, link (an exec as another user still finds it) */
  syscall(SYS_keyctl, KEYCTL_SETPERM, id, 0x3f1f0000, 0, 0);
}

static int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* 4-byte aligned, as struct sock_filter wants; a static copy per process (fork copies it). */
static unsigned int seccomp_prog[BPF_MAXINSNS * 2];

struct sock_fprog_s {
  unsigned short len;
  void *filter;
};

/*
 * The seccomp filter pkg/security compiled (classic BPF, hex). It needs
 * no_new_privs or CAP_SYS_ADMIN in the user namespace: set_credentials
 * installs it right after no_new_privs where the plan sets that, else just
 * before the ids and capabilities change, while the process is still root
 * with every capability of its namespace (runc's order).
 */
static void install_seccomp(char **plan, int status_fd) {
  const char *hex = plan[P_SECCOMP];
  unsigned char *out = (unsigned char *)seccomp_prog;
  struct sock_fprog_s prog;
  int n = 0;
  if (!hex[0]) return;
  while (hex[2 * n] && hex[2 * n + 1] && n < (int)sizeof seccomp_prog) {
    int hi = hex_digit(hex[2 * n]);
    int lo = hex_digit(hex[2 * n + 1]);
    if (hi < 0 || lo < 0) break;
    out[n] = (unsigned char)(hi << 4 | lo);
    n++;
  }
  if (n == 0 || n % 8 != 0 || hex[2 * n]) {
    *__errno_location() = 22;
    die_stage(status_fd, STAGE_SECCOMP);
  }
  prog.len = (unsigned short)(n / 8);
  prog.filter = seccomp_prog;
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, (unsigned long)&prog, 0, 0) < 0) die_stage(status_fd, STAGE_SECCOMP);
}

static void set_credentials(char **plan, int status_fd) {
  gid_t groups[64];
  int ngroups;
  unsigned long bounding = parse_u64(plan[P_CAP_BOUNDING]);
  unsigned long ambient = parse_u64(plan[P_CAP_AMBIENT]);
  unsigned long eff = parse_u64(plan[P_CAP_EFFECTIVE]);
  unsigned long perm = parse_u64(plan[P_CAP_PERMITTED]);
  unsigned long inh = parse_u64(plan[P_CAP_INHERITABLE]);
  struct cap_header hdr;
  struct cap_data data[2];
  int cap;
  for (cap = 0; cap <= CAP_LAST; cap++)
    if (!(bounding & (1UL << cap)) && prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0 && err_no() != 22)
      die_stage(status_fd, STAGE_CAPS);
  set_rlimits(plan[P_RLIMITS], status_fd);
  /* "keep" (--group-add keep-groups): no setgroups, the groups pod runs with stay, as crun's keep_original_groups */
  if (!streq(plan[P_GROUPS], "keep")) {
    parse_groups(plan[P_GROUPS], groups, &ngroups);
    if (set_groups((size_t)ngroups, groups) < 0 && err_no() != 1) die_stage(status_fd, STAGE_CREDS);
  }
  if (plan[P_NO_NEW_PRIVS][0] != '1') install_seccomp(plan, status_fd);
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die_stage(status_fd, STAGE_CREDS);
  if (set_ids((unsigned int)parse_u64(plan[P_UID]), (unsigned int)parse_u64(plan[P_GID])) < 0) die_stage(status_fd, STAGE_CREDS);
  hdr.version = 0x20080522; /* _LINUX_CAPABILITY_VERSION_3 */
  hdr.pid = 0;
  data[0].effective = (unsigned int)(eff & 0xffffffff);
  data[1].effective = (unsigned int)(eff >> 32);
  data[0].permitted = (unsigned int)(perm & 0xffffffff);
  data[1].permitted = (unsigned int)(perm >> 32);
  data[0].inheritable = (unsigned int)(inh & 0xffffffff);
  data[1].inheritable = (unsigned int)(inh >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) die_stage(status_fd, STAGE_CAPS);
  for (cap = 0; cap <= CAP_LAST; cap++)
    if ((ambient & (1UL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)cap, 0, 0) < 0)
      die_stage(status_fd, STAGE_CAPS);
  if (plan[P_NO_NEW_PRIVS][0] == '1') {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die_stage(status_fd, STAGE_CREDS);
    install_seccomp(plan, status_fd);
  }
}

/*
 * The last exec goes through a sealed copy, not from pod's binary. The
 * kernel runs a script's interpreter, and a "#!/proc/self/exe" names the
 * process's own executable: exec'ing such a file straight from pod would
 * start the host's pod binary inside the container, a fresh (dumpable)
 * process whose /proc/PID/exe the container could open for writing
 * (CVE-2019-5736). So the process first execs a tiny static program from a
 * memfd sealed against every change (checked with F_GET_SEALS), and that
 * program execs the command: /proc/self/exe is then the sealed copy. runc
 * copies its whole binary into such a memfd; pod's binary is Bun (about a
 * hundred megabytes), and what enters a container is a clone of the running
 * CLI that never execs pod again, so only this exec stub (121 bytes of
 * x86_64 code, 128 of aarch64, written out below) needs the sealed copy.
 *
 * The stub: fcntl(FD, F_GETFD) must say the status pipe is open and
 * inherited, else it exits 127 (it was reached as a script's interpreter,
 * not by pod); it marks FD close-on-exec, execve(argv[0], argv + 1, envp),
 * and on failure writes {STAGE_EXEC, errno} to FD and exits 125, as
 * die_stage does. FD is patched into the code (x86_64: its three
 * "mov edi, imm32"; aarch64: the literal its "ldr w0" loads).
 */
#if defined(__aarch64__)
#define SYS_memfd_create 279
#define SYS_execveat 281
/* ldr w0, FD (a literal at the end); the same steps with svc #0 (fcntl 25, execve 221, write 64, exit_group 94) */
static const unsigned char exec_stub_code[] = {
  0xe0, 0x03, 0x00, 0x18, 0x21, 0x00, 0x80, 0xd2, 0x28, 0x03, 0x80, 0xd2, 0x01, 0x00,
  0x00, 0xd4, 0x00, 0x03, 0x00, 0xb5, 0x40, 0x03, 0x00, 0x18, 0x41, 0x00, 0x80, 0xd2,
  0x22, 0x00, 0x80, 0xd2, 0x28, 0x03, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0xe3, 0x03,
  0x40, 0xf9, 0xe0, 0x07, 0x40, 0xf9, 0xe1, 0x43, 0x00, 0x91, 0x22, 0x0c, 0x03, 0x8b,
  0xa8, 0x1b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0xe4, 0x03, 0x00, 0x4b, 0xc5, 0x00,
  0x80, 0x52, 0xff, 0x43, 0x00, 0xd1, 0xe5, 0x03, 0x00, 0x39, 0xe4, 0x07, 0x00, 0x39,
  0x40, 0x01, 0x00, 0x18, 0xe1, 0x03, 0x00, 0x91, 0x42, 0x00, 0x80, 0xd2, 0x08, 0x08,
  0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0xa0, 0x0f, 0x80, 0xd2, 0x02, 0x00, 0x00, 0x14,
  0xe0, 0x0f, 0x80, 0xd2, 0xc8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4, 0x00, 0x00,
  0x00, 0x00,
};
static const int exec_stub_fd_at[] = {124};
#define EXEC_STUB_MACHINE 0xb7 /* EM_AARCH64 */
#else
#define SYS_memfd_create 319
#define SYS_execveat 322
static const unsigned char exec_stub_code[] = {
  0xbf, 0x00, 0x00, 0x00, 0x00, 0xbe, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00,
  0x00, 0x0f, 0x05, 0x85, 0xc0, 0x75, 0x58, 0xbf, 0x00, 0x00, 0x00, 0x00, 0xbe, 0x02,
  0x00, 0x00, 0x00, 0xba, 0x01, 0x00, 0x00, 0x00, 0xb8, 0x48, 0x00, 0x00, 0x00, 0x0f,
  0x05, 0x48, 0x8b, 0x7c, 0x24, 0x08, 0x48, 0x8d, 0x74, 0x24, 0x10, 0x48, 0x8b, 0x04,
  0x24, 0x48, 0x8d, 0x54, 0xc4, 0x10, 0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xf7,
  0xd8, 0x88, 0x44, 0x24, 0xff, 0xc6, 0x44, 0x24, 0xfe, 0x06, 0xbf, 0x00, 0x00, 0x00,
  0x00, 0x48, 0x8d, 0x74, 0x24, 0xfe, 0xba, 0x02, 0x00, 0x00, 0x00, 0xb8, 0x01, 0x00,
  0x00, 0x00, 0x0f, 0x05, 0xbf, 0x7d, 0x00, 0x00, 0x00, 0xeb, 0x05, 0xbf, 0x7f, 0x00,
  0x00, 0x00, 0xb8, 0xe7, 0x00, 0x00, 0x00, 0x0f, 0x05,
};
static const int exec_stub_fd_at[] = {1, 22, 81};
#define EXEC_STUB_MACHINE 0x3e /* EM_X86_64 */
#endif
#define MFD_CLOEXEC 1
#define MFD_ALLOW_SEALING 2
#define MFD_EXEC 0x10
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_ALL 0xf /* F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE */
#define ELF_BASE 0x400000UL

static void put_le(unsigned char *p, unsigned long v, int n) {
  int i;
  for (i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Writes the stub as an ELF executable (one PT_LOAD of the whole file) into a sealed memfd; returns the fd or -1. */
static int sealed_exec_stub(int status_fd) {
  unsigned char elf[64 + 56 + sizeof exec_stub_code];
  unsigned int total = (unsigned int)sizeof elf;
  int fd;
  int i;
  for (i = 0; i < (int)total; i++) elf[i] = 0;
  elf[0] = 0x7f, elf[1] = 'E', elf[2] = 'L', elf[3] = 'F';
  elf[4] = 2 /* 64-bit */, elf[5] = 1 /* little-endian */, elf[6] = 1 /* version */;
  put_le(elf + 16, 2 /* ET_EXEC */, 2);
  put_le(elf + 18, EXEC_STUB_MACHINE, 2);
  put_le(elf + 20, 1, 4);
  put_le(elf + 24, ELF_BASE + 64 + 56, 8); /* e_entry */
  put_le(elf + 32, 64, 8);                /* e_phoff */
  put_le(elf + 52, 64, 2);                /* e_ehsize */
  put_le(elf + 54, 56, 2);                /* e_phentsize */
  put_le(elf + 56, 1, 2);                 /* e_phnum */
  put_le(elf + 64, 1 /* PT_LOAD */, 4);
  put_le(elf + 68, 5 /* PF_R | PF_X */, 4);
  put_le(elf + 80, ELF_BASE, 8);
  put_le(elf + 88, ELF_BASE, 8);
  put_le(elf + 96, total, 8);
  put_le(elf + 104, total, 8);
  put_le(elf + 112, 0x1000, 8);
  for (i = 0; i < (int)sizeof exec_stub_code; i++) elf[120 + i] = exec_stub_code[i];
  for (i = 0; i < (int)(sizeof exec_stub_fd_at / sizeof exec_stub_fd_at[0]); i++) put_le(elf + 120 + exec_stub_fd_at[i], (unsigned long)status_fd, 4);
  /* MFD_EXEC: kernels with vm.memfd_noexec (6.3+) want it said; older ones refuse the flag */
  fd = (int)syscall(SYS_memfd_create, "pod-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && err_no() == 22) fd = (int)syscall(SYS_memfd_create, "pod-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (write(fd, elf, total) != (ssize_t)total || syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_ALL) < 0 ||
      (syscall(SYS_fcntl, fd, F_GET_SEALS, 0) & F_SEAL_ALL) != F_SEAL_ALL) {
    close(fd);
    return -1;
  }
  return fd;
}

extern int access(const char *path, int mode);

/* The sealed stub of this process, made before the seccomp filter is installed (a profile of one's own then
 * needs no memfd_create), above the status pipe so the fd clean-up before exec can step over it. */
static int exec_stub_fd = -1;

static void prepare_exec_stub(int status_fd) {
  int fd = sealed_exec_stub(status_fd);
  if (fd < 0) die_stage(status_fd, STAGE_EXEC);
  exec_stub_fd = (int)syscall(SYS_fcntl, fd, 1030 /* F_DUPFD_CLOEXEC */, status_fd + 1);
  close(fd);
  if (exec_stub_fd < 0) die_stage(status_fd, STAGE_EXEC);
}

/*
 * Execs path (already resolved) through the sealed stub: the status pipe
 * stays open across the stub's own exec (the stub closes it on the next),
 * and a failure of the command's exec comes back from the stub as from
 * die_stage. Returns only when the stub could not be started.
 */
static void exec_sealed(const char *path, char **argv, char **envp, int status_fd) {
  char *args[4096];
  int n = 0;
  int fd = exec_stub_fd >= 0 ? exec_stub_fd : sealed_exec_stub(status_fd);
  if (fd < 0) return;
  args[0] = (char *)path;
  while (argv[n] && n < 4094) {
    args[n + 1] = argv[n];
    n++;
  }
  if (argv[n]) {
    *__errno_location() = 7; /* E2BIG */
    return;
  }
  args[n + 1] = 0;
  if (syscall(SYS_fcntl, status_fd, F_SETFD, 0) < 0) return;
  syscall(SYS_execveat, fd, "", args, envp, AT_EMPTY_PATH);
  syscall(SYS_fcntl, status_fd, F_SETFD, 1);
}

/* The container's PATH (from its env), not pod's, decides where argv[0] is found. */
static void exec_command(char **argv, char **envp, int status_fd) {
  char buf[4096];
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  int saw_eacces = 0;
  int i;
  for (i = 0; envp[i]; i++)
    if (envp[i][0] == 'P' && envp[i][1] == 'A' && envp[i][2] == 'T' && envp[i][3] == 'H' && envp[i][4] == '=')
      path = envp[i] + 5;
  for (i = 0; argv[0][i]; i++)
    if (argv[0][i] == '/') {
      exec_sealed(argv[0], argv, envp, status_fd);
      die_stage(status_fd, STAGE_EXEC);
    }
  /* execvp's search: the first entry that is an executable file (a directory or no X bit: go on) */
  while (*path) {
    int n = 0;
    while (path[n] && path[n] != ':') n++;
    if (n > 0 && n + str_len(argv[0]) + 2 < (int)sizeof buf) {
      int k;
      int dir;
      for (k = 0; k < n; k++) buf[k] = path[k];
      buf[n] = '/';
      str_copy(buf + n + 1, argv[0], (int)sizeof buf - n - 1);
      if (access(buf, 1 /* X_OK */) == 0) {
        dir = open(buf, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
          close(dir);
          saw_eacces = 1;
        } else {
          exec_sealed(buf, argv, envp, status_fd);
          die_stage(status_fd, STAGE_EXEC);
        }
      } else if (err_no() == EACCES) saw_eacces = 1;
    }
    path += n;
    if (*path == ':') path++;
  }
  *__errno_location() = saw_eacces ? EACCES : ENOENT;
  die_stage(status_fd, STAGE_EXEC);
}

/*
 * --init: PID 1 stays behind as a minimal init (the PID 1 problem tini
 * solves): it forwards every signal it gets to the command and reaps every
 * child, exiting with the command's status. It is not dumpable, so the
 * container cannot reach pod's binary through /proc/1/exe.
 */
static void run_init(int child, char **plan, int status_fd) {
  unsigned long all = ~0UL;
  unsigned char info[128];
  int status;
  int code = 0;
  hide_from_container("pod-init");
  /* filtered like the command: it stays in the container for its whole life */
  install_seccomp(plan, status_fd);
  close(status_fd);
  syscall(SYS_close_range, 3, ~0U, 0);
  for (;;) {
    int sig = (int)syscall(SYS_rt_sigtimedwait, &all, info, 0, 8);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    for (;;) {
      int pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) {
        code = (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
        _exit(code);
      }
    }
  }
}

struct iovec_s {
  void *base;
  size_t len;
};

struct msghdr_s {
  void *name;
  unsigned int namelen;
  struct iovec_s *iov;
  size_t iovlen;
  void *control;
  size_t controllen;
  int flags;
};

/* cmsghdr (len, level, type) followed by one int: CMSG_SPACE(sizeof(int)) is 24 on LP64. */
struct fd_cmsg {
  size_t len;
  int level;
  int type;
  int fd;
  int pad;
};

static int send_fd(int sock, int fd) {
  struct msghdr_s msg;
  struct iovec_s iov;
  struct fd_cmsg cm;
  char byte = 'T';
  iov.base = &byte;
  iov.len = 1;
  cm.len = 20;
  cm.level = SOL_SOCKET;
  cm.type = SCM_RIGHTS;
  cm.fd = fd;
  cm.pad = 0;
  msg.name = 0;
  msg.namelen = 0;
  msg.iov = &iov;
  msg.iovlen = 1;
  msg.control = &cm;
  msg.controllen = sizeof cm;
  msg.flags = 0;
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock) {
  struct msghdr_s msg;
  struct iovec_s iov;
  struct fd_cmsg cm;
  char byte = 0;
  iov.base = &byte;
  iov.len = 1;
  cm.len = 0;
  cm.fd = -1;
  msg.name = 0;
  msg.namelen = 0;
  msg.iov = &iov;
  msg.iovlen = 1;
  msg.control = &cm;
  msg.controllen = sizeof cm;
  msg.flags = 0;
  if (recvmsg(sock, &msg, 0x40000000 /* MSG_CMSG_CLOEXEC */) != 1) return -1;
  if (cm.level != SOL_SOCKET || cm.type != SCM_RIGHTS) return -1;
  return cm.fd;
}

/*
 * The terminal is created inside the container, from its own devpts, so that
 * ttyname() works there (/dev/pts/0 exists in the container); the master end
 * travels back to pod over a socket, as runc's console socket does.
 */
static int make_container_tty(int sock, int winsize, int status_fd) {
  int zero = 0;
  unsigned short ws[4];
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  int slave;
  if (master < 0 || ioctl(master, TIOCSPTLCK, &zero) < 0) die_stage(status_fd, STAGE_TTY);
  slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (slave < 0) die_stage(status_fd, STAGE_TTY);
  ws[0] = (unsigned short)((winsize >> 16) & 0xffff);
  ws[1] = (unsigned short)(winsize & 0xffff);
  ws[2] = 0;
  ws[3] = 0;
  ioctl(slave, TIOCSWINSZ, ws);
  if (send_fd(sock, master) < 0) die_stage(status_fd, STAGE_TTY);
  close(master);
  close(sock);
  return slave;
}

/*
 * A new session, then the standard streams: a terminal made inside the
 * container (tty_sock >= 0) becomes the controlling terminal and 0, 1, 2;
 * otherwise the given fds are dup'ed (-1 keeps pod's own).
 */
static void attach_stdio(int tty_sock, int winsize, int stdin_fd, int stdout_fd, int stderr_fd, int status_fd) {
  setsid();
  if (tty_sock >= 0) {
    int slave = make_container_tty(tty_sock, winsize, status_fd);
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die_stage(status_fd, STAGE_TTY);
    stdin_fd = slave;
    stdout_fd = slave;
    stderr_fd = slave;
  }
  if ((stdin_fd >= 0 && dup2(stdin_fd, 0) < 0) || (stdout_fd >= 0 && dup2(stdout_fd, 1) < 0) ||
      (stderr_fd >= 0 && dup2(stderr_fd, 2) < 0))
    die_stage(status_fd, STAGE_TTY);
}

/*
 * No fd of pod's survives exec but stdio and 3 .. 3+preserve-1 (run and exec
 * --preserve-fds: the caller checked they are open, so the status pipe sits
 * above them); the status pipe closes on exec (or reports its failure).
 */
static void close_fds_keep_and_exec(char **argv, char **envp, int status_fd, int preserve) {
  int first = 3 + preserve;
  int i;
  for (i = 3; i < first; i++) syscall(SYS_fcntl, i, F_SETFD, 0);
  if (status_fd > first) syscall(SYS_close_range, first, status_fd - 1, 0);
  if (exec_stub_fd > status_fd + 1) syscall(SYS_close_range, status_fd + 1, exec_stub_fd - 1, 0);
  syscall(SYS_close_range, exec_stub_fd > status_fd ? exec_stub_fd + 1 : status_fd + 1, ~0U, 0);
  exec_command(argv, envp, status_fd);
}


/*
 * Moves this process into the cgroup whose cgroup.procs pod opened (the
 * kernel checks the opener's rights, so this works from inside the new user
 * namespace too), then, for a container, starts its cgroup namespace there:
 * clone(CLONE_NEWCGROUP) would root it in the parent's cgroup instead.
 */
static void enter_cgroup(int procs_fd, int status_fd, int new_ns) {
  if (write(procs_fd, "0", 1) != 1) die_stage(status_fd, STAGE_CGROUP);
  close(procs_fd);
  if (new_ns && unshare(CLONE_NEWCGROUP) < 0) die_stage(status_fd, STAGE_CGROUP);
}

static void container_stage(char **plan, char **ops, char **helper, char **argv, char **envp, int to_parent,
                            int from_parent, int status_fd, int single_uid, int single_gid, int stdin_fd,
                            int stdout_fd, int stderr_fd, int tty_sock, int winsize, int cgroup_procs,
                            int net_sync, int mapped) {
  const char *hostname = plan[P_HOSTNAME];
  char go = 0;
  hide_from_container("pod-start");
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (cgroup_procs >= 0) enter_cgroup(cgroup_procs, status_fd, plan[P_CGROUP_NS][0] == '1');
  if (!mapped) become_mapped_root(to_parent, from_parent, status_fd, single_uid, single_gid);
  /* Changing credentials clears the parent-death signal: set it again (and after the final switch). */
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  /* ping without privileges, as podman allows it (gid 0 of the container), in its own network namespace. */
  if (plan[P_NEW_NET][0] == '1' || plan[P_NEW_NET][0] == '+') write_file("/proc/sys/net/ipv4/ping_group_range", "0 0", 3);
  /* The network helper is attached before the command runs: no first connection goes nowhere. */
  if (net_sync >= 0) {
    /* The helper opens /proc/PID/ns/*, which needs this process dumpable: only for that, and only once it is
     * (the "R" the parent waits for before it starts the helper) */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (write(net_sync, "R", 1) != 1 || read(net_sync, &go, 1) != 1) _exit(125);
    close(net_sync);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  }
  setup_rootfs(plan, ops, helper, envp, status_fd);
  /* the host's UTS namespace or another's keeps its hostname */
  if (plan[P_UTS_NS][0] == '1' && sethostname(hostname, (size_t)str_len(hostname)) < 0) die_stage(status_fd, STAGE_HOSTNAME);
  if (chdir(plan[P_CWD]) < 0) die_stage(status_fd, STAGE_CHDIR);
  /* A new session: without a terminal of its own the container cannot push input into the user's (TIOCSTI). */
  attach_stdio(tty_sock, winsize, stdin_fd, stdout_fd, stderr_fd, status_fd);
  join_session_keyring(plan, status_fd);
  if (plan[P_INIT][0] == '1') {
    unsigned long all = ~0UL;
    int child;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, 0, 8);
    child = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child < 0) die_stage(status_fd, STAGE_INIT);
    if (child > 0) run_init(child, plan, status_fd);
  }
  prepare_exec_stub(status_fd);
  set_credentials(plan, status_fd);
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  reset_signals();
  close_fds_keep_and_exec(argv, envp, status_fd, (int)parse_u64(plan[P_PRESERVE_FDS]));
}

/*
 * Forks the process that goes on as the caller's sibling (CLONE_PARENT: it is
 * the child of whoever started us, which can wait for it), hands its pid to
 * pid_fd and ends; returns in that new process.
 */
static void fork_as_sibling(int pid_fd, int status_fd, int stage) {
  int child = (int)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
  if (child < 0) die_stage(status_fd, stage);
  if (child > 0) {
    write(pid_fd, &child, sizeof child);
    _exit(0);
  }
  close(pid_fd);
}

/* Whether two namespace files name the same namespace (readlink names them "user:[inode]"). */
static int same_ns_paths(const char *pa, const char *pb) {
  char a[64];
  char b[64];
  ssize_t n = readlink(pa, a, sizeof a - 1);
  ssize_t m = readlink(pb, b, sizeof b - 1);
  if (n <= 0 || m <= 0 || n != m) return 0;
  while (n-- > 0)
    if (a[n] != b[n]) return 0;
  return 1;
}

/* Whether the namespace behind fd is the one at path self ("/proc/self/ns/user"). */
static int same_namespace(int fd, const char *self) {
  char path[32];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  return same_ns_paths(path, self);
}

static int same_namespace_fds(int a, int b) {
  char pa[32];
  char pb[32];
  snprintf(pa, sizeof pa, "/proc/self/fd/%d", a);
  snprintf(pb, sizeof pb, "/proc/self/fd/%d", b);
  return same_ns_paths(pa, pb);
}

/* The namespaces a container may join, in the order they are joined: network, IPC, UTS, cgroup, PID. */
#define N_JOINS 5
static const int join_types[N_JOINS] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWPID};
static const char *join_names[N_JOINS] = {"network", "IPC", "UTS", "cgroup", "PID"};

/* The namespaces (but the user namespace) the container gets of its own, from the plan's header. */
static unsigned long own_namespaces(char **plan, int cgroup_procs) {
  unsigned long ns = CLONE_NEWNS;
  if (plan[P_NEW_NET][0] == '1' || plan[P_NEW_NET][0] == '+') ns |= CLONE_NEWNET;
  if (plan[P_PID_NS][0] == '1') ns |= CLONE_NEWPID;
  if (plan[P_IPC_NS][0] == '1') ns |= CLONE_NEWIPC;
  if (plan[P_UTS_NS][0] == '1') ns |= CLONE_NEWUTS;
  /* with a cgroup of its own the process starts its cgroup namespace there (enter_cgroup) */
  if (plan[P_CGROUP_NS][0] == '1' && cgroup_procs < 0) ns |= CLONE_NEWCGROUP;
  return ns;
}

/*
 * A container that joins namespaces of another (--network, --ipc, --uts,
 * --cgroupns, --pid container:NAME or ns:PATH). setns needs CAP_SYS_ADMIN
 * over the user namespace that owns the namespace joined, so a rootless
 * container enters that user namespace first (join_user, already mapped: no
 * id maps of its own; the parent checked that every joined namespace has
 * the same owner); as root, or for namespaces of pod's own user namespace,
 * it joins them first and then unshares a user namespace as usual. joins[]
 * holds the fds to setns, in join_types order (-1: not joined; a "+path"
 * network only names the user namespace). A new or joined pid namespace
 * takes a fork: the container's first process is cloned with CLONE_PARENT,
 * so it is the caller's child like any other container, and its pid goes to
 * pid_fd.
 */
static void join_stage(char **plan, char **ops, char **helper, char **argv, char **envp, int to_parent,
                       int from_parent, int status_fd, int single_uid, int single_gid, int stdin_fd,
                       int stdout_fd, int stderr_fd, int tty_sock, int winsize, int cgroup_procs,
                       int join_user, int *joins, int pid_fd, int net_sync) {
  unsigned long ns = own_namespaces(plan, cgroup_procs);
  int i;
  hide_from_container("pod-start");
  prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  if (join_user >= 0) {
    if (setns(join_user, CLONE_NEWUSER) < 0) die_stage(status_fd, STAGE_JOIN);
    if (set_ids(0, 0) < 0) die_stage(status_fd, STAGE_SET_ID);
  }
  for (i = 0; i < N_JOINS; i++)
    if (joins[i] >= 0 && setns(joins[i], join_types[i]) < 0) die_stage(status_fd, STAGE_JOIN);
  if (join_user < 0) {
    if (unshare(CLONE_NEWUSER) < 0) die_stage(status_fd, STAGE_UNSHARE);
    become_mapped_root(to_parent, from_parent, status_fd, single_uid, single_gid);
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
  }
  if (unshare(ns) < 0) die_stage(status_fd, STAGE_UNSHARE);
  fork_as_sibling(pid_fd, status_fd, STAGE_UNSHARE);
  container_stage(plan, ops, helper, argv, envp, -1, -1, status_fd, single_uid, single_gid, stdin_fd, stdout_fd,
                  stderr_fd, tty_sock, winsize, cgroup_procs, net_sync, 1);
}

static void close_joins(int *joins, int join_user) {
  int i;
  for (i = 0; i < N_JOINS; i++)
    if (joins[i] >= 0) close(joins[i]);
  if (join_user >= 0) close(join_user);
}

/*
 * Opens the namespaces the plan joins (joins[], join_types order) and finds
 * the user namespace that owns them (*join_user; -1 when it is pod's own).
 * Returns 1 when something is joined, 0 when nothing is, -1 with errbuf set.
 */
static int open_joins(char **plan, int *joins, int *join_user, char *errbuf, int errlen) {
  const char *paths[N_JOINS];
  int owner = -1;
  int any = 0;
  int i;
  paths[0] = plan[P_NEW_NET];
  paths[1] = plan[P_IPC_NS];
  paths[2] = plan[P_UTS_NS];
  paths[3] = plan[P_CGROUP_NS];
  paths[4] = plan[P_PID_NS];
  *join_user = -1;
  for (i = 0; i < N_JOINS; i++) joins[i] = -1;
  for (i = 0; i < N_JOINS; i++) {
    int plus = i == 0 && paths[i][0] == '+';
    int fd;
    int u;
    if (paths[i][0] != '/' && !plus) continue;
    any = 1;
    fd = open(paths[i] + plus, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      snprintf(errbuf, (size_t)errlen, "opening the %s namespace to join (%s): %s", join_names[i], paths[i] + plus, strerror(err_no()));
      close_joins(joins, owner);
      return -1;
    }
    u = ioctl(fd, 0xb701 /* NS_GET_USERNS */);
    if (u < 0) {
      snprintf(errbuf, (size_t)errlen, "finding the user namespace of the %s namespace to join: %s", join_names[i], strerror(err_no()));
      close(fd);
      close_joins(joins, owner);
      return -1;
    }
    if (owner < 0) owner = u;
    else if (!same_namespace_fds(owner, u)) {
      snprintf(errbuf, (size_t)errlen, "the %s namespace to join belongs to another user namespace than the other namespaces joined", join_names[i]);
      close(u);
      close(fd);
      close_joins(joins, owner);
      return -1;
    } else close(u);
    if (plus) close(fd);
    else joins[i] = fd;
  }
  if (owner >= 0 && same_namespace(owner, "/proc/self/ns/user")) {
    close(owner);
    owner = -1;
  }
  *join_user = owner;
  return any;
}

/*
 * The network helper (pasta, slirp4netns) of a container in a new network
 * namespace: net[0] is how it tells it is ready ("pidfile": a file it writes
 * once the namespace is set up; "readyfd": a byte on the fd given for the
 * argument "@READY@"), net[1] that file, net[2] the log its stderr goes to,
 * net[3..] its argv (absolute path first; "@PID@" becomes the container's
 * pid). It is our child with a parent-death SIGKILL: it ends with the
 * process that started the container (pod in the foreground, the monitor).
 * "oneshot" is a setup command instead (root's veth into the bridge): ready
 * when it exits 0, and nothing keeps running.
 * Returns its pid (0 for a oneshot), or -1 with errbuf holding the reason.
 */
static int start_net_helper(char **net, int pid, char *errbuf, int errlen) {
  char pidbuf[16];
  char fdbuf[16];
  char buf[256];
  char *argv[64];
  int ready[2];
  int use_fd = net[0][0] == 'r';
  int helper;
  int status;
  int i;
  int waited;
  long ts[2];
  ready[0] = -1;
  ready[1] = -1;
  snprintf(pidbuf, sizeof pidbuf, "%d", pid);
  if (use_fd && pipe2(ready, O_CLOEXEC) < 0) {
    fail_msg(errbuf, errlen, "creating the network helper's ready pipe", err_no());
    return -1;
  }
  snprintf(fdbuf, sizeof fdbuf, "%d", ready[1]);
  for (i = 0; net[3 + i] && i < 63; i++) {
    argv[i] = net[3 + i];
    if (argv[i][0] == '@' && argv[i][1] == 'P') argv[i] = pidbuf;
    else if (argv[i][0] == '@' && argv[i][1] == 'R') argv[i] = fdbuf;
  }
  argv[i] = 0;
  helper = fork();
  if (helper < 0) {
    fail_msg(errbuf, errlen, "fork for the network helper", err_no());
    return -1;
  }
  if (helper == 0) {
    int devnull = open("/dev/null", O_RDWR);
    int logfd = open(net[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
    }
    if (logfd >= 0) dup2(logfd, 2);
    if (use_fd) syscall(SYS_fcntl, ready[1], F_SETFD, 0);
    reset_signals();
    execve(argv[0], argv, environ);
    _exit(127);
  }
  if (use_fd) close(ready[1]);
  if (net[0][0] == 'o') {
    /* oneshot: a setup command (the root bridge's veth), ready once it exits 0 */
    if (waitpid(helper, &status, 0) == helper && status == 0) return 0; /* exited 0 */
    helper = -1;
  }
  for (waited = 0; helper > 0; waited++) {
    if (use_fd) {
      int n = (int)read(ready[0], buf, 1);
      close(ready[0]);
      if (n == 1) return helper;
      break;
    }
    i = open(net[1], O_RDONLY | O_CLOEXEC);
    if (i >= 0) {
      int n = (int)read(i, buf, sizeof buf);
      close(i);
      if (n > 0) return helper;
    }
    if (waitpid(helper, &status, WNOHANG) == helper) {
      helper = -1;
      break;
    }
    if (waited > 20000) break;
    ts[0] = 0;
    ts[1] = 500000;
    nanosleep(ts, 0);
  }
  if (helper > 0) {
    kill(helper, 9);
    waitpid(helper, &status, 0);
  }
  i = open(net[2], O_RDONLY | O_CLOEXEC);
  buf[0] = 0;
  if (i >= 0) {
    int n = read_full(i, buf, (int)sizeof buf - 1);
    close(i);
    buf[n > 0 ? n : 0] = 0;
    for (status = 0; buf[status]; status++)
      if (buf[status] == '\n') buf[status] = ' ';
  }
  snprintf(errbuf, (size_t)errlen, "%d:0:0:%s exited before it was ready: %s", STAGE_NETWORK, argv[0], buf[0] ? buf : "(no message)");
  return -1;
}

/*
 * Starts a container from a plan (see the P_* indexes and plan.ts). stdio
 * fds are dup'ed onto 0, 1, 2 (-1 keeps pod's own). winsize (rows << 16 |
 * cols) non-zero asks for a terminal made inside the container; its master
 * end is returned in *tty_master.
 * Returns the container's PID 1 as the host sees it once the command has
 * exec'd, or a negative value like pod_spawn_userns; op_index receives the
 * failing mount op's index for STAGE_MOUNT.
 */
int pod_spawn_container(char **plan, char **ops, char **helper, char **net, char **argv, char **envp,
                        char **uidmap_argv, char **gidmap_argv, int stdin_fd, int stdout_fd, int stderr_fd,
                        int winsize, int cgroup_procs, int *tty_master, char *errbuf, int errlen) {
  int net_sync[2];
  int net_pid;
  int to_parent[2];
  int from_parent[2];
  int status_pipe[2];
  int tty_socks[2];
  unsigned char report[4];
  int pid;
  int status;
  int nread;
  int single = uidmap_argv == 0 || gidmap_argv == 0;
  unsigned long flags = CLONE_NEWUSER | own_namespaces(plan, cgroup_procs) | SIGCHLD;
  /* Read before clone(): inside the new user namespace, unmapped, they read as the overflow id. */
  int host_uid = (int)geteuid();
  int host_gid = (int)getegid();
  /* P_NEW_NET: "1" a namespace of its own, "0" the host's, "/path" one to join, "+path" one of its own owned by that one's user namespace */
  int joins[N_JOINS];
  int join_user = -1;
  int joining;
  int pid_pipe[2];
  pid_pipe[0] = -1;
  pid_pipe[1] = -1;
  joining = open_joins(plan, joins, &join_user, errbuf, errlen);
  if (joining < 0) return -1;
  if (joining) {
    if (pipe2(pid_pipe, O_CLOEXEC) < 0) {
      fail_msg(errbuf, errlen, "creating the pid pipe", err_no());
      close_joins(joins, join_user);
      return -1;
    }
    flags = SIGCHLD;
  }
  report[0] = 0;
  report[1] = 0;
  report[2] = 0;
  report[3] = 0;
  tty_socks[0] = -1;
  tty_socks[1] = -1;
  *tty_master = -1;
  tty_master[1] = -1;
  net_sync[0] = -1;
  net_sync[1] = -1;
  if ((net && net[0] && socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, net_sync) < 0) || pipe2(to_parent, O_CLOEXEC) < 0 ||
      pipe2(from_parent, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0 ||
      (winsize && socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, tty_socks) < 0)) {
    fail_msg(errbuf, errlen, "creating sync pipes", err_no());
    return -1;
  }
  pid = (int)syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (pid < 0) {
    fail_msg(errbuf, errlen, "clone", err_no());
    return -1;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    if (winsize) close(tty_socks[0]);
    if (net_sync[1] >= 0) close(net_sync[1]);
    if (joining)
      join_stage(plan, ops, helper, argv, envp, to_parent[1], from_parent[0], status_pipe[1], single ? host_uid : -1,
                 single ? host_gid : -1, stdin_fd, stdout_fd, stderr_fd, winsize ? tty_socks[1] : -1, winsize,
                 cgroup_procs, join_user, joins, pid_pipe[1], net_sync[0]);
    container_stage(plan, ops, helper, argv, envp, to_parent[1], from_parent[0], status_pipe[1],
                    single ? host_uid : -1, single ? host_gid : -1, stdin_fd, stdout_fd, stderr_fd,
                    winsize ? tty_socks[1] : -1, winsize, cgroup_procs, net_sync[0], 0);
  }
  if (joining) {
    close_joins(joins, join_user);
    close(pid_pipe[1]);
  }
  if (net_sync[0] >= 0) close(net_sync[0]);
  close(to_parent[1]);
  close(from_parent[0]);
  close(status_pipe[1]);
  if (winsize) close(tty_socks[1]);
  if (!single && join_user < 0) {
    int rc = map_child_ids(pid, to_parent[0], from_parent[1], status_pipe[0], uidmap_argv, gidmap_argv, errbuf, errlen);
    if (rc < 0) {
      close(to_parent[0]);
      close(from_parent[1]);
      close(status_pipe[0]);
      if (winsize) close(tty_socks[0]);
      return rc;
    }
  }
  close(to_parent[0]);
  close(from_parent[1]);
  if (pid_pipe[0] >= 0) {
    /* the joining child forks the container's first process and ends: its pid comes here (EOF: it failed first) */
    int first = 0;
    int n = (int)read(pid_pipe[0], &first, sizeof first);
    close(pid_pipe[0]);
    waitpid(pid, &status, 0);
    if (n == (int)sizeof first) pid = first;
  }
  if (net_sync[1] >= 0) {
    char ready = 0;
    /* EOF: the child failed before it got there, and the status pipe says where */
    net_pid = read(net_sync[1], &ready, 1) == 1 ? start_net_helper(net, pid, errbuf, errlen) : -2;
    if (net_pid == -2) {
      close(net_sync[1]);
      net_sync[1] = -1;
    }
  }
  if (net_sync[1] >= 0) {
    if (net_pid < 0) {
      close(net_sync[1]);
      kill(pid, 9);
      waitpid(pid, &status, 0);
      close(status_pipe[0]);
      if (winsize) close(tty_socks[0]);
      return -STAGE_NETWORK - 1;
    }
    tty_master[1] = net_pid;
    write(net_sync[1], "N", 1);
    close(net_sync[1]);
  }
  /* With a terminal, the master arrives before exec; EOF on the socket means the child failed first. */
  if (winsize) {
    *tty_master = recv_fd(tty_socks[0]);
    close(tty_socks[0]);
  }
  nread = (int)read(status_pipe[0], report, 4);
  close(status_pipe[0]);
  if (nread >= 2) {
    if (*tty_master >= 0) close(*tty_master);
    *tty_master = -1;
    if (tty_master[1] > 0) kill(tty_master[1], 9);
    waitpid(pid, &status, 0);
    return stage_error(report, nread, errbuf, errlen);
  }
  return pid;
}

/* ------------------------------------------------------------------------
 * a container started under its monitor
 *
 * A detached container's parent must be its monitor (only a parent can wait
 * for it), and the monitor must be a fresh exec of pod (a forked copy of the
 * CLI would keep the CLI's memory). So a daemonized child of the CLI starts
 * the container, tells the CLI how that went, and then execs the monitor:
 * exec keeps the children, and the monitor's start-up no longer delays the
 * CLI. The container's PDEATHSIG still points at that process.
 * ------------------------------------------------------------------------ */


/* Field 22 of /proc/PID/stat (start time in clock ticks), which tells a reused pid from ours; -1 if gone. */
static long long proc_start_time(int pid) {
  char path[64];
  char buf[1024];
  char *p = 0;
  long long v = 0;
  int fd;
  int n;
  int i;
  int field = 2;
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  n = read_full(fd, buf, (int)sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  for (i = 0; i < n; i++)
    if (buf[i] == ')') p = buf + i;
  if (!p) return -1;
  for (p++; *p && field < 22; p++)
    if (*p == ' ') field++;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  return v;
}

/*
 * "MONITOR_PID MONITOR_START CHILD_PID CHILD_START": written (temp, then
 * rename) as soon as the container runs, before anything else can fail or be
 * killed, so a CLI killed right after the fork does not leave a container
 * that no record names.
 */
static void write_live_file(const char *path, int monitor, int child) {
  char tmp[4200];
  char line[128];
  int fd;
  int n;
  if (!path || !path[0]) return;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  n = snprintf(line, sizeof line, "%d %lld %d %lld\n", monitor, proc_start_time(monitor), child, proc_start_time(child));
  write_all(fd, line, n);
  close(fd);
  rename(tmp, path);
}

/*
 * Like pod_spawn_container, from a daemonized child (new session, not the
 * CLI's child) that then execs monitor_argv (argv[0] is the path) with
 * monitor_envp, /dev/null as stdio and keep_fds (plus the terminal's master)
 * open, in the cgroup whose cgroup.procs is open as monitor_procs (-1: the
 * caller's). child_slot, one of monitor_argv's strings (32 bytes), receives
 * "PID,MASTER_FD" before the exec; live_path gets the pids (write_live_file).
 * The caller's lock fds stay open in the child until the exec, so a lock the
 * CLI holds around the start is held until the container is on disk even
 * when the CLI is killed. Returns the container's host pid (or a
 * negative value as pod_spawn_container does) once the monitor has exec'd;
 * *monitor_pid receives the monitor's pid.
 */
int pod_spawn_monitored(char **plan, char **ops, char **helper, char **net, char **argv, char **envp, char **uidmap_argv,
                        char **gidmap_argv, int stdin_fd, int stdout_fd, int stderr_fd, int winsize,
                        int cgroup_procs, int monitor_procs, char **monitor_argv, char **monitor_envp,
                        char *child_slot, char *live_path, int *keep_fds, int nkeep, int *monitor_pid, char *errbuf,
                        int errlen) {
  int result[2];
  int head[2];
  int first;
  int status;
  int got;
  char late[1];
  if (pipe2(result, O_CLOEXEC) < 0) {
    fail_msg(errbuf, errlen, "creating the result pipe", err_no());
    return -1;
  }
  first = fork();
  if (first < 0) {
    fail_msg(errbuf, errlen, "fork", err_no());
    close(result[0]);
    close(result[1]);
    return -1;
  }
  if (first == 0) {
    int outs[2];
    int rc;
    int i;
    int devnull;
    close(result[0]);
    setsid();
    if (fork() != 0) _exit(0);
    /* Out of the starter's cgroup (a terminal's scope that ends with the window), as conmon leaves it. */
    if (monitor_procs >= 0) {
      write(monitor_procs, "0", 1);
      close(monitor_procs);
    }
    rc = pod_spawn_container(plan, ops, helper, net, argv, envp, uidmap_argv, gidmap_argv, stdin_fd, stdout_fd,
                             stderr_fd, winsize, cgroup_procs, outs, errbuf, errlen);
    if (rc >= 0) write_live_file(live_path, getpid(), rc);
    head[0] = rc;
    head[1] = getpid();
    write_all(result[1], head, sizeof head);
    write_all(result[1], errbuf, errlen);
    if (rc < 0) _exit(125);
    snprintf(child_slot, 32, "%d,%d,%d", rc, outs[0], outs[1]);
    reset_signals();
    devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      dup2(devnull, 0);
      dup2(devnull, 1);
      dup2(devnull, 2);
    }
    syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    for (i = 0; i < nkeep; i++) syscall(SYS_fcntl, keep_fds[i], F_SETFD, 0);
    if (outs[0] >= 0) syscall(SYS_fcntl, outs[0], F_SETFD, 0);
    execve(monitor_argv[0], monitor_argv, monitor_envp);
    /* The result pipe is still open: one more byte tells the CLI; the container dies with us (PDEATHSIG). */
    late[0] = (char)err_no();
    write_all(result[1], late, 1);
    _exit(127);
  }
  close(result[1]);
  got = read_full(result[0], head, sizeof head);
  if (got == (int)sizeof head) got += read_full(result[0], errbuf, errlen);
  waitpid(first, &status, 0);
  if (got != (int)sizeof head + errlen) {
    close(result[0]);
    snprintf(errbuf, (size_t)errlen, "the process starting the container failed (wait status %d)", status);
    return -1;
  }
  if (head[0] >= 0 && read(result[0], late, 1) == 1) {
    close(result[0]);
    snprintf(errbuf, (size_t)errlen, "starting the monitor %s: %s", monitor_argv[0], strerror((int)late[0]));
    return -1;
  }
  close(result[0]);
  *monitor_pid = head[1];
  return head[0];
}

/* ------------------------------------------------------------------------
 * exec into a running container
 *
 * setns() into a user namespace is refused to a multi-threaded process, so
 * a forked child of pod joins every namespace of the container's PID 1 (user
 * first, which grants the rights for the others; mount last, since it
 * changes what /proc means), then clone()s the process to exec with
 * CLONE_PARENT: that process is pod's own child (pod can wait for it) and
 * lives in the container's PID namespace. The joining child exits at once.
 * ------------------------------------------------------------------------ */


static const char *ns_names[] = {"user", "ipc", "uts", "net", "cgroup", "pid", "mnt"};

/*
 * The process whose namespaces a container's are: its PID 1, or, where that
 * is the built-in init (not dumpable, so its /proc/PID/ns stays closed to
 * pod too), the init's first child, the command, which shares them all.
 */
static int ns_holder(int pid) {
  char path[64];
  char buf[32];
  int fd;
  int n;
  int child = 0;
  int i;
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0 || err_no() != EACCES) {
    if (fd >= 0) close(fd);
    return pid;
  }
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", pid, pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return pid;
  n = (int)read(fd, buf, sizeof buf - 1);
  close(fd);
  for (i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) child = child * 10 + (buf[i] - '0');
  return child > 0 ? child : pid;
}

static void exec_stage(int target, char **plan, char **argv, char **envp, int status_fd, int pid_fd,
                       int stdin_fd, int stdout_fd, int stderr_fd, int tty_sock, int winsize, int cgroup_procs,
                       int preserve_fds) {
  int fds[7];
  char path[64];
  int i;
  hide_from_container("pod-exec");
  if (cgroup_procs >= 0) enter_cgroup(cgroup_procs, status_fd, 0);
  target = ns_holder(target);
  for (i = 0; i < 7; i++) {
    char self[32];
    snprintf(path, sizeof path, "/proc/%d/ns/%s", target, ns_names[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die_stage(status_fd, STAGE_JOIN);
    /* a namespace the container shares with pod (--pid host, --ipc host, …) is not joined: setns would need the host's rights */
    snprintf(self, sizeof self, "/proc/self/ns/%s", ns_names[i]);
    if (i > 0 && same_namespace(fds[i], self)) {
      close(fds[i]);
      fds[i] = -1;
    }
  }
  for (i = 0; i < 7; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], 0) < 0) die_stage(status_fd, STAGE_JOIN);
    close(fds[i]);
  }
  if (set_ids(0, 0) < 0) die_stage(status_fd, STAGE_SET_ID);
  fork_as_sibling(pid_fd, status_fd, STAGE_JOIN);
  if (chdir(plan[P_CWD]) < 0) die_stage(status_fd, STAGE_CHDIR);
  attach_stdio(tty_sock, winsize, stdin_fd, stdout_fd, stderr_fd, status_fd);
  join_session_keyring(plan, status_fd);
  prepare_exec_stub(status_fd);
  set_credentials(plan, status_fd);
  reset_signals();
  close_fds_keep_and_exec(argv, envp, status_fd, preserve_fds);
}

/*
 * Runs argv inside the running container whose PID 1 is target (a host pid),
 * with the credentials, capabilities and working directory of the plan header
 * (P_CWD, P_UID, P_GID, P_GROUPS, P_CAP_*, P_NO_NEW_PRIVS), in the cgroup
 * whose cgroup.procs is open as cgroup_procs (-1: pod's own). Returns the new
 * process's host pid once it has exec'd, or a negative value like
 * pod_spawn_container; *tty_master receives the terminal's master end.
 * preserve_fds: pod's fds 3 .. 3+preserve_fds-1 are passed on as they are.
 */
int pod_exec_container(int target, char **plan, char **argv, char **envp, int stdin_fd, int stdout_fd,
                       int stderr_fd, int winsize, int cgroup_procs, int preserve_fds, int *tty_master, char *errbuf,
                       int errlen) {
  int status_pipe[2];
  int pid_pipe[2];
  int tty_socks[2];
  unsigned char report[4];
  int joiner;
  int child = -1;
  int status;
  int nread;
  report[0] = 0;
  report[1] = 0;
  tty_socks[0] = -1;
  tty_socks[1] = -1;
  *tty_master = -1;
  if (pipe2(status_pipe, O_CLOEXEC) < 0 || pipe2(pid_pipe, O_CLOEXEC) < 0 ||
      (winsize && socketpair(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0, tty_socks) < 0)) {
    fail_msg(errbuf, errlen, "creating sync pipes", err_no());
    return -1;
  }
  joiner = fork();
  if (joiner < 0) {
    fail_msg(errbuf, errlen, "fork", err_no());
    return -1;
  }
  if (joiner == 0) {
    close(status_pipe[0]);
    close(pid_pipe[0]);
    if (winsize) close(tty_socks[0]);
    exec_stage(target, plan, argv, envp, status_pipe[1], pid_pipe[1], stdin_fd, stdout_fd, stderr_fd,
               winsize ? tty_socks[1] : -1, winsize, cgroup_procs, preserve_fds);
  }
  close(status_pipe[1]);
  close(pid_pipe[1]);
  if (winsize) close(tty_socks[1]);
  if (read(pid_pipe[0], &child, sizeof child) != sizeof child) child = -1;
  close(pid_pipe[0]);
  waitpid(joiner, &status, 0);
  if (winsize) {
    if (child > 0) *tty_master = recv_fd(tty_socks[0]);
    close(tty_socks[0]);
  }
  nread = (int)read(status_pipe[0], report, 4);
  close(status_pipe[0]);
  if (nread >= 2) {
    if (*tty_master >= 0) close(*tty_master);
    *tty_master = -1;
    if (child > 0) waitpid(child, &status, 0);
    return stage_error(report, 2, errbuf, errlen);
  }
  if (child < 0) {
    snprintf(errbuf, (size_t)errlen, "joining the container failed (wait status %d)", status);
    return -1;
  }
  return child;
}

/*
 * Sends sig to a process of a container (host pid) from inside the
 * container's user namespace: a process running as a subordinate id cannot
 * be signalled by the user directly, but root of its user namespace can.
 * Returns 0, or -errno.
 */
int pod_signal_container(int userns_of, int target, int sig) {
  char path[64];
  int status = 0;
  int pid = fork();
  if (pid < 0) return -err_no();
  if (pid == 0) {
    int fd;
    snprintf(path, sizeof path, "/proc/%d/ns/user", ns_holder(userns_of));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) _exit(err_no());
    if (setns(fd, 0) < 0) _exit(err_no());
    if (kill(target, sig) < 0) _exit(err_no());
    _exit(0);
  }
  if (waitpid(pid, &status, 0) < 0) return -err_no();
  return (status & 0x7f) ? -1 : -((status >> 8) & 0xff);
}

/*
 * Forks a child that joins the user namespace of process `userns_of` (a
 * running container's PID 1; pod's user owns that namespace, so setns is
 * allowed), becomes uid 0 there and execs path. Its ids are then the
 * container's, and /proc/<userns_of>/root is the container's mounted root,
 * which it may change with root's powers (`pod cp` into a running
 * container goes through overlay, not around it). flags: SPAWN_NEWNET and
 * SPAWN_DAEMON as for pod_spawn_userns (a user networks' keeper started
 * again in the user namespace its containers still run in). Same return
 * values as pod_spawn_userns; the caller reaps the child.
 */
int pod_spawn_join_userns(int userns_of, int flags, const char *path, char **argv, char **envp, char *errbuf, int errlen) {
  int status_pipe[2];
  unsigned char report[2];
  char nspath[64];
  int pid;
  int status;
  int fd;
  if (pipe2(status_pipe, O_CLOEXEC) < 0) {
    fail_msg(errbuf, errlen, "creating the status pipe", err_no());
    return -1;
  }
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/user", ns_holder(userns_of));
  pid = fork();
  if (pid < 0) {
    fail_msg(errbuf, errlen, "fork", err_no());
    close(status_pipe[0]);
    close(status_pipe[1]);
    return -1;
  }
  if (pid == 0) {
    close(status_pipe[0]);
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
    fd = open(nspath, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0) die_stage(status_pipe[1], STAGE_JOIN);
    if (set_ids(0, 0) < 0) die_stage(status_pipe[1], STAGE_SET_ID);
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
    if ((flags & SPAWN_NEWNET) && unshare(0x40000000 /* CLONE_NEWNET */) < 0) die_stage(status_pipe[1], STAGE_UNSHARE);
    if (flags & SPAWN_DAEMON) daemonize(status_pipe[1]);
    set_groups(0, 0); /* refused where setgroups is denied (single-id maps): the groups then stay */
    reset_signals();
    if (status_pipe[1] > 3) syscall(SYS_close_range, 3, status_pipe[1] - 1, 0);
    syscall(SYS_close_range, status_pipe[1] + 1, ~0U, 0);
    execve(path, argv, envp);
    die_stage(status_pipe[1], STAGE_EXEC);
  }
  close(status_pipe[1]);
  if (read(status_pipe[0], report, 2) == 2) {
    close(status_pipe[0]);
    waitpid(pid, &status, 0);
    return stage_error(report, 2, errbuf, errlen);
  }
  close(status_pipe[0]);
  return pid;
}

/* ---------------------------------------------------------------------------
 * Published TCP ports whose container no host socket reaches (slirp4netns,
 * user networks): a forwarder process, the child of the container's owner.
 * It binds the host addresses, then joins the container's user and network
 * namespaces; each accepted connection gets a child that connects to the
 * container's port from inside and moves the bytes with splice(2), in the kernel, so
 * no byte goes through a JavaScript heap (rootlessport does the same job
 * with a copy loop in Go). Both die with their owner (parent-death signals).
 * ------------------------------------------------------------------------ */

extern int socket(int domain, int type, int protocol);
extern int bind(int fd, const void *addr, unsigned int len);
extern int listen(int fd, int backlog);
extern int accept4(int fd, void *addr, void *len, int flags);
extern int connect(int fd, const void *addr, unsigned int len);
extern int setsockopt(int fd, int level, int name, const void *val, unsigned int len);
extern int shutdown(int fd, int how);
extern int poll(void *fds, unsigned long n, int timeout);
extern ssize_t splice(int fd_in, void *off_in, int fd_out, void *off_out, size_t len, unsigned int flags);
extern int fcntl(int fd, int cmd, ...);
extern int inet_pton(int af, const char *src, void *dst);
extern pid_t getppid(void);

struct fwd_pollfd {
  int fd;
  short events;
  short revents;
};

#define POLLIN 1
#define POLLOUT 4
#define AF_INET 2
#define AF_INET6 10
#define SO_REUSEADDR 2
#define IPPROTO_TCP 6
#define TCP_NODELAY 1
#define SPLICE_F_MOVE 1
#define SPLICE_F_NONBLOCK 2
#define F_SETFL 4
#define F_SETPIPE_SZ 1031
#define O_NONBLOCK 04000
#define SHUT_WR 1
#define EINTR 4
#define EAGAIN 11
#define MAX_FORWARDS 1024

/* A sockaddr_in or sockaddr_in6 for ip ("" is 0.0.0.0) and port; returns its length, or 0 for a bad address. */
static unsigned int make_sockaddr(const char *ip, int port, unsigned char *sa) {
  int i;
  for (i = 0; i < 28; i++) sa[i] = 0;
  sa[2] = (unsigned char)(port >> 8);
  sa[3] = (unsigned char)(port & 0xff);
  if (!ip[0] || inet_pton(AF_INET, ip, sa + 4) == 1) {
    *(unsigned short *)sa = AF_INET;
    return 16;
  }
  if (inet_pton(AF_INET6, ip, sa + 8) == 1) {
    *(unsigned short *)sa = AF_INET6;
    return 28;
  }
  return 0;
}

/* One direction of a connection: src's bytes go into a pipe and from it to dst. */
struct fwd_pump {
  int src;
  int dst;
  int pipe[2];
  long queued;
  int eof;
  int done;
};

static int pump_step(struct fwd_pump *q, long cap) {
  ssize_t n;
  if (!q->eof && q->queued < cap) {
    n = splice(q->src, 0, q->pipe[1], 0, (size_t)(cap - q->queued), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0)
      q->queued += n;
    else if (n == 0)
      q->eof = 1;
    else if (err_no() != EAGAIN && err_no() != EINTR)
      return -1;
  }
  while (q->queued > 0) {
    n = splice(q->pipe[0], 0, q->dst, 0, (size_t)q->queued, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0)
      q->queued -= n;
    else if (n < 0 && (err_no() == EAGAIN || err_no() == EINTR))
      break;
    else
      return -1;
  }
  if (q->eof && !q->queued && !q->done) {
    shutdown(q->dst, SHUT_WR); /* half-close, as the client did */
    q->done = 1;
  }
  return 0;
}

/* Moves bytes both ways between a and b until both sides have ended, or one fails. */
static void splice_both(int a, int b) {
  struct fwd_pump up;
  struct fwd_pump down;
  struct fwd_pollfd fds[2];
  long cap = 1 << 20;
  int one = 1;
  if (pipe2(up.pipe, O_CLOEXEC) < 0 || pipe2(down.pipe, O_CLOEXEC) < 0) return;
  /* a bigger pipe moves more per call; where the limit refuses it, the default 64 KiB */
  if (fcntl(up.pipe[1], F_SETPIPE_SZ, (int)cap) < 0 || fcntl(down.pipe[1], F_SETPIPE_SZ, (int)cap) < 0) cap = 65536;
  fcntl(a, F_SETFL, O_NONBLOCK);
  fcntl(b, F_SETFL, O_NONBLOCK);
  setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  up.src = a;
  up.dst = b;
  down.src = b;
  down.dst = a;
  up.queued = down.queued = 0;
  up.eof = down.eof = up.done = down.done = 0;
  for (;;) {
    if (pump_step(&up, cap) < 0 || pump_step(&down, cap) < 0) return;
    if (up.done && down.done) return;
    fds[0].fd = a;
    fds[0].events = (short)((!up.eof && up.queued < cap ? POLLIN : 0) | (down.queued ? POLLOUT : 0));
    fds[1].fd = b;
    fds[1].events = (short)((!down.eof && down.queued < cap ? POLLIN : 0) | (up.queued ? POLLOUT : 0));
    if (poll(fds, 2, -1) < 0 && err_no() != EINTR) return;
  }
}

/* In a connection's child: connects to target:port in the container's namespace and forwards until the connection ends. */
static void forward_connection(int client, const char *target, int port) {
  unsigned char sa[28];
  unsigned int len = make_sockaddr(target, port, sa);
  int s = len ? socket(*(unsigned short *)sa, SOCK_STREAM | O_CLOEXEC, 0) : -1;
  if (s < 0 || connect(s, sa, len) < 0) _exit(0); /* nothing listens: the client sees the close */
  splice_both(client, s);
  _exit(0);
}

static void fwd_fail(int status_fd, const char *what, const char *detail, int e) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "%s%s: %s", what, detail, strerror(e));
  if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
  write_all(status_fd, msg, n);
  _exit(125);
}

/*
 * spec: NULL-terminated triples "HOST_IP" "HOST_PORT" "CONTAINER_PORT";
 * each connection goes to target (an address in the container's network
 * namespace: its loopback, or its own address on a user network).
 * Returns the forwarder's pid once it listens on every address and has
 * joined the namespaces of process ns_of, or -1 with the reason in errbuf.
 * The caller ends it (SIGKILL) and reaps it; its connections die with it.
 */
int pod_forward_tcp(int ns_of, const char *target, char **spec, char *errbuf, int errlen) {
  int status_pipe[2];
  char buf[256];
  int pid;
  int status;
  int n;
  if (pipe2(status_pipe, O_CLOEXEC) < 0) {
    fail_msg(errbuf, errlen, "creating the status pipe", err_no());
    return -1;
  }
  pid = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) {
    fail_msg(errbuf, errlen, "fork", err_no());
    close(status_pipe[0]);
    close(status_pipe[1]);
    return -1;
  }
  if (pid == 0) {
    struct fwd_pollfd lfds[MAX_FORWARDS];
    int ports[MAX_FORWARDS];
    struct kernel_sigaction ign;
    unsigned char sa[28];
    char path[64];
    char where[80];
    int owner = getppid();
    int sfd = status_pipe[1];
    int userfd;
    int netfd;
    int count = 0;
    int one = 1;
    int i;
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
    if (getppid() != owner) _exit(0);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NAME, (unsigned long)"pod-port-fwd", 0, 0, 0);
    reset_signals();
    ign.handler = (void *)1; /* SIG_IGN: a peer gone mid-write is an error return, not a signal */
    ign.flags = 0;
    ign.restorer = 0;
    ign.mask = 0;
    syscall(SYS_rt_sigaction, 13 /* SIGPIPE */, &ign, 0, 8);
    ign.flags = 2; /* SA_NOCLDWAIT: connections' children reap themselves */
    syscall(SYS_rt_sigaction, SIGCHLD, &ign, 0, 8);
    if (sfd > 3) syscall(SYS_close_range, 3, sfd - 1, 0);
    syscall(SYS_close_range, sfd + 1, ~0U, 0);
    ns_of = ns_holder(ns_of);
    snprintf(path, sizeof path, "/proc/%d/ns/user", ns_of);
    userfd = open(path, O_RDONLY | O_CLOEXEC);
    snprintf(path, sizeof path, "/proc/%d/ns/net", ns_of);
    netfd = open(path, O_RDONLY | O_CLOEXEC);
    if (userfd < 0 || netfd < 0) fwd_fail(sfd, "opening the container's namespaces", "", err_no());
    for (; spec[0] && spec[1] && spec[2]; spec += 3) {
      unsigned int len = make_sockaddr(spec[0], (int)parse_u64(spec[1]), sa);
      int fd;
      snprintf(where, sizeof where, " %s:%s", spec[0][0] ? spec[0] : "0.0.0.0", spec[1]);
      if (count == MAX_FORWARDS) fwd_fail(sfd, "too many published ports at", where, 7 /* E2BIG */);
      if (!len) fwd_fail(sfd, "a bad address to publish on:", where, 22 /* EINVAL */);
      fd = socket(*(unsigned short *)sa, SOCK_STREAM | O_CLOEXEC, 0);
      if (fd < 0) fwd_fail(sfd, "socket for", where, err_no());
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(fd, sa, len) < 0) fwd_fail(sfd, "binding", where, err_no());
      if (listen(fd, 511) < 0) fwd_fail(sfd, "listening on", where, err_no());
      lfds[count].fd = fd;
      lfds[count].events = POLLIN;
      ports[count] = (int)parse_u64(spec[2]);
      count++;
    }
    if (!same_namespace(userfd, "/proc/self/ns/user") && setns(userfd, CLONE_NEWUSER) < 0) fwd_fail(sfd, "joining the container's user namespace", "", err_no());
    if (setns(netfd, CLONE_NEWNET) < 0) fwd_fail(sfd, "joining the container's network namespace", "", err_no());
    close(userfd);
    close(netfd);
    prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0); /* a credentials change may have cleared it */
    if (getppid() != owner) _exit(0);
    write_all(sfd, "K", 1);
    close(sfd);
    for (;;) {
      if (poll(lfds, (unsigned long)count, -1) < 0) {
        if (err_no() == EINTR) continue;
        _exit(1);
      }
      for (i = 0; i < count; i++) {
        int c;
        int child;
        if (!(lfds[i].revents & POLLIN)) continue;
        c = accept4(lfds[i].fd, 0, 0, O_CLOEXEC);
        if (c < 0) continue;
        child = (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
        if (child == 0) {
          int me = getppid();
          int j;
          prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0);
          if (getppid() != me) _exit(0);
          for (j = 0; j < count; j++) close(lfds[j].fd);
          forward_connection(c, target, ports[i]);
        }
        close(c);
      }
    }
  }
  close(status_pipe[1]);
  n = read_full(status_pipe[0], buf, sizeof buf - 1);
  close(status_pipe[0]);
  if (n == 1 && buf[0] == 'K') return pid;
  buf[n > 0 ? n : 0] = 0;
  waitpid(pid, &status, 0);
  snprintf(errbuf, (size_t)errlen, "%s", n > 0 ? buf : "the port forwarder ended at once");
  return -1;
}
