/* Keeping the index environment usable when processes die in it: failchk
 * after a child's abnormal exit, every master_store_check_interval (for
 * processes that are not master's children, e.g. an interrupted
 * satchelctl) and before the last close when a child was killed while
 * master stopped; in a helper process with a deadline; recovery when needed.
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
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
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

/* Waits for the helper until the deadline; returns its wait status, or -1
 * when it had to be killed. */
static int wait_helper(pid_t pid)
{
    long long deadline = master_mono_ms() + FAILCHK_DEADLINE * 1000LL;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return status;
        if (r < 0 && errno != EINTR) return -1;
        if (master_mono_ms() >= deadline) break;
        master_wait_signal(20);
    }
    log_error("failchk did not finish within %d s: the index environment is wedged; killing the check", FAILCHK_DEADLINE);
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return -1;
}

/* STORE_OK, STORE_EPANIC (recover), or another error (logged). */
static int failchk_in_helper(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        log_error("failchk: fork: %s", strerror(errno));
        return STORE_EPANIC;
    }
    if (pid == 0) helper_main();
    int status = wait_helper(pid);
    if (status < 0) return STORE_EPANIC;          /* killed at the deadline */
    if (!WIFEXITED(status)) {
        char how[128];
        describe_status(status, how, sizeof how);
        log_error("failchk: the helper %s", how);
        return STORE_EPANIC;
    }
    switch (WEXITSTATUS(status)) {
    case FAILCHK_CLEAN:
        log_debug("failchk: the index environment is clean");
        return STORE_OK;
    case FAILCHK_PANIC:
        return STORE_EPANIC;
    default:
        log_error("failchk: could not check the index environment (see above)");
        return STORE_EIO;
    }
}

/* failchk said the environment is beyond repair, or did not finish: stop
 * every process, run recovery, and let the main loop start them again. */
static void recover_store(struct master *m)
{
    log_error("the index environment needs recovery: stopping all processes");
    m->stopping = 1;
    children_terminate(m, (int)config_int(CONF_MASTER_SHUTDOWN_GRACE));
    m->stopping = 0;
    /* The dead process may still hold a region mutex: close without
     * touching the environment (recovery rebuilds it from the log). */
    store_close_abandoned(m->st);
    m->st = NULL;
    m->unchecked_deaths = 0;
    int rc = store_open(&m->st, STORE_OPEN_RECOVER | STORE_OPEN_CREATE);
    if (rc != STORE_OK) {
        log_error("recovery failed: %s: stopping", store_strerror(rc));
        m->st = NULL;
        got_term = 1;
        return;
    }
    log_notice("recovery done: restarting services");
}

void store_check(struct master *m)
{
    if (m->stopping || !m->st) return;
    m->next_store_check = time(NULL) + config_int(CONF_MASTER_STORE_CHECK_INTERVAL);
    if (failchk_in_helper() == STORE_EPANIC) recover_store(m);
}

time_t store_check_next_timer(const struct master *m)
{
    return config_int(CONF_MASTER_STORE_CHECK_INTERVAL) > 0 ? m->next_store_check : 0;
}

void store_check_due(struct master *m, time_t now)
{
    time_t next = store_check_next_timer(m);
    if (next && now >= next) store_check(m);
}

void store_close_at_stop(struct master *m)
{
    if (!m->st) return;
    /* A child killed while stopping (SIGTERM takes a busy service's default
     * action; stragglers get SIGKILL) may have died inside Berkeley DB
     * holding a mutex that a normal close would wait on for ever.  The
     * check says; if it is not clean, close without touching anything (the
     * next start-up recovers, as it always does). */
    if (m->unchecked_deaths && failchk_in_helper() != STORE_OK) store_close_abandoned(m->st);
    else store_close(m->st);
    m->st = NULL;
}
