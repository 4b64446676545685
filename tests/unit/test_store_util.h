/* Helpers shared by the store tests and the stress/crash programs: a fresh
 * configdirectory and partition in a temporary directory. */
#ifndef TEST_STORE_UTIL_H
#define TEST_STORE_UTIL_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "store.h"

struct tstore_dirs { char root[256], confdir[300], part[300], part2[300]; };

/* mkdtemp + config_set; returns 0 or -1 (with a message on stderr). */
static inline int tstore_setup_config(struct tstore_dirs *d)
{
    char err[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(d->root, sizeof d->root, "%s/satchel-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d->root)) { perror("mkdtemp"); return -1; }
    snprintf(d->confdir, sizeof d->confdir, "%s/conf", d->root);
    snprintf(d->part, sizeof d->part, "%s/spool", d->root);
    snprintf(d->part2, sizeof d->part2, "%s/spool2", d->root);
    config_load_defaults();
    if (config_set("configdirectory", d->confdir, err, sizeof err) ||
        config_set("partition-default", d->part, err, sizeof err) ||
        config_set("partition-second", d->part2, err, sizeof err) ||
        config_set("logging", "stderr", err, sizeof err) ||
        config_set("db_cache_size", "16M", err, sizeof err)) {
        fprintf(stderr, "config_set: %s\n", err);
        return -1;
    }
    return 0;
}

static inline void tstore_cleanup(struct tstore_dirs *d)
{
    if (getenv("KEEP_STORE")) { fprintf(stderr, "kept %s\n", d->root); return; }
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", d->root);
}

/* A distinct little message for (tag, n). */
static inline size_t tstore_message(char *buf, size_t len, const char *tag, unsigned n, size_t bodylen)
{
    int h = snprintf(buf, len, "From: a@example.org\r\nTo: b@example.org\r\nSubject: %s %u\r\n"
                               "Message-ID: <%s.%u@example.org>\r\n\r\n", tag, n, tag, n);
    size_t used = (size_t)h;
    while (used + 2 < len && used < (size_t)h + bodylen) {
        buf[used] = (char)('a' + (used % 26));
        used++;
        if (used % 70 == 0) { buf[used - 1] = '\r'; buf[used] = '\n'; used++; }
    }
    buf[used] = '\0';
    return used;
}
/* A fresh configdirectory and the store opened in it as master opens it. */
static inline int tstore_open(struct tstore_dirs *d, struct store **st)
{
    if (tstore_setup_config(d)) return -1;
    int r = store_open(st, STORE_OPEN_CREATE | STORE_OPEN_RECOVER);
    if (r) fprintf(stderr, "store_open: %s\n", store_strerror(r));
    return r ? -1 : 0;
}

static inline void tstore_close(struct tstore_dirs *d, struct store *st)
{
    store_close(st);
    tstore_cleanup(d);
}

/* Stages message (tag, n) with a body of bodylen bytes and appends it to
 * mbox with flags, in a transaction of its own: its uid, or 0 (with a
 * message on stderr) on failure.  sm_out, when given, gets the staged
 * message (its GUID). */
static inline uint32_t tstore_append(struct store *st, const char *mbox, const char *tag, unsigned n,
                                     size_t bodylen, uint32_t flags, struct staged_msg *sm_out)
{
    char buf[8192];
    size_t len = tstore_message(buf, sizeof buf, tag, n, bodylen);
    struct staged_msg sm;
    struct mbtxn *t;
    uint32_t uid = 0;
    int r = store_stage_message(st, NULL, buf, len, &sm);
    if (!r) r = store_mbtxn_begin(st, mbox, &t);
    if (!r) {
        struct append_spec spec = { &sm, flags, NULL, 0 };
        r = store_append(t, &spec, &uid);
        if (r) store_mbtxn_abort(t);
        else r = store_mbtxn_commit(t);
    }
    if (r) {
        fprintf(stderr, "append to %s: %s\n", mbox, store_strerror(r));
        return 0;
    }
    if (sm_out) *sm_out = sm;
    return uid;
}
#endif
