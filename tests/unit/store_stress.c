/* Multi-process store stress: N processes append, flag and expunge in one
 * shared mailbox (and a little in their own) for a given time.  Each child
 * logs every committed change; the parent then checks that no update was
 * lost, no uid or modseq was handed out twice, the replication log holds an
 * entry for every committed transaction, and the store verifies clean.
 *
 * usage: store_stress [seconds=10] [processes=4]     exit 0 when all is well */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include "test_store_util.h"

#define SHARED "user/shared"
#define MAXUID 200000

struct change { char op; uint32_t uid; uint64_t modseq; uint32_t flags; int mbox; };

static int fails;
#define CHECK(cond, ...) do { if (!(cond)) { fails++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static unsigned rnd(unsigned *seed) { *seed = *seed * 1103515245u + 12345u; return (*seed >> 8) & 0xffffff; }

/* One change per line in the child's log: op mbox uid modseq flags, and
 * "T mbox modseq" for each committed transaction. */
static int child(int id, double seconds, const char *logpath)
{
    struct store *st;
    int r = store_open(&st, 0);
    if (r) { fprintf(stderr, "child %d: open: %s\n", id, store_strerror(r)); return 1; }
    FILE *log = fopen(logpath, "w");
    if (!log) { perror(logpath); return 1; }
    char own[64], buf[8192];
    snprintf(own, sizeof own, "user/c%d", id);
    unsigned seed = (unsigned)(getpid() * 7919 + id);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned n = 0, committed = 0, locked = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 >= seconds) break;
        int mbox = rnd(&seed) % 4 == 0 ? 1 : 0;
        const char *name = mbox ? own : SHARED;
        unsigned what = rnd(&seed) % 10;
        struct staged_msg sm;
        int staged = 0;
        if (what < 5) {   /* append: stage first, outside the lock */
            size_t len = tstore_message(buf, sizeof buf, own, n++, 100 + rnd(&seed) % 3000);
            r = store_stage_message(st, NULL, buf, len, &sm);
            if (r) { fprintf(stderr, "child %d: stage: %s\n", id, store_strerror(r)); return 1; }
            staged = 1;
        }
        struct mbtxn *t;
        r = store_mbtxn_begin(st, name, &t);
        if (r == STORE_ELOCKED) { locked++; if (staged) store_stage_discard(st, &sm); continue; }
        if (r) { fprintf(stderr, "child %d: begin: %s\n", id, store_strerror(r)); return 1; }
        const struct mailbox_info *mb = store_mbtxn_mailbox(t);
        char lines[4][128];
        int nl = 0;
        if (staged) {
            uint32_t flags = rnd(&seed) % 2 ? FLAG_SEEN : 0, uid;
            struct append_spec spec = { &sm, flags, NULL, 0 };
            r = store_append(t, &spec, &uid);
            if (!r) snprintf(lines[nl++], 128, "A %d %u %llu %u", mbox, uid, (unsigned long long)mb->highestmodseq, flags);
            if (!r && what == 0) {   /* and flag it in the same transaction */
                struct msg_record rec;
                r = store_set_flags(t, uid, flags | FLAG_FLAGGED, NULL, &rec);
                if (!r) snprintf(lines[nl++], 128, "F %d %u %llu %u", mbox, uid, (unsigned long long)rec.modseq, rec.flags);
            }
        } else if (mb->uidnext > 1) {
            uint32_t uid = 1 + rnd(&seed) % (mb->uidnext - 1);
            struct msg_record rec;
            r = store_mbtxn_record(t, uid, &rec);
            if (!r && !(rec.flags & FLAG_EXPUNGED)) {
                if (what == 9) {
                    r = store_expunge(t, uid);
                    if (!r) snprintf(lines[nl++], 128, "E %d %u %llu 0", mbox, uid, (unsigned long long)mb->highestmodseq);
                } else {
                    uint32_t flags = rec.flags ^ (1u << (rnd(&seed) % 5));
                    r = store_set_flags(t, uid, flags, NULL, &rec);
                    if (!r) snprintf(lines[nl++], 128, "F %d %u %llu %u", mbox, uid, (unsigned long long)rec.modseq, rec.flags);
                }
            } else if (r == STORE_ENOENT || !r) {
                r = STORE_OK;
            }
        }
        if (r) { fprintf(stderr, "child %d: op: %s\n", id, store_strerror(r)); store_mbtxn_abort(t); return 1; }
        uint64_t hm = mb->highestmodseq;
        int changed = nl > 0;
        r = store_mbtxn_commit(t);
        if (r) { fprintf(stderr, "child %d: commit: %s\n", id, store_strerror(r)); return 1; }
        for (int i = 0; i < nl; i++) fprintf(log, "%s\n", lines[i]);
        if (changed) fprintf(log, "T %d 0 %llu 0\n", mbox, (unsigned long long)hm);
        committed++;
    }
    fclose(log);
    fprintf(stderr, "child %d: %u transactions, %u lock timeouts\n", id, committed, locked);
    store_close(st);
    return 0;
}

