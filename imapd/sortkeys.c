/* Per-message keys for SORT and THREAD; see sortkeys.h. */
#include "sortkeys.h"
#include "leaflex.h"
#include <ctype.h>
#include <string.h>
#include <strings.h>

void sk_casemap(struct buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if (b->s[i] >= 'a' && b->s[i] <= 'z')
            b->s[i] = (char)(b->s[i] - 32);
}

/* The first real address (mailbox and host not NIL, i.e. not a group
 * marker) of an envelope field, or NULL. */
static const struct sx *first_addr(const struct sx *env, int field)
{
    if (env->type != 'L' || (size_t)field >= env->nkids)
        return NULL;
    const struct sx *list = &env->kids[field];
    if (list->type != 'L')
        return NULL;
    for (size_t i = 0; i < list->nkids; i++) {
        const struct sx *a = &list->kids[i];
        if (a->type == 'L' && a->nkids >= 4 && a->kids[2].type != 'N' && a->kids[3].type != 'N')
            return a;
    }
    return NULL;
}

static int load_env(struct msgview *v, struct sx *env)
{
    const struct msg_cache *c = msgview_cache(v);
    size_t len;
    const char *s = c ? message_cache_envelope(c, &len) : NULL;
    memset(env, 0, sizeof *env);
    if (!s || !len)
        return -1;
    return sx_parse_string(s, len, env);
}

void sk_first_mailbox(struct msgview *v, int field, struct buf *out)
{
    struct sx env;
    buf_reset(out);
    if (load_env(v, &env) == 0) {
        const struct sx *a = first_addr(&env, field);
        if (a && a->kids[2].s)
            buf_appendstr(out, a->kids[2].s);
    }
    sx_free(&env);
    (void)buf_cstr(out);
    sk_casemap(out);
}

void sk_display(struct msgview *v, int field, struct buf *out)
{
    struct sx env;
    buf_reset(out);
    if (load_env(v, &env) == 0) {
        const struct sx *a = first_addr(&env, field);
        if (a && a->kids[0].type != 'N' && a->kids[0].s && a->kids[0].s[0]) {
            message_decode_header(a->kids[0].s, strlen(a->kids[0].s), out);
        } else if (a) {
            buf_printf(out, "%s@%s", a->kids[2].s, a->kids[3].s);
        }
    }
    sx_free(&env);
    (void)buf_cstr(out);
    sk_casemap(out);
}

/* Does the raw subject carry a reply/forward marker ("Re:", "Fwd:", "Fw:",
 * "[fwd: ...]", "(fwd)")?  Checked on the decoded subject. */
static int subject_is_reply(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!strncasecmp(s, "[fwd:", 5))
        return 1;
    size_t n = 0;
    if (!strncasecmp(s, "re", 2))
        n = 2;
    else if (!strncasecmp(s, "fwd", 3))
        n = 3;
    else if (!strncasecmp(s, "fw", 2))
        n = 2;
    if (n) {
        const char *p = s + n;
        while (*p == ' ')
            p++;
        if (*p == '[') {                 /* blob: "Re[2]:" */
            const char *q = strchr(p, ']');
            if (q)
                p = q + 1;
            while (*p == ' ')
                p++;
        }
        if (*p == ':')
            return 1;
    }
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return len >= 5 && !strncasecmp(s + len - 5, "(fwd)", 5);
}

void sk_base_subject(struct msgview *v, struct buf *out, int *is_reply)
{
    const struct msg_cache *c = msgview_cache(v);
    struct buf raw = BUF_INIT, dec = BUF_INIT;
    buf_reset(out);
    if (is_reply)
        *is_reply = 0;
    if (c && message_cache_header(c, "Subject", &raw) > 0) {
        message_decode_header(raw.s, raw.len, &dec);
        (void)buf_cstr(&dec);
        if (is_reply)
            *is_reply = subject_is_reply(dec.s);
        message_base_subject(dec.s, dec.len, out);
    }
    buf_free(&raw);
    buf_free(&dec);
    (void)buf_cstr(out);
    sk_casemap(out);
}

time_t sk_sent_date(struct msgview *v)
{
    const struct msg_cache *c = msgview_cache(v);
    time_t t = c ? message_cache_sent_date(c) : 0;
    return t ? t : v->rec->internaldate;
}
