/* satchelctl mailbox create|delete|rename|list|status|move. */
#include "ctl.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "store.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int store_err(const char *what, const char *name, int r)
{
    if (r == STORE_ENOENT) return ctl_fail("mailbox %s does not exist", name);
    if (r == STORE_EEXIST) return ctl_fail("mailbox %s already exists", name);
    return ctl_fail("%s %s: %s", what, name, store_strerror(r));
}

static int mailbox_create(int argc, char **argv)
{
    const char *pos[1], *part = NULL, *use = NULL;
    const struct ctl_opt opts[] = { { "partition", &part }, { "special-use", &use }, { NULL, NULL } };
    int rc = ctl_args(argc, argv, opts, pos, 1, 1, NULL);
    if (rc) return rc;
    if (part && !config_partition(part)) return ctl_fail("partition %s is not defined in %s", part, config_path());
    if (use && use[0] != '\\') return ctl_usage("mailbox create: special use '%s' must start with a backslash", use);
    char name[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], name, sizeof name);
    if (!st) return CTL_FAIL;
    int r = store_mailbox_create(st, name, part, use, NULL);
    return r ? store_err("cannot create mailbox", name, r) : CTL_OK;
}

static int mailbox_delete(int argc, char **argv)
{
    const char *pos[1];
    int rc = ctl_args(argc, argv, NULL, pos, 1, 1, NULL);
    if (rc) return rc;
    char name[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], name, sizeof name);
    if (!st) return CTL_FAIL;
    int r = store_mailbox_delete(st, name);
    return r ? store_err("cannot delete mailbox", name, r) : CTL_OK;
}

struct tree { char **v; size_t n, cap; const char *root; size_t len; };

static int collect_tree(const struct mailbox_info *mb, void *rock)
{
    struct tree *t = rock;
    if (strcmp(mb->name, t->root) && (strncmp(mb->name, t->root, t->len) || mb->name[t->len] != '/')) return 0;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->v = xrealloc(t->v, t->cap * sizeof *t->v);
    }
    t->v[t->n++] = xstrdup(mb->name);
    return 0;
}

static void tree_free(struct tree *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->v[i]);
    free(t->v);
}

/* The new name of one member of the renamed tree. */
static void renamed(const char *name, const char *oldroot, const char *newroot, char *out, size_t len)
{
    snprintf(out, len, "%s%s", newroot, name + strlen(oldroot));
}

static int rename_tree(struct store *st, struct tree *t, const char *oldn, const char *newn)
{
    char to[STORE_MAX_NAME];
    struct mailbox_info mb;
    for (size_t i = 0; i < t->n; i++) {   /* check every target first: all or nothing */
        renamed(t->v[i], oldn, newn, to, sizeof to);
        int r = store_mailbox_lookup(st, to, &mb);
        if (r == STORE_OK) return ctl_fail("mailbox %s already exists", to);
        if (r != STORE_ENOENT) return store_err("cannot look up", to, r);
    }
    for (size_t i = 0; i < t->n; i++) {   /* parents first, in name order */
        renamed(t->v[i], oldn, newn, to, sizeof to);
        int r = store_mailbox_rename(st, t->v[i], to);
        if (r) {
            ctl_fail("cannot rename %s to %s: %s", t->v[i], to, store_strerror(r));
            return CTL_FAIL;
        }
    }
    return CTL_OK;
}

static int mailbox_rename(int argc, char **argv)
{
    const char *pos[2];
    int rc = ctl_args(argc, argv, NULL, pos, 2, 2, NULL);
    if (rc) return rc;
    char oldn[STORE_MAX_NAME], newn[STORE_MAX_NAME];
    ctl_mailbox_name(pos[0], oldn, sizeof oldn);
    ctl_mailbox_name(pos[1], newn, sizeof newn);
    size_t ol = strlen(oldn);
    if (!strcmp(oldn, newn) || (!strncmp(newn, oldn, ol) && newn[ol] == '/'))
        return ctl_fail("cannot rename %s into itself (%s)", oldn, newn);
    struct store *st = ctl_store(0);
    if (!st) return CTL_FAIL;
    struct tree t = { NULL, 0, 0, oldn, ol };
    int r = store_mailbox_list(st, oldn, collect_tree, &t);
    if (r < 0) { tree_free(&t); return store_err("cannot list", oldn, r); }
    if (t.n == 0 || strcmp(t.v[0], oldn)) { tree_free(&t); return ctl_fail("mailbox %s does not exist", oldn); }
    rc = rename_tree(st, &t, oldn, newn);
    tree_free(&t);
    return rc;
}

static int print_name(const struct mailbox_info *mb, void *rock)
{
    (void)rock;
    return puts(mb->name) < 0 ? -1 : 0;
}

static int mailbox_list(int argc, char **argv)
{
    const char *pos[1] = { "" };
    int rc = ctl_args(argc, argv, NULL, pos, 0, 1, NULL);
    if (rc) return rc;
    char prefix[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], prefix, sizeof prefix);
    if (!st) return CTL_FAIL;
    int r = store_mailbox_list(st, prefix, print_name, NULL);
    return r < 0 ? ctl_fail("cannot list mailboxes: %s", store_strerror(r)) : CTL_OK;
}

/* The start of commands whose one argument is an existing mailbox. */
static int existing_mailbox(int argc, char **argv, struct mailbox_info *mb)
{
    const char *pos[1];
    int rc = ctl_args(argc, argv, NULL, pos, 1, 1, NULL);
    if (rc) return rc;
    char name[STORE_MAX_NAME];
    struct store *st;
    return ctl_open_mailbox(pos[0], name, sizeof name, &st, mb);
}

