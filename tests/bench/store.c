/* Store benchmark: durable appends per second (4 KB messages) with 1 and 4
 * processes in one mailbox, 4 and 16 processes over many users' mailboxes,
 * and the time of a CHANGEDSINCE-style lookup (100 changes) in a big
 * mailbox, against a full scan of it.  Prints figures; asserts nothing.
 *
 * usage: store [seconds-per-run=3] [big-mailbox-messages=100000] [runs=1234]
 *   runs: which append runs to do (1: 1 process, 2: 4 in one mailbox,
 *   3: 4 over 200 users, 4: 16 over 200 users); big=0 skips changed-since. */
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include "../unit/test_store_util.h"
#include "bench_util.h"

/* One appender: 4 KB messages into `name` (or user/u<k> for k random in
 * [0, users) when users > 0) until the deadline; writes its count to fd. */
static int appender(int id, double seconds, const char *name, int users, int fd)
{
    struct store *st;
    if (store_open(&st, 0)) return 1;
    char buf[8192], box[64];
    unsigned n = 0, seed = (unsigned)getpid();
    double end = bench_now() + seconds;
    char tag[32];
    snprintf(tag, sizeof tag, "bench%d-%d", id, getpid());
    while (bench_now() < end) {
        size_t len = tstore_message(buf, sizeof buf, tag, n, 4096);
        if (users > 0) {
            seed = seed * 1103515245u + 12345u;
            snprintf(box, sizeof box, "user/u%u", (seed >> 8) % (unsigned)users);
        } else {
            snprintf(box, sizeof box, "%s", name);
        }
        struct staged_msg sm;
        struct mbtxn *t;
        if (store_stage_message(st, NULL, buf, len, &sm)) return 1;
        int r = store_mbtxn_begin(st, box, &t);
        if (r) { store_stage_discard(st, &sm); continue; }
        struct append_spec spec = { &sm, 0, NULL, 0 };
        if (store_append(t, &spec, NULL)) { store_mbtxn_abort(t); return 1; }
        if (store_mbtxn_commit(t)) return 1;
        n++;
    }
    store_close(st);
    return write(fd, &n, sizeof n) == sizeof n ? 0 : 1;
}

static void run_appenders(int procs, double seconds, const char *name, int users, const char *label)
{
    int pfd[2];
    if (pipe(pfd)) return;
    double t0 = bench_now();
    for (int i = 0; i < procs; i++)
        if (fork() == 0) { close(pfd[0]); _exit(appender(i, seconds, name, users, pfd[1])); }
    close(pfd[1]);
    unsigned total = 0, n;
    while (read(pfd[0], &n, sizeof n) == sizeof n) total += n;
    close(pfd[0]);
    int failed = 0, status;
    for (int i = 0; i < procs; i++) {
        wait(&status);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) failed++;
    }
    double dt = bench_now() - t0;
    printf("%-52s %8.0f appends/s  (%u in %.1f s%s)\n", label, total / dt, total, dt,
           failed ? ", SOME PROCESSES FAILED" : "");
    fflush(stdout);
}

struct counter { unsigned n; };
static int count_cb(const struct msg_record *rec, void *rock) { (void)rec; ((struct counter *)rock)->n++; return 0; }

/* Fill a mailbox with n small messages, 1000 per transaction. */
static int fill(struct store *st, const char *name, unsigned n)
{
    char buf[1024];
    for (unsigned i = 0; i < n;) {
        struct mbtxn *t;
        if (store_mbtxn_begin(st, name, &t)) return -1;
        for (unsigned j = 0; j < 1000 && i < n; j++, i++) {
            size_t len = tstore_message(buf, sizeof buf, "big", i, 100);
            struct staged_msg sm;
            struct append_spec spec = { &sm, 0, NULL, 0 };
            if (store_stage_message(st, NULL, buf, len, &sm) || store_append(t, &spec, NULL)) {
                store_mbtxn_abort(t);
                return -1;
            }
        }
        if (store_mbtxn_commit(t)) return -1;
    }
    return 0;
}

static void changed_since_bench(unsigned size)
{
    char err[256];
    config_set("durable_commits", "no", err, sizeof err);   /* the fill only */
    struct store *st;
    if (store_open(&st, 0)) return;
    struct mailbox_info mb;
    double t0 = bench_now();
    if (store_mailbox_create(st, "user/big", NULL, NULL, &mb) || fill(st, "user/big", size)) {
        printf("filling the big mailbox failed\n");
        store_close(st);
        return;
    }
    double tfill = bench_now() - t0;
    store_mailbox_lookup(st, "user/big", &mb);
    uint64_t since = mb.highestmodseq;
    struct mbtxn *t;
    if (store_mbtxn_begin(st, "user/big", &t)) return;
    for (unsigned i = 0; i < 100; i++) store_set_flags(t, 1 + (i * 7919u) % size, FLAG_SEEN, NULL, NULL);
    store_mbtxn_commit(t);
    int reps = 200;
    struct counter c = { 0 };
    t0 = bench_now();
    for (int i = 0; i < reps; i++) store_changed_since(st, mb.uniqueid, since, count_cb, &c);
    double tcs = (bench_now() - t0) / reps;
    unsigned found = c.n / (unsigned)reps;
    double tscan = 0;
    for (int i = 0; i < 2; i++) {   /* the second one with a warm cache */
        c.n = 0;
        t0 = bench_now();
        store_records(st, mb.uniqueid, 1, NULL, count_cb, &c);
        tscan = bench_now() - t0;
    }
    printf("%-52s %8.3f ms  (%u records returned)\n", "changed-since, 100 changes", tcs * 1e3, found);
    printf("%-52s %8.1f ms  (%u records; fill took %.1f s)\n", "full scan of the same mailbox, for comparison",
           tscan * 1e3, c.n, tfill);
    char label[80];
    snprintf(label, sizeof label, "(mailbox of %u messages)", size);
    printf("%s\n", label);
    store_close(st);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3;
    unsigned big = argc > 2 ? (unsigned)atoi(argv[2]) : 100000;
    struct tstore_dirs d;
    if (tstore_setup_config(&d)) return 1;
    char err[256];
    config_set("db_cache_size", "128M", err, sizeof err);
    struct store *st;
    if (store_open(&st, STORE_OPEN_CREATE | STORE_OPEN_RECOVER)) return 1;
    store_mailbox_create(st, "user/one", NULL, NULL, NULL);
    for (int u = 0; u < 200; u++) {
        char name[64];
        snprintf(name, sizeof name, "user/u%d", u);
        store_mailbox_create(st, name, NULL, NULL, NULL);
    }
    printf("store benchmark in %s (durable_commits: %s)\n", d.root, config_bool(CONF_DURABLE_COMMITS) ? "yes" : "no");
    const char *runs = argc > 3 ? argv[3] : "1234";
    if (strchr(runs, '1')) run_appenders(1, seconds, "user/one", 0, "1 process, one mailbox, 4 KB, durable");
    if (strchr(runs, '2')) run_appenders(4, seconds, "user/one", 0, "4 processes, one mailbox, 4 KB, durable");
    if (strchr(runs, '3')) run_appenders(4, seconds, NULL, 200, "4 processes, 200 users, 4 KB, durable");
    if (strchr(runs, '4')) run_appenders(16, seconds, NULL, 200, "16 processes, 200 users, 4 KB, durable");
    store_close(st);
    if (big) changed_since_bench(big);
    tstore_cleanup(&d);
    return 0;
}
