/* satchelctl append|fetch: put a message file into a mailbox and get its
 * bytes back, for byte-for-byte checks without a protocol in between. */
#include "ctl.h"
#include "store.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int read_file(const char *path, struct buf *out)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(out, chunk, n);
    int bad = ferror(f);
    if (f != stdin) fclose(f);
    return bad ? -1 : 0;
}

/* "\Seen \Flagged $Label" -> system flag bits and keywords. */
static int parse_flags(const char *s, uint32_t *flags, struct buf *keywords)
{
    static const struct { const char *name; uint32_t bit; } sys[] = {
        { "\\Seen", FLAG_SEEN }, { "\\Answered", FLAG_ANSWERED }, { "\\Flagged", FLAG_FLAGGED },
        { "\\Deleted", FLAG_DELETED }, { "\\Draft", FLAG_DRAFT },
    };
    *flags = 0;
    while (*s) {
        s += strspn(s, " ,");
        size_t len = strcspn(s, " ,");
        if (!len) break;
        int found = 0;
        for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
            if (strlen(sys[i].name) == len && !strncasecmp(s, sys[i].name, len)) { *flags |= sys[i].bit; found = 1; }
        if (!found) {
            if (s[0] == '\\') return -1;   /* no other system flags may be set */
            if (keywords->len) buf_putc(keywords, ' ');
            buf_append(keywords, s, len);
        }
        s += len;
    }
    return 0;
}

static int append_bytes(struct store *st, const struct mailbox_info *mb, const struct buf *data,
                        uint32_t flags, const char *keywords, uint32_t *uid)
{
    struct staged_msg sm;
    int r = store_stage_message(st, mb->partition, data->s ? data->s : "", data->len, &sm);
    if (r) return ctl_fail("cannot store the message for %s: %s", mb->name, store_strerror(r));
    struct mbtxn *t;
    if ((r = store_mbtxn_begin(st, mb->name, &t))) return ctl_fail("cannot lock mailbox %s: %s", mb->name, store_strerror(r));
    struct append_spec spec = { &sm, flags, *keywords ? keywords : NULL, 0 };
    if ((r = store_append(t, &spec, uid))) {
        store_mbtxn_abort(t);
        return ctl_fail("cannot append to mailbox %s: %s", mb->name, store_strerror(r));
    }
    if ((r = store_mbtxn_commit(t))) return ctl_fail("cannot commit to mailbox %s: %s", mb->name, store_strerror(r));
    return CTL_OK;
}

static int append_to(const char *arg, const struct buf *data, uint32_t flags, const char *keywords)
{
    char name[STORE_MAX_NAME];
    struct store *st;
    struct mailbox_info mb;
    int rc = ctl_open_mailbox(arg, name, sizeof name, &st, &mb);
    if (rc) return rc;
    uint32_t uid = 0;
    rc = append_bytes(st, &mb, data, flags, keywords, &uid);
    if (rc == CTL_OK) printf("%" PRIu32 "\n", uid);
    return rc;
}

int cmd_append(int argc, char **argv)
{
    const char *pos[2], *flagstr = "";
    const struct ctl_opt opts[] = { { "flags", &flagstr }, { NULL, NULL } };
    int rc = ctl_args(argc, argv, opts, pos, 2, 2, NULL);
    if (rc) return rc;
    uint32_t flags;
    struct buf kw = BUF_INIT, data = BUF_INIT;
    if (parse_flags(flagstr, &flags, &kw) < 0) { buf_free(&kw); return ctl_usage("append: bad flags '%s'", flagstr); }
    if (read_file(pos[1], &data) < 0) {
        buf_free(&kw);
        return ctl_fail("cannot read %s: %s", pos[1], strerror(errno));
    }
    rc = append_to(pos[0], &data, flags, buf_cstr(&kw));
    buf_free(&kw);
    buf_free(&data);
    return rc;
}

int cmd_fetch(int argc, char **argv)
{
    const char *pos[2];
    int rc = ctl_args(argc, argv, NULL, pos, 2, 2, NULL);
    if (rc) return rc;
    uint64_t uid;
    if (ctl_parse_uint(pos[1], &uid) < 0 || uid == 0 || uid > UINT32_MAX) return ctl_usage("fetch: bad uid '%s'", pos[1]);
    char name[STORE_MAX_NAME];
    struct store *st;
    struct mailbox_info mb;
    if ((rc = ctl_open_mailbox(pos[0], name, sizeof name, &st, &mb))) return rc;
    struct msg_record rec;
    int r = store_record_get(st, mb.uniqueid, (uint32_t)uid, &rec);
    if (r == STORE_ENOENT || (r == STORE_OK && (rec.flags & FLAG_EXPUNGED)))
        return ctl_fail("mailbox %s has no message with uid %" PRIu64, name, uid);
    if (r) return ctl_fail("cannot read uid %" PRIu64 " of %s: %s", uid, name, store_strerror(r));
    struct msgmap m;
    if ((r = store_message_map(st, mb.partition, rec.guid, &m)))
        return ctl_fail("cannot read message %s (uid %" PRIu64 " of %s): %s", rec.guid, uid, name, store_strerror(r));
    size_t len = m.len, w = len ? fwrite(m.data, 1, len, stdout) : 0;
    store_message_unmap(&m);
    if (w != len || fflush(stdout) != 0) return ctl_fail("cannot write the message: %s", strerror(errno));
    return CTL_OK;
}
