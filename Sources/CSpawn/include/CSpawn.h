#ifndef SMOLLAMA_CSPAWN_H
#define SMOLLAMA_CSPAWN_H

#include <sys/types.h>

/// What `smollama_spawn` starts. `path` is the executable's full path (no PATH search), `argv` and
/// `envp` are NULL-terminated. `stdin_fd`, `stdout_fd` and `stderr_fd` become the child's 0, 1
/// and 2 (pass the same number to inherit it); -1 opens /dev/null.
typedef struct {
    const char *path;
    char *const *argv;
    char *const *envp;
    int stdin_fd;
    int stdout_fd;
    int stderr_fd;
    /// Sent to the child when the spawning process dies (PR_SET_PDEATHSIG); 0 for none.
    int death_signal;
} smollama_spawn_request;

/// Starts a child with every signal unblocked and at its default action, in a process group of
/// its own, with no descriptor but 0, 1 and 2 left open, and `death_signal` armed. The fork
/// happens on one spawner thread that lives as long as the process, because the kernel sends the
/// death signal when the *thread* that forked exits. Returns the child's pid, or -errno (the
/// exec's errno when the program could not be started).
pid_t smollama_spawn(const smollama_spawn_request *request);

/// pipe2(O_CLOEXEC), which Swift's Glibc module does not export.
int smollama_pipe_cloexec(int fds[2]);

#endif
