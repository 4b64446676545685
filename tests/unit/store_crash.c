/* Crash in the middle of a write transaction: a child appends to a mailbox
 * (holding its lock and DB locks), tells the parent, and is killed with
 * SIGKILL before it commits.  Worker processes that were delivering all
 * along must go on after store_failchk; a process opened afterwards must
 * work too; after a recovery open the store verifies clean once the
 * victim's staged (never committed) file has been removed as an orphan.
 *
 * usage: store_crash [worker-seconds-after-kill=3]     exit 0 when all is well */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include "test_store_util.h"

static int fails;
#define CHECK(cond, ...) do { if (!(cond)) { fails++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int deliver(struct store *st, const char *name, const char *tag, unsigned n)
{
    char buf[4096];
    size_t len = tstore_message(buf, sizeof buf, tag, n, 500);
    struct staged_msg sm;
    int r = store_stage_message(st, NULL, buf, len, &sm);
    if (r) return r;
    struct mbtxn *t;
    r = store_mbtxn_begin(st, name, &t);
    if (r) { store_stage_discard(st, &sm); return r; }
    struct append_spec spec = { &sm, 0, NULL, 0 };
    r = store_append(t, &spec, NULL);
    if (r) { store_mbtxn_abort(t); return r; }
    return store_mbtxn_commit(t);
}

/* Delivers to its own mailbox and the victim's, until stop_file appears;
 * counts deliveries made after go_file appeared (i.e. after the kill). */
static int worker(int id, const char *root)
{
    struct store *st;
    int r = store_open(&st, 0);
    if (r) { fprintf(stderr, "worker %d: open: %s\n", id, store_strerror(r)); return 1; }
    char own[64], stop[400], after[400], tag[32];
    snprintf(own, sizeof own, "user/w%d", id);
    snprintf(stop, sizeof stop, "%s/stop", root);
    snprintf(after, sizeof after, "%s/killed", root);
    snprintf(tag, sizeof tag, "w%d", id);
    unsigned n = 0, post = 0;
    while (access(stop, F_OK) != 0) {
        int killed = access(after, F_OK) == 0;
        r = deliver(st, n % 3 ? own : "user/victim", tag, n);
        if (r && r != STORE_ELOCKED) { fprintf(stderr, "worker %d: %s\n", id, store_strerror(r)); return 1; }
        n++;
        if (!r && killed) post++;
    }
    store_close(st);
    fprintf(stderr, "worker %d: %u deliveries, %u after the kill\n", id, n, post);
    return post > 0 ? 0 : 2;
}

static int victim(int fd)
{
    struct store *st;
    if (store_open(&st, 0)) return 1;
    char buf[4096];
    size_t len = tstore_message(buf, sizeof buf, "victim", 1, 700);
    struct staged_msg sm;
    struct mbtxn *t;
    if (store_stage_message(st, NULL, buf, len, &sm) || store_mbtxn_begin(st, "user/victim", &t)) return 1;
    struct append_spec spec = { &sm, 0, NULL, 0 };
    if (store_append(t, &spec, NULL) || store_set_flags(t, 1, FLAG_SEEN, NULL, NULL)) return 1;
    if (write(fd, sm.guid, STORE_GUID_HEXLEN) != STORE_GUID_HEXLEN) return 1;
    for (;;) pause();   /* killed here, transaction open */
}

static void touch(const char *root, const char *leaf)
{
    char p[400];
    snprintf(p, sizeof p, "%s/%s", root, leaf);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

static int nprob;
static void report(const char *p, void *rock) { (void)rock; nprob++; fprintf(stderr, "verify: %s\n", p); }

int main(int argc, char **argv)
{
    double after = argc > 1 ? atof(argv[1]) : 3;
    struct tstore_dirs d;
    if (tstore_setup_config(&d)) return 99;
    char err[256];
    config_set("lock_timeout", "2s", err, sizeof err);
    struct store *st;
    int r = store_open(&st, STORE_OPEN_CREATE | STORE_OPEN_RECOVER);
    if (!r) r = store_mailbox_create(st, "user/victim", NULL, NULL, NULL);
    if (!r) r = store_mailbox_create(st, "user/w0", NULL, NULL, NULL);
    if (!r) r = store_mailbox_create(st, "user/w1", NULL, NULL, NULL);
    if (!r) r = deliver(st, "user/victim", "first", 0);
    if (r) { fprintf(stderr, "setup: %s\n", store_strerror(r)); return 99; }

    pid_t workers[2];
    for (int i = 0; i < 2; i++)
        if ((workers[i] = fork()) == 0) _exit(worker(i, d.root));
    int pfd[2];
    if (pipe(pfd)) return 99;
    pid_t v = fork();
    if (v == 0) { close(pfd[0]); _exit(victim(pfd[1])); }
    close(pfd[1]);
    char guid[STORE_GUID_HEXLEN + 1] = { 0 };
    CHECK(read(pfd[0], guid, STORE_GUID_HEXLEN) == STORE_GUID_HEXLEN, "victim did not reach its append");
    close(pfd[0]);
    usleep(300000);   /* let the workers pile up behind the victim's locks */
    kill(v, SIGKILL);
    int status;
    waitpid(v, &status, 0);   /* reaped first: a zombie still counts as alive */
    CHECK(WIFSIGNALED(status), "victim was not killed");
    r = store_failchk(st);
    CHECK(r == STORE_OK, "failchk: %s", store_strerror(r));
    touch(d.root, "killed");

    /* This process goes on, in the victim's mailbox too. */
    r = deliver(st, "user/victim", "parent", 1);
    CHECK(r == STORE_OK, "parent delivery after the kill: %s", store_strerror(r));
    /* A process started after the crash opens without recovery. */
    pid_t late = fork();
    if (late == 0) {
        struct store *s2;
        int e = store_open(&s2, 0);
        if (!e) e = deliver(s2, "user/victim", "late", 2);
        if (e) fprintf(stderr, "late process: %s\n", store_strerror(e));
        store_close(s2);
        _exit(e ? 1 : 0);
    }
    waitpid(late, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a process opened after the crash failed");

    double end = now_s() + after;
    while (now_s() < end) usleep(100000);
    touch(d.root, "stop");
    for (int i = 0; i < 2; i++) {
        waitpid(workers[i], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker %d did not carry on after the kill (status %d)",
              i, status);
    }
    store_close(st);

    /* Restart as master does: recovery, then verify. */
    r = store_open(&st, STORE_OPEN_RECOVER);
    CHECK(r == STORE_OK, "recovery open: %s", store_strerror(r));
    if (r) return 1;
    struct mailbox_info mb;
    CHECK(store_mailbox_lookup(st, "user/victim", &mb) == STORE_OK, "victim mailbox gone");
    struct msg_record rec;
    CHECK(store_record_get(st, mb.uniqueid, 1, &rec) == STORE_OK && rec.flags == 0,
          "the victim's uncommitted flag change survived");
    /* The victim's file was staged but never committed: an orphan. */
    nprob = 0;
    int n = store_verify(st, report, NULL);
    CHECK(n == 1, "verify before orphan removal: %d problems, expected the victim's file", n);
    n = store_remove_orphans(st, 0, report, NULL);
    CHECK(n == 1, "removed %d orphans, expected 1", n);
    nprob = 0;
    n = store_verify(st, report, NULL);
    CHECK(n == 0, "verify after recovery: %d problems", n);
    store_close(st);
    if (!fails) tstore_cleanup(&d);
    fprintf(stderr, "%s\n", fails ? "store_crash: FAILED" : "store_crash: ok");
    return fails ? 1 : 0;
}