static int mailbox_status(int argc, char **argv)
{
    struct mailbox_info mb;
    int rc = existing_mailbox(argc, argv, &mb);
    if (rc) return rc;
    printf("name: %s\n", mb.name);
    printf("uniqueid: %s\n", mb.uniqueid);
    printf("partition: %s\n", mb.partition);
    printf("uidvalidity: %" PRIu32 "\n", mb.uidvalidity);
    printf("uidnext: %" PRIu32 "\n", mb.uidnext);
    printf("messages: %" PRIu32 "\n", mb.exists);
    printf("size: %" PRIu64 "\n", mb.size);
    printf("highestmodseq: %" PRIu64 "\n", mb.highestmodseq);
    printf("deletedmodseq: %" PRIu64 "\n", mb.deletedmodseq);
    printf("createdmodseq: %" PRIu64 "\n", mb.createdmodseq);
    printf("quotaroot: %s\n", mb.quotaroot);
    printf("specialuse: %s\n", mb.specialuse);
    printf("acl: %s\n", mb.acl);
    printf("created: %lld\n", (long long)mb.created);
    if (mb.summary == STORE_SUMMARY_NONE) {
        printf("summary: none (made at the mailbox's next change)\n");
    } else {
        printf("summary: %s\n", mb.summary == STORE_SUMMARY_OK ? "ok" : "keyword list full");
        printf("unseen: %" PRIu32 "\n", mb.unseen);
        printf("deleted: %" PRIu32 "\n", mb.deleted);
        printf("firstunseen: %" PRIu32 "\n", mb.firstunseen);
        printf("keywords: %s\n", mb.keywords);
    }
    return CTL_OK;
}

static int mailbox_move(int argc, char **argv)
{
    const char *pos[2];
    int rc = ctl_args(argc, argv, NULL, pos, 2, 2, NULL);
    if (rc) return rc;
    if (!config_partition(pos[1])) return ctl_fail("partition %s is not defined in %s", pos[1], config_path());
    char name[STORE_MAX_NAME];
    struct store *st = ctl_store_mailbox(pos[0], name, sizeof name);
    if (!st) return CTL_FAIL;
    int r = store_mailbox_set_partition(st, name, pos[1]);
    return r ? store_err("cannot move mailbox", name, r) : CTL_OK;
}

/* RFC 4314 rights letters (plus the obsolete c and d that clients still send). */
static int valid_rights(const char *r)
{
    if (!*r) return 0;
    for (; *r; r++)
        if (!strchr("lrswipkxtecda", *r)) return 0;
    return 1;
}

/* acl with user's entry replaced by rights ("" drops it) into out. */
static void acl_replace(const char *acl, const char *user, const char *rights, struct buf *out)
{
    char *copy = xstrdup(acl);
    char *save = NULL;
    for (char *who = strtok_r(copy, "\t", &save); who; who = strtok_r(NULL, "\t", &save)) {
        char *r = strtok_r(NULL, "\t", &save);
        if (!r || !strcmp(who, user)) continue;
        buf_printf(out, "%s%s\t%s", out->len ? "\t" : "", who, r);
    }
    if (*rights) buf_printf(out, "%s%s\t%s", out->len ? "\t" : "", user, rights);
    free(copy);
}

static int mailbox_setacl(int argc, char **argv)
{
    const char *pos[3];
    int rc = ctl_args(argc, argv, NULL, pos, 3, 3, NULL);
    if (rc) return rc;
    const char *user = pos[1], *rights = pos[2];
    if (!*user || strpbrk(user, " \t")) return ctl_usage("mailbox setacl: bad identifier '%s'", user);
    if (!strcmp(rights, "none")) rights = "";
    else if (!valid_rights(rights)) return ctl_usage("mailbox setacl: bad rights '%s' (letters of lrswipkxtecda, or none)", rights);
    char name[STORE_MAX_NAME];
    struct store *st;
    struct mailbox_info mb;
    if ((rc = ctl_open_mailbox(pos[0], name, sizeof name, &st, &mb))) return rc;
    struct buf acl = BUF_INIT;
    acl_replace(mb.acl, user, rights, &acl);
    int r = store_mailbox_set_acl(st, name, buf_cstr(&acl));
    buf_free(&acl);
    return r ? store_err("cannot set the ACL of", name, r) : CTL_OK;
}

static int mailbox_getacl(int argc, char **argv)
{
    struct mailbox_info mb;
    int rc = existing_mailbox(argc, argv, &mb);
    if (rc) return rc;
    char *save = NULL;
    for (char *who = strtok_r(mb.acl, "\t", &save); who; who = strtok_r(NULL, "\t", &save)) {
        char *rights = strtok_r(NULL, "\t", &save);
        printf("%s %s\n", who, rights ? rights : "");
    }
    return CTL_OK;
}

int cmd_mailbox(int argc, char **argv)
{
    static const struct ctl_sub subs[] = {
        { "create", mailbox_create }, { "delete", mailbox_delete }, { "rename", mailbox_rename },
        { "list", mailbox_list }, { "status", mailbox_status }, { "move", mailbox_move },
        { "setacl", mailbox_setacl }, { "getacl", mailbox_getacl }, { NULL, NULL },
    };
    return ctl_dispatch("mailbox", subs, argc, argv);
}