struct expect { uint64_t modseq; uint32_t flags; int expunged; int appended; };

static int replog_cb(const struct replog_entry *e, void *rock)
{
    /* Mark (uniqueid, modseq) pairs seen: store in a flat list. */
    struct { char ids[8][STORE_UNIQUEID_LEN + 1]; uint8_t *seen[8]; int n; } *r = rock;
    for (int i = 0; i < r->n; i++)
        if (!strcmp(r->ids[i], e->uniqueid) && e->modseq < MAXUID * 4) r->seen[i][e->modseq] = 1;
    return 0;
}

static void report(const char *p, void *rock) { (void)rock; fprintf(stderr, "verify: %s\n", p); }

static int check_record_cb(const struct msg_record *rec, void *rock)
{
    struct expect *ex = rock;
    if (rec->uid >= MAXUID) { fails++; return 0; }
    struct expect *e = &ex[rec->uid];
    CHECK(e->appended, "uid %u exists but no child appended it", rec->uid);
    CHECK(rec->modseq == e->modseq, "uid %u: modseq %llu, last committed change had %llu", rec->uid,
          (unsigned long long)rec->modseq, (unsigned long long)e->modseq);
    if (e->expunged) CHECK(rec->flags & FLAG_EXPUNGED, "uid %u: should be expunged", rec->uid);
    else CHECK(rec->flags == e->flags, "uid %u: flags %u, last committed change set %u (lost update)", rec->uid,
               rec->flags, e->flags);
    e->appended = 2;
    return 0;
}

