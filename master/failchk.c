/* failchk after a process died: release what it held in the index
 * environment, in a helper process with a deadline.
 *
 * Why a helper: Berkeley DB's failchk re-initialises the mutexes a dead
 * process held or waited on.  With glibc's condition variables (2.25 and
 * later) destroying one that a killed process was waiting on blocks for
 * ever, so a failchk run by master itself could wedge master, and with it
 * every respawn and the shutdown.  The helper opens its own handle (which
 * also clears the dead process's DB_REGISTER slot), runs failchk and exits;
 * if it has not finished by the deadline it is killed and master recovers
 * the environment from the log instead, which rebuilds every region. */
#define _GNU_SOURCE
#include "master.h"
#include "log.h"
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAILCHK_CLEAN 0
#define FAILCHK_PANIC 3

static void helper_main(void)
{
    spawn_reset_signals();
    struct store *st;
    int r = store_open(&st, 0);
    if (r == STORE_OK) {
        r = store_failchk(st);
        store_close(st);
    }
    _exit(r == STORE_OK ? FAILCHK_CLEAN : r == STORE_EPANIC ? FAILCHK_PANIC : 1);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the helper until the deadline; returns its wait status, or -1
 * when it had to be killed. */
static int wait_helper(pid_t pid)
{
    long long deadline = now_ms() + FAILCHK_DEADLINE * 1000LL;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        if (now_ms() >= deadline) break;
        master_wait_signal(20);
    }
    log_error("failchk did not finish within %d s (a process died waiting on a lock): killing it", FAILCHK_DEADLINE);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return -1;
}

int failchk_after_crash(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("failchk: fork: %s", strerror(errno));
        return STORE_EPANIC;
    }
    if (pid == 0) helper_main();
    int status = wait_helper(pid);
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == FAILCHK_CLEAN) {
        log_debug("failchk: the index environment is clean");
        return STORE_OK;
    }
    if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) != FAILCHK_PANIC) {
        log_error("failchk: could not check the index environment (see above)");
        return STORE_EIO;
    }
    if (status >= 0) {
        char how[128];
        describe_status(status, how, sizeof how);
        if (!WIFEXITED(status)) log_error("failchk: the helper %s", how);
    }
    return STORE_EPANIC;
}
