// fork + exec for smollama's child processes. Swift cannot run code between fork and exec safely
// (only async-signal-safe calls are allowed there), so this small piece is C. See CSpawn.h.
#define _GNU_SOURCE
#include "CSpawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static pthread_once_t spawner_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;   // one request at a time
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t state_changed = PTHREAD_COND_INITIALIZER;
static const smollama_spawn_request *pending = NULL;
static pid_t result = 0;
static int done = 0;
static int spawner_failed = 0;

static void write_errno_and_exit(int report_fd) {
    int error = errno;
    ssize_t ignored = write(report_fd, &error, sizeof error);
    (void)ignored;
    _exit(127);
}

static int place(int source, int target, int flags) {
    if (source < 0) {
        int fd = open("/dev/null", flags);
        if (fd < 0) return -1;
        if (fd != target) {
            if (dup2(fd, target) < 0) return -1;
            close(fd);
        }
        return 0;
    }
    if (source == target) return fcntl(target, F_SETFD, 0);  // keep it open across exec
    return dup2(source, target) < 0 ? -1 : 0;
}

/// Runs in the child between fork and exec: async-signal-safe calls only.
static void exec_child(const smollama_spawn_request *request, pid_t parent, int report_fd) {
    // Move the sources out of the way of 0-2 first, so placing one never clobbers another.
    int sources[3] = {request->stdin_fd, request->stdout_fd, request->stderr_fd};
    for (int i = 0; i < 3; i++) {
        if (sources[i] >= 0 && sources[i] < 3 && sources[i] != i) {
            int moved = fcntl(sources[i], F_DUPFD_CLOEXEC, 3);
            if (moved < 0) write_errno_and_exit(report_fd);
            for (int j = i + 1; j < 3; j++) if (sources[j] == sources[i]) sources[j] = moved;
            sources[i] = moved;
        }
    }
    if (place(sources[0], 0, O_RDONLY) < 0 || place(sources[1], 1, O_WRONLY) < 0
        || place(sources[2], 2, O_WRONLY) < 0) {
        write_errno_and_exit(report_fd);
    }
    // Everything else closes at exec (the report pipe too: EOF tells the parent exec worked).
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */) != 0)
#endif
    {
        struct rlimit limit;
        long last = getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < 65536 ? (long)limit.rlim_cur : 65536;
        for (int fd = 3; fd < last; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (setpgid(0, 0) < 0) write_errno_and_exit(report_fd);
#ifdef __linux__
    if (request->death_signal > 0) {
        if (prctl(PR_SET_PDEATHSIG, request->death_signal) < 0) write_errno_and_exit(report_fd);
        // The parent may have died before the line above: then nobody would ever signal us.
        if (getppid() != parent) _exit(127);
    }
#else
    (void)parent;
#endif
    // Default actions first, then unblock: nothing the parent ignored or blocked is inherited.
    // The raw system call, because glibc refuses the real-time signals it reserves for itself,
    // and an ignored one of those would survive exec. An all-zero kernel sigaction is SIG_DFL
    // with no flags and an empty mask on every architecture.
    unsigned long long kernel_action[8];
    memset(kernel_action, 0, sizeof kernel_action);
    for (int signal = 1; signal < NSIG; signal++) {
        if (signal == SIGKILL || signal == SIGSTOP) continue;
        syscall(SYS_rt_sigaction, signal, kernel_action, NULL, (size_t)(NSIG / 8));
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(request->path, request->argv, request->envp);
    write_errno_and_exit(report_fd);
}

static pid_t fork_and_exec(const smollama_spawn_request *request) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) < 0) return -errno;
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(report[0]);
        close(report[1]);
        return -error;
    }
    if (child == 0) {
        close(report[0]);
        exec_child(request, parent, report[1]);
    }
    close(report[1]);
    int child_errno = 0;
    ssize_t got;
    do {
        got = read(report[0], &child_errno, sizeof child_errno);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof child_errno) {
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
        return -(child_errno != 0 ? child_errno : ECHILD);
    }
    return child;
}

static void *spawner_main(void *unused) {
    (void)unused;
    pthread_mutex_lock(&state_lock);
    for (;;) {
        while (pending == NULL) pthread_cond_wait(&state_changed, &state_lock);
        const smollama_spawn_request *request = pending;
        pending = NULL;
        pthread_mutex_unlock(&state_lock);
        pid_t outcome = fork_and_exec(request);
        pthread_mutex_lock(&state_lock);
        result = outcome;
        done = 1;
        pthread_cond_broadcast(&state_changed);
    }
    return NULL;
}

static void start_spawner(void) {
    // The spawner blocks every signal, so signal handlers never run on it (and forked children
    // start from a known mask, which they then clear).
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attributes, spawner_main, NULL) != 0) spawner_failed = 1;
    pthread_attr_destroy(&attributes);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
}

pid_t smollama_spawn(const smollama_spawn_request *request) {
    pthread_once(&spawner_once, start_spawner);
    if (spawner_failed) return -EAGAIN;
    pthread_mutex_lock(&call_lock);
    pthread_mutex_lock(&state_lock);
    pending = request;
    done = 0;
    pthread_cond_broadcast(&state_changed);
    while (!done) pthread_cond_wait(&state_changed, &state_lock);
    pid_t outcome = result;
    pthread_mutex_unlock(&state_lock);
    pthread_mutex_unlock(&call_lock);
    return outcome;
}

int smollama_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
