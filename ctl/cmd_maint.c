/* satchelctl verify|recover|checkpoint|expire|replog: store maintenance,
 * fit for crontabs and master's EVENTS (silent when all is well).
 * expire also drops lmtpd's duplicate-delivery records that have outlived
 * duplicate_window. */
#include "ctl.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "store.h"
#include "log.h"
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* Point the config at a store copy: DIR is its configdirectory, and
 * DIR/partitions/NAME replaces partition NAME where it exists. */
static int use_copy(const char *dir)
{
    char err[CONFIG_ERR_MAX], path[4096];
    if (!is_dir(dir)) return ctl_fail("%s is not a directory", dir);
    if (config_set("configdirectory", dir, err, sizeof err) < 0) return ctl_fail("%s", err);
    int n = config_partition_count();
    for (int i = 0; i < n; i++) {
        const char *name = config_partition_name(i);
        snprintf(path, sizeof path, "%s/partitions/%s", dir, name);
        if (!is_dir(path)) continue;
        char key[128];
        snprintf(key, sizeof key, "partition-%s", name);
        if (config_set(key, path, err, sizeof err) < 0) return ctl_fail("%s", err);
    }
    return CTL_OK;
}

static void report_problem(const char *problem, void *rock)
{
    int *count = rock;
    (*count)++;
    printf("%s\n", problem);
}

/* A first Ctrl-C stopped verify between two entries or files: it only
 * read, so nothing is half done, and what it found is already printed. */
static int verify_stopped(const char *what)
{
    fprintf(stderr, "satchelctl: verify: stopped on request before the end: %s\n", what);
    log_notice("verify: stopped on request");
    return CTL_FAIL;
}

/* With --remove-orphans, first remove message files that nothing refers to
 * and that are older than --min-age (default: an hour on the live store,
 * where a staging may be in progress; nothing on a copy). */
static int remove_orphans(struct store *st, int copy, const char *min_age, int *count)
{
    int64_t age = copy ? 0 : 3600;
    if (min_age && ctl_parse_duration(min_age, &age) < 0)
        return ctl_usage("verify: bad duration '%s' for --min-age", min_age);
    int removed = store_remove_orphans(st, (time_t)age, report_problem, count);
    *count = 0;   /* removals are news, not problems */
    if (removed == STORE_ESTOPPED) return verify_stopped("the orphan files listed were removed; nothing was checked");
    return removed < 0 ? ctl_fail("removing orphan files failed: %s", store_strerror(removed)) : CTL_OK;
}

int cmd_verify(int argc, char **argv)
{
    const char *pos[1] = { NULL }, *min_age = NULL;
    const struct ctl_opt opts[] = { { "remove-orphans", NULL }, { "min-age", &min_age }, { NULL, NULL } };
    int n;
    int rc = ctl_args(argc, argv, opts, pos, 0, 1, &n);
    if (rc) return rc;
    int fix = ctl_flag(argc, argv, "remove-orphans");
    if (min_age && !fix) return ctl_usage("verify: --min-age goes with --remove-orphans");
    if (n && (rc = use_copy(pos[0]))) return rc;
    char db[4096];
    if (!is_dir(config_dir_path("db", db, sizeof db))) return ctl_fail("no store in %s (missing %s)", config_string(CONF_CONFIGDIRECTORY), db);
    /* A copy is ours alone: bring its environment to a consistent state first. */
    struct store *st = ctl_store(n ? STORE_OPEN_RECOVER : 0);
    if (!st) return CTL_FAIL;
    int count = 0;
    if (fix && (rc = remove_orphans(st, n, min_age, &count))) return rc;
    int r = store_verify(st, report_problem, &count);
    fflush(stdout);
    if (r == STORE_ESTOPPED)
        return verify_stopped("the problems listed are those found until then; the rest was not checked");
    if (r < 0) return ctl_fail("verify of %s failed: %s", config_string(CONF_CONFIGDIRECTORY), store_strerror(r));
    return (r > 0 || count > 0) ? CTL_FAIL : CTL_OK;
}

int cmd_recover(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    return ctl_store(STORE_OPEN_RECOVER) ? CTL_OK : CTL_FAIL;
}

int cmd_checkpoint(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    int r = store_checkpoint(st, 1);
    return r ? ctl_fail("checkpoint failed: %s", store_strerror(r)) : CTL_OK;
}

/* a as a percentage of b with one decimal, or "-" when b is 0. */
static void print_percent(const char *name, uint64_t a, uint64_t b)
{
    if (b) printf("%s: %.1f%%\n", name, 100.0 * (double)a / (double)b);
    else printf("%s: -\n", name);
}