/* Replays the children's logs against the final state of one mailbox. */
static void check_mailbox(struct store *st, struct tstore_dirs *d, int nproc, int mbox, int which_child)
{
    struct expect *ex = calloc(MAXUID, sizeof *ex);
    uint8_t *modseqs = calloc(MAXUID * 4, 1), *txns = calloc(MAXUID * 4, 1);
    char name[64];
    if (mbox) snprintf(name, sizeof name, "user/c%d", which_child);
    else snprintf(name, sizeof name, SHARED);
    for (int c = 0; c < nproc; c++) {
        if (mbox && c != which_child) continue;
        char path[400], line[256];
        snprintf(path, sizeof path, "%s/child%d.log", d->root, c);
        FILE *fp = fopen(path, "r");
        if (!fp) { CHECK(0, "no log %s", path); continue; }
        while (fgets(line, sizeof line, fp)) {
            char op;
            int mb;
            unsigned uid, flags;
            unsigned long long ms;
            if (sscanf(line, "%c %d %u %llu %u", &op, &mb, &uid, &ms, &flags) != 5 || mb != mbox) continue;
            if (op == 'T') {
                if (ms < MAXUID * 4) txns[ms] = 1;
                continue;
            }
            if (uid >= MAXUID || ms >= MAXUID * 4) { CHECK(0, "value out of range"); continue; }
            if (op == 'A') {
                CHECK(!ex[uid].appended, "%s: uid %u handed out twice", name, uid);
                ex[uid].appended = 1;
            }
            /* Changes in one transaction share no modseq either. */
            CHECK(!modseqs[ms], "%s: modseq %llu used twice", name, ms);
            modseqs[ms] = 1;
            if (ms > ex[uid].modseq) {
                ex[uid].modseq = ms;
                ex[uid].flags = flags;
                ex[uid].expunged = op == 'E';
            }
        }
        fclose(fp);
    }
    struct mailbox_info mb;
    if (store_mailbox_lookup(st, name, &mb)) { CHECK(0, "%s missing", name); goto out; }
    CHECK(store_records(st, mb.uniqueid, 1, NULL, check_record_cb, ex) == 0, "records scan");
    for (uint32_t u = 1; u < MAXUID; u++)
        CHECK(ex[u].appended != 1, "%s: committed uid %u is missing", name, u);
    /* Every committed transaction's highestmodseq is in the replication log. */
    struct { char ids[8][STORE_UNIQUEID_LEN + 1]; uint8_t *seen[8]; int n; } rl = { .n = 1 };
    memcpy(rl.ids[0], mb.uniqueid, sizeof rl.ids[0]);
    rl.seen[0] = calloc(MAXUID * 4, 1);
    CHECK(store_replog_scan(st, replog_cb, &rl) == 0, "replog scan");
    unsigned ntx = 0;
    for (uint64_t m = 0; m < MAXUID * 4; m++) {
        if (!txns[m]) continue;
        ntx++;
        CHECK(rl.seen[0][m], "%s: committed transaction at modseq %llu missing from the replication log", name,
              (unsigned long long)m);
    }
    fprintf(stderr, "%s: %u records, %u transactions checked, highestmodseq %llu\n", name, mb.uidnext - 1, ntx,
            (unsigned long long)mb.highestmodseq);
    free(rl.seen[0]);
out:
    free(ex);
    free(modseqs);
    free(txns);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    int nproc = argc > 2 ? atoi(argv[2]) : 4;
    if (nproc < 1 || nproc > 8) nproc = 4;
    struct tstore_dirs d;
    if (tstore_setup_config(&d)) return 99;
    struct store *st;
    int r = store_open(&st, STORE_OPEN_CREATE | STORE_OPEN_RECOVER);
    if (r) { fprintf(stderr, "open: %s\n", store_strerror(r)); return 99; }
    r = store_mailbox_create(st, SHARED, NULL, NULL, NULL);
    for (int c = 0; !r && c < nproc; c++) {
        char own[64];
        snprintf(own, sizeof own, "user/c%d", c);
        r = store_mailbox_create(st, own, NULL, NULL, NULL);
    }
    if (r) { fprintf(stderr, "create: %s\n", store_strerror(r)); return 99; }
    pid_t pids[8];
    for (int c = 0; c < nproc; c++) {
        char logpath[400];
        snprintf(logpath, sizeof logpath, "%s/child%d.log", d.root, c);
        pids[c] = fork();
        if (pids[c] == 0) _exit(child(c, seconds, logpath));
    }
    for (int c = 0; c < nproc; c++) {
        int status;
        waitpid(pids[c], &status, 0);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed (status %d)", c, status);
    }
    check_mailbox(st, &d, nproc, 0, 0);
    for (int c = 0; c < nproc; c++) check_mailbox(st, &d, nproc, 1, c);
    int problems = store_verify(st, report, NULL);
    CHECK(problems == 0, "verify found %d problems", problems);
    store_close(st);
    if (!fails) tstore_cleanup(&d);
    fprintf(stderr, "%s\n", fails ? "store_stress: FAILED" : "store_stress: ok");
    return fails ? 1 : 0;
}
