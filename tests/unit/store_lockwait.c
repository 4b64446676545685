/* store_lockwait: holds, or waits for, a Berkeley DB lock in the store of a
 * running suite, so that a test can kill a process while it is blocked
 * inside the library (tests/integration/test_master_failchk.py).
 *
 *   store_lockwait -C satchel.conf hold MAILBOX MARKER
 *       appends to MAILBOX and keeps the transaction open (its locks held)
 *       until SIGTERM; writes its pid to MARKER once it holds them.
 *   store_lockwait -C satchel.conf wait MAILBOX MARKER HOLDER_MARKER
 *       waits for HOLDER_MARKER, writes its pid to MARKER and appends to
 *       MAILBOX, which blocks on the holder's quota-page lock.
 * Exits 0 when it ended as intended, 1 on any error (with a message). */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include "test_store_util.h"

static volatile sig_atomic_t got_term;
static void on_term(int sig) { (void)sig; got_term = 1; }

static int write_marker(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f)) {
        fprintf(stderr, "store_lockwait: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Stages a small message and begins an append to mailbox in *t. */
static int begin_append(struct store *st, const char *mailbox, struct mbtxn **t, struct staged_msg *sm)
{
    char buf[1024];
    size_t len = tstore_message(buf, sizeof buf, "lockwait", (unsigned)getpid(), 100);
    int r = store_stage_message(st, NULL, buf, len, sm);
    if (r) return r;
    r = store_mbtxn_begin(st, mailbox, t);
    if (r) { store_stage_discard(st, sm); return r; }
    struct append_spec spec = { sm, 0, NULL, 0 };
    r = store_append(*t, &spec, NULL);
    if (r) store_mbtxn_abort(*t);
    return r;
}

static int hold(struct store *st, const char *mailbox, const char *marker)
{
    struct sigaction sa = { .sa_handler = on_term };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    struct mbtxn *t;
    struct staged_msg sm;
    int r = begin_append(st, mailbox, &t, &sm);
    if (r) { fprintf(stderr, "store_lockwait: append to %s: %s\n", mailbox, store_strerror(r)); return 1; }
    if (write_marker(marker)) { store_mbtxn_abort(t); return 1; }
    while (!got_term) pause();
    store_mbtxn_abort(t);
    return 0;
}

static int wait_for_lock(struct store *st, const char *mailbox, const char *marker, const char *holder)
{
    struct stat sb;
    for (int i = 0; stat(holder, &sb); i++) {
        if (i == 600) { fprintf(stderr, "store_lockwait: no holder after 60 s\n"); return 1; }
        usleep(100 * 1000);
    }
    if (write_marker(marker)) return 1;
    struct mbtxn *t;
    struct staged_msg sm;
    int r = begin_append(st, mailbox, &t, &sm);   /* blocks until killed */
    if (r) { fprintf(stderr, "store_lockwait: append to %s: %s\n", mailbox, store_strerror(r)); return 1; }
    return store_mbtxn_commit(t) ? 1 : 0;
}

int main(int argc, char **argv)
{
    char err[512];
    if (argc < 6 || strcmp(argv[1], "-C") || (strcmp(argv[3], "hold") && strcmp(argv[3], "wait")) ||
        (!strcmp(argv[3], "wait") && argc < 7)) {
        fprintf(stderr, "usage: store_lockwait -C satchel.conf hold MAILBOX MARKER\n"
                        "       store_lockwait -C satchel.conf wait MAILBOX MARKER HOLDER_MARKER\n");
        return 1;
    }
    if (config_load(argv[2], err, sizeof err)) { fprintf(stderr, "store_lockwait: %s\n", err); return 1; }
    struct store *st;
    int r = store_open(&st, 0);
    if (r) { fprintf(stderr, "store_lockwait: store: %s\n", store_strerror(r)); return 1; }
    int rc = !strcmp(argv[3], "hold") ? hold(st, argv[4], argv[5]) : wait_for_lock(st, argv[4], argv[5], argv[6]);
    store_close(st);
    return rc;
}