int cmd_stats(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    struct store_stats s;
    int r = store_stats(st, &s);
    if (r) return ctl_fail("cannot read the index statistics: %s", store_strerror(r));
    printf("transactions: %" PRIu64 "\naborts: %" PRIu64 "\nactive_transactions: %" PRIu64 "\n", s.commits,
           s.aborts, s.active_txns);
    printf("log_flushes: %" PRIu64 "\n", s.log_flushes);
    printf("log_bytes: %" PRIu64 "\ncache_bytes: %" PRIu64 "\n", s.log_bytes, s.cache_bytes);
    printf("cache_hits: %" PRIu64 "\ncache_misses: %" PRIu64 "\n", s.cache_hits, s.cache_misses);
    print_percent("cache_hit_rate", s.cache_hits, s.cache_hits + s.cache_misses);
    printf("cache_pages_written: %" PRIu64 "\ncache_evictions: %" PRIu64 "\n", s.cache_pages_written,
           s.cache_evictions);
    printf("lock_requests: %" PRIu64 "\nlock_waits: %" PRIu64 "\ndeadlocks: %" PRIu64 "\n", s.lock_requests,
           s.lock_waits, s.deadlocks);
    return CTL_OK;
}

/* lmtpd's duplicate records: "mailbox\tmsgid" -> delivery time (epoch
 * seconds).  One is stale once lmtpd would no longer suppress with it;
 * anything unreadable is dropped too. */
struct dup_age { time_t now; int64_t window; };

static int dup_expired(const char *key, const char *val, size_t len, void *rock)
{
    (void)key;
    const struct dup_age *a = rock;
    char *end;
    errno = 0;
    long long when = len ? strtoll(val, &end, 10) : 0;
    if (!len || errno || *end) return 1;
    return (long long)a->now - when >= a->window;
}

/* A first Ctrl-C stopped expire between two of its transactions: what
 * they did is committed, and the next run goes on from there. */
static int expire_stopped(uint64_t purged, uint64_t dropped)
{
    fprintf(stderr, "satchelctl: expire: stopped after purging %" PRIu64 " tombstones and dropping %" PRIu64
            " duplicate records; run it again to go on\n", purged, dropped);
    log_notice("expire: stopped on request after %" PRIu64 " tombstones and %" PRIu64 " duplicate records", purged,
               dropped);
    return CTL_FAIL;
}

int cmd_expire(int argc, char **argv)
{
    const char *age = NULL, *dup_age = NULL, *batch = NULL;
    const struct ctl_opt opts[] = { { "age", &age }, { "duplicate-age", &dup_age }, { "batch", &batch },
                                    { "verbose", NULL }, { NULL, NULL } };
    int rc = ctl_args(argc, argv, opts, NULL, 0, 0, NULL);
    if (rc) return rc;
    int verbose = ctl_flag(argc, argv, "verbose");
    int64_t secs = config_int(CONF_TOMBSTONE_EXPIRE);
    if (age && ctl_parse_duration(age, &secs) < 0)
        return ctl_usage("expire: bad duration '%s' for --age (like 3600, 30m, 12h, 30d)", age);
    struct dup_age dup = { time(NULL), config_int(CONF_DUPLICATE_WINDOW) };
    if (dup_age && ctl_parse_duration(dup_age, &dup.window) < 0)
        return ctl_usage("expire: bad duration '%s' for --duplicate-age", dup_age);
    uint64_t per_txn = 1000;   /* deletions per transaction */
    if (batch && (ctl_parse_uint(batch, &per_txn) < 0 || per_txn < 1 || per_txn > 1000000))
        return ctl_usage("expire: bad number '%s' for --batch (1 to 1000000)", batch);
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    uint64_t purged = 0, dropped = 0;
    int r = store_expire_tombstones(st, (time_t)secs, &purged);
    if (r == STORE_ESTOPPED) return expire_stopped(purged, 0);
    if (r) return ctl_fail("tombstone expiry failed: %s", store_strerror(r));
    r = store_kv_expire(st, KV_DUPLICATE, dup_expired, &dup, (size_t)per_txn, &dropped);
    if (r == STORE_ESTOPPED) return expire_stopped(purged, dropped);
    if (r) return ctl_fail("duplicate record expiry failed: %s", store_strerror(r));
    log_info("expire: dropped %" PRIu64 " duplicate delivery records older than %llds", dropped,
             (long long)dup.window);
    if (verbose) printf("purged: %" PRIu64 "\nduplicates: %" PRIu64 "\n", purged, dropped);
    return CTL_OK;
}

static int print_entry(const struct replog_entry *e, void *rock)
{
    (void)rock;
    printf("%" PRIu64 " %s %s %s %" PRIu64 "\n", e->seq, e->type, e->name, e->uniqueid[0] ? e->uniqueid : "-", e->modseq);
    return 0;
}

int cmd_replog(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    int r = store_replog_scan(st, print_entry, NULL);
    return r < 0 ? ctl_fail("cannot read the replication log: %s", store_strerror(r)) : CTL_OK;
}
