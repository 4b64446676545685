/* Starting a child process from a master.conf entry. */
#define _GNU_SOURCE
#include "master.h"
#include "buf.h"
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

/* A program name without '/' is looked up in $SATCHEL_LIBEXECDIR (or
 * LIBEXECDIR); when it is not there, in $PATH (sh, satchelctl...). */
static char *resolve_program(const char *prog, int *use_path)
{
    *use_path = 0;
    if (strchr(prog, '/')) return xstrdup(prog);
    const char *dir = getenv("SATCHEL_LIBEXECDIR");
    if (!dir || !*dir) dir = LIBEXECDIR;
    struct buf p = BUF_INIT;
    buf_printf(&p, "%s/%s", dir, prog);
    if (access(buf_cstr(&p), X_OK) == 0) return buf_release(&p);
    buf_free(&p);
    *use_path = 1;
    return xstrdup(prog);
}

/* argv of the entry plus "-C conf", unless the command already names a config. */
static char **build_argv(const struct mc_entry *e, const char *conf)
{
    int has_c = 0;
    for (int i = 1; i < e->argc; i++)
        if (!strcmp(e->argv[i], "-C")) has_c = 1;
    char **av = xcalloc((size_t)e->argc + 3, sizeof *av);
    for (int i = 0; i < e->argc; i++) av[i] = e->argv[i];
    if (!has_c) {
        av[e->argc] = (char *)"-C";
        av[e->argc + 1] = (char *)conf;
    }
    return av;
}

void spawn_reset_signals(void)
{
    static const int sigs[] = { SIGPIPE, SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGUSR1, SIGUSR2 };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: set up fds 0, 3, 4 and exec.  Never returns. */
static void child_exec(const struct mc_entry *e, char *path, int use_path, char **av, int listen_fd, int status_wr,
                       pid_t master_pid)
{
    spawn_reset_signals();
    /* If master dies, a service process must not keep its listener open
     * forever (a new master could not bind): SIGHUP makes an idle one exit
     * and a busy one finish its session first (its next 'A' fails). */
    if (listen_fd >= 0 && (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0 || getppid() != master_pid)) _exit(0);
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0 && null != 0) {
        dup2(null, 0);
        close(null);
    }
    int first_closed = 3;
    if (listen_fd >= 0) {
        /* Move both out of the way first so dup2 cannot clobber either. */
        int l = fcntl(listen_fd, F_DUPFD, 10), w = fcntl(status_wr, F_DUPFD, 10);
        if (l < 0 || w < 0 || dup2(l, 3) < 0 || dup2(w, 4) < 0) {
            fprintf(stderr, "master: %s: cannot set up fds: %s\n", e->name, strerror(errno));
            _exit(71);
        }
        first_closed = 5;
    }
    close_range((unsigned)first_closed, ~0U, 0);
    if (e->maxfds > 0) {
        struct rlimit rl = { (rlim_t)e->maxfds, (rlim_t)e->maxfds };
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            fprintf(stderr, "master: %s: cannot set maxfds %d: %s\n", e->name, e->maxfds, strerror(errno));
    }
    if (use_path) execvp(path, av);
    else execv(path, av);
    fprintf(stderr, "master: %s: cannot run %s: %s\n", e->name, path, strerror(errno));
    _exit(127);
}

pid_t spawn_process(const struct mc_entry *e, const char *conf, int listen_fd, int *status_rd)
{
    int pipefd[2] = { -1, -1 };
    if (listen_fd >= 0 && pipe2(pipefd, O_CLOEXEC) < 0) {
        log_error("%s: pipe: %s", e->name, strerror(errno));
        return -1;
    }
    int use_path;
    char *path = resolve_program(e->argv[0], &use_path);
    /* The child's exec error only reaches stderr: say it in the log too. */
    if (!use_path && access(path, X_OK) < 0)
        log_error("%s: cannot run %s: %s", e->name, path, strerror(errno));
    char **av = build_argv(e, conf);
    pid_t master_pid = getpid();
    pid_t pid = fork();
    if (pid == 0) child_exec(e, path, use_path, av, listen_fd, pipefd[1], master_pid);
    int err = errno;
    free(path);
    free(av);
    if (pipefd[1] >= 0) close(pipefd[1]);
    if (pid < 0) {
        log_error("%s: fork: %s", e->name, strerror(err));
        if (pipefd[0] >= 0) close(pipefd[0]);
        return -1;
    }
    if (status_rd) {
        *status_rd = pipefd[0];
        if (pipefd[0] >= 0) fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    }
    return pid;
}
