/* satchelctl quota set|show. */
#include "ctl.h"
#include "store.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* "none" -> -1, else a size or count; 0 or CTL_USAGE. */
static int parse_limit(const char *opt, const char *v, int is_size, int64_t *out)
{
    if (!strcmp(v, "none") || !strcmp(v, "unlimited")) { *out = -1; return 0; }
    if (is_size) {
        if (ctl_parse_size(v, out) == 0) return 0;
        return ctl_usage("quota set: bad quota value '%s' for --%s (a size like 500M, or none)", v, opt);
    }
    uint64_t n;
    if (ctl_parse_uint(v, &n) == 0 && n <= INT64_MAX) { *out = (int64_t)n; return 0; }
    return ctl_usage("quota set: bad quota value '%s' for --%s (a count, or none)", v, opt);
}

/* Reads root's quota into *q: CTL_OK, or CTL_FAIL after printing why.  A
 * root without a record is an error if must_exist, else it reads as
 * unlimited. */
static int read_quota(struct store *st, const char *root, struct quota *q, int must_exist)
{
    int r = store_quota_get(st, root, q);
    if (r == STORE_ENOENT && !must_exist) {
        q->storage_limit = q->message_limit = -1;
        return CTL_OK;
    }
    if (r == STORE_ENOENT) return ctl_fail("quota root %s does not exist", root);
    if (r) return ctl_fail("cannot read quota root %s: %s", root, store_strerror(r));
    return CTL_OK;
}

static int quota_set(int argc, char **argv)
{
    const char *pos[1], *storage = NULL, *messages = NULL;
    const struct ctl_opt opts[] = { { "storage", &storage }, { "messages", &messages }, { NULL, NULL } };
    int rc = ctl_args(argc, argv, opts, pos, 1, 1, NULL);
    if (rc) return rc;
    if (!storage && !messages) return ctl_usage("quota set: give --storage and/or --messages");
    int64_t slimit = -1, mlimit = -1;
    if (storage && (rc = parse_limit("storage", storage, 1, &slimit))) return rc;
    if (messages && (rc = parse_limit("messages", messages, 0, &mlimit))) return rc;
    char root[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], root, sizeof root);
    if (!st) return CTL_FAIL;
    struct quota q;
    if ((rc = read_quota(st, root, &q, 0))) return rc;
    if (!storage) slimit = q.storage_limit;   /* keep the limit that was not given */
    if (!messages) mlimit = q.message_limit;
    int r = store_quota_set(st, root, slimit, mlimit);
    if (r) return ctl_fail("cannot set quota root %s: %s", root, store_strerror(r));
    return CTL_OK;
}

static void print_limit(const char *key, int64_t v)
{
    if (v < 0) printf("%s: none\n", key);
    else printf("%s: %" PRId64 "\n", key, v);
}

static int quota_show(int argc, char **argv)
{
    const char *pos[1];
    int rc = ctl_args(argc, argv, NULL, pos, 1, 1, NULL);
    if (rc) return rc;
    char root[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], root, sizeof root);
    if (!st) return CTL_FAIL;
    struct quota q;
    if ((rc = read_quota(st, root, &q, 1))) return rc;
    printf("root: %s\n", root);
    print_limit("storage_limit", q.storage_limit);
    printf("storage_used: %" PRIu64 "\n", q.storage_used);
    print_limit("messages_limit", q.message_limit);
    printf("messages_used: %" PRIu64 "\n", q.messages_used);
    return CTL_OK;
}

int cmd_quota(int argc, char **argv)
{
    static const struct ctl_sub subs[] = { { "set", quota_set }, { "show", quota_show }, { NULL, NULL } };
    return ctl_dispatch("quota", subs, argc, argv);
}
