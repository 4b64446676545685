/* Ctrl-C (or SIGTERM, SIGHUP) while satchelctl has the store open.
 *
 * A process that dies inside Berkeley DB holding one of its mutexes cannot
 * be cleaned up by failchk: master then has to stop every service and
 * recover the environment, dropping every IMAP session.  So once the store
 * is (being) opened, the first such signal only asks satchelctl to stop:
 * the command runs to its end, the store is closed properly and
 * satchelctl exits with 128 + the signal number.  A second signal
 * kills at once, as usual.  Before the store is opened a signal acts as
 * always. */
#define _GNU_SOURCE
#include "ctl.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t store_in_use, got_signal;

static void on_signal(int sig)
{
    signal(sig, SIG_DFL);      /* the second one kills */
    if (!store_in_use) {
        raise(sig);
        return;
    }
    got_signal = sig;
    static const char msg[] = "satchelctl: interrupted: finishing the command so that the store stays "
                              "consistent (interrupt again to kill it at once)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
}

void ctl_interrupt_setup(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        /* A signal ignored by whoever started us (nohup, a background job)
         * stays ignored. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(sigs[i], &sa, NULL);
    }
}

void ctl_interrupt_store_in_use(int in_use)
{
    store_in_use = in_use;
}

int ctl_interrupted(void)
{
    return got_signal;
}
