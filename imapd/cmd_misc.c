/* CAPABILITY, NOOP, CHECK, LOGOUT, ID, ENABLE, NAMESPACE, COMPRESS. */
#define _GNU_SOURCE
#include <config.h>   /* autoconf: PACKAGE_VERSION */
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

void capability_string(const struct session *s, struct buf *out)
{
    buf_reset(out);
    buf_appendstr(out, "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE NAMESPACE UNSELECT");
    if (s->state == ST_NOTAUTH) {
        if (imap_preauth) imap_preauth->capabilities(s, out);
        return;
    }
    buf_appendstr(out, " UIDPLUS MOVE CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE"
                       " ESEARCH SEARCHRES SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
                       " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE QUOTASET ACL RIGHTS=kxte BINARY MULTIAPPEND");
    buf_printf(out, " APPENDLIMIT=%lld", config_int(CONF_IMAP_MAX_LITERAL));
    buf_appendstr(out, " STATUS=SIZE SAVEDATE OBJECTID UTF8=ACCEPT WITHIN");
    if (!prot_is_deflate(s->prot)) buf_appendstr(out, " COMPRESS=DEFLATE");
}

void cmd_capability(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    struct buf caps = BUF_INIT;
    capability_string(s, &caps);
    sess_printf(s, "* CAPABILITY %s\r\n", caps.s);
    buf_free(&caps);
}

void cmd_noop(struct session *s, struct cmd *c)
{
    (void)s;
    if (ps_eol(&c->ps)) cmd_ok(c, "NOOP completed");
}

void cmd_check(struct session *s, struct cmd *c)
{
    (void)s;
    if (ps_eol(&c->ps)) cmd_ok(c, "CHECK completed");
}

void cmd_logout(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    sess_printf(s, "* BYE Logging out\r\n");
    s->state = ST_LOGOUT;
    cmd_ok(c, "LOGOUT completed");
}

/* ID ( "name" "value" ... ) / ID NIL: log the client's identity. */
void cmd_id(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf k = BUF_INIT, v = BUF_INIT, all = BUF_INIT;
    int nil;
    if (!ps_sp(ps)) goto out;
    if (!ps_accept_word(ps, "NIL")) {
        if (!ps_list_open(ps)) goto out;
        int n = 0;
        while (ps_ok(ps) && ps_peek(ps) != ')') {
            if (n++ && !ps_sp(ps)) break;
            if (!ps_nstring(ps, &k, &nil) || !ps_sp(ps) || !ps_nstring(ps, &v, &nil)) break;
            if (n > 30) { ps_fail(ps, "Too many ID fields"); break; }
            if (k.len < 64 && v.len < 256) buf_printf(&all, " %s=%s", k.s, nil ? "NIL" : v.s);
        }
        if (!ps_list_close(ps)) goto out;
    }
    if (!ps_eol(ps)) goto out;
    if (all.len) log_info("client ID:%s", all.s);
    sess_printf(s, "* ID (\"name\" \"Satchel\" \"version\" \"%s\" \"vendor\" \"Satchel\")\r\n", PACKAGE_VERSION);
    cmd_ok(c, "ID completed");
out:
    buf_free(&k);
    buf_free(&v);
    buf_free(&all);
}

void cmd_enable(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    struct buf out = BUF_INIT;
    int n = 0;
    while (ps_ok(ps) && !ps_at_end(ps)) {
        const char *a;
        size_t len;
        if (!ps_sp(ps) || !ps_atom(ps, &a, &len)) break;
        n++;
        unsigned bit = 0;
        const char *name = NULL;
        if (len == 9 && strncasecmp(a, "IMAP4rev2", 9) == 0) bit = EN_REV2, name = "IMAP4rev2";
        else if (len == 11 && strncasecmp(a, "UTF8=ACCEPT", 11) == 0) bit = EN_UTF8, name = "UTF8=ACCEPT";
        /* CONDSTORE/QRESYNC are not advertised yet: ignored as RFC 5161 says. */
        if (bit && !(s->enabled & bit)) {
            s->enabled |= bit;
            buf_printf(&out, " %s", name);
        }
    }
    if (ps_ok(ps) && !n) ps_fail(ps, "ENABLE needs at least one capability");
    if (s->sel && (s->enabled & EN_REV2)) s->sel->no_recent = 1;
    if (ps_ok(ps)) {
        sess_printf(s, "* ENABLED%s\r\n", out.s ? out.s : "");
        cmd_ok(c, "ENABLE completed");
    }
    buf_free(&out);
}

void cmd_namespace(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    sess_printf(s, "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared Folders/\" \"/\"))\r\n");
    cmd_ok(c, "NAMESPACE completed");
}

void cmd_compress(struct session *s, struct cmd *c)
{
    struct imap_parser *ps = &c->ps;
    const char *a;
    size_t n;
    if (!ps_sp(ps) || !ps_atom(ps, &a, &n) || !ps_eol(ps)) return;
    if (n != 7 || strncasecmp(a, "DEFLATE", 7) != 0) {
        cmd_bad(c, "Unknown compression mechanism");
        return;
    }
    if (prot_is_deflate(s->prot)) {
        cmd_no(c, "[COMPRESSIONACTIVE] DEFLATE is already active");
        return;
    }
    sess_printf(s, "%s OK DEFLATE active\r\n", c->tag);
    c->answered = 1;
    sess_flush(s);
    if (prot_start_deflate(s->prot) != 0) {
        log_error("could not start DEFLATE");
        s->state = ST_LOGOUT;
    }
}
