/* RFC 822/2045 lexical tokens, MIME parameters (RFC 2231) and Content-Type.
 * Everything works on byte ranges: header values are not NUL-terminated and
 * may hold any byte, so nothing here may read past lx->end. */
#include "message_internal.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void lex_init(struct lex *lx, const char *p, size_t len)
{
    lx->p = p;
    lx->end = p + len;
    lx->last_comment = NULL;
}

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips one comment starting at '('; comments nest and may hold
 * quoted-pairs.  An unterminated comment runs to the end. */
static void skip_comment(struct lex *lx)
{
    int depth = 0;
    if (lx->last_comment) buf_truncate(lx->last_comment, 0);
    while (lx->p < lx->end) {
        unsigned char c = (unsigned char)*lx->p++;
        if (c == '(') {
            if (depth++ == 0) continue;
        } else if (c == ')') {
            if (--depth == 0) return;
        } else if (c == '\\' && lx->p < lx->end) {
            c = (unsigned char)*lx->p++;
        } else if (c == '\r' || c == '\n') {
            continue;    /* folding inside a comment is not content */
        }
        if (lx->last_comment) buf_putc(lx->last_comment, (char)c);
    }
}

int lex_skip_cfws(struct lex *lx)
{
    while (lx->p < lx->end) {
        if (is_wsp((unsigned char)*lx->p)) lx->p++;
        else if (*lx->p == '(') skip_comment(lx);
        else return 1;
    }
    return 0;
}

/* atext of RFC 5322, plus 8-bit bytes (seen in real mail; Dovecot takes
 * them).  Switches, not strchr: these run for every header byte. */
static int is_atext(unsigned char c)
{
    if (c >= 0x80) return 1;
    if (c <= 0x20 || c == 0x7f) return 0;
    switch (c) {
    case '(': case ')': case '<': case '>': case '[': case ']': case ':': case ';':
    case '@': case '\\': case ',': case '.': case '"':
        return 0;
    default:
        return 1;
    }
}

/* token of RFC 2045 5.1: no tspecials */
static int is_token(unsigned char c)
{
    if (c >= 0x80) return 1;
    if (c <= 0x20 || c == 0x7f) return 0;
    switch (c) {
    case '(': case ')': case '<': case '>': case '@': case ',': case ';': case ':':
    case '\\': case '"': case '/': case '[': case ']': case '?': case '=':
        return 0;
    default:
        return 1;
    }
}

int lex_atom(struct lex *lx, struct buf *out)
{
    const char *s = lx->p;
    while (lx->p < lx->end && is_atext((unsigned char)*lx->p)) lx->p++;
    if (lx->p == s) return 0;
    buf_append(out, s, (size_t)(lx->p - s));
    return 1;
}

int lex_dot_atom(struct lex *lx, struct buf *out)
{
    if (!lex_atom(lx, out)) return 0;
    for (;;) {
        const char *save = lx->p;
        lex_skip_cfws(lx);
        if (lx->p >= lx->end || *lx->p != '.') { lx->p = save; return 1; }
        lx->p++;
        buf_putc(out, '.');
        lex_skip_cfws(lx);
        if (!lex_atom(lx, out)) return 1;   /* trailing dot kept, as seen */
    }
}

int lex_mime_token(struct lex *lx, struct buf *out)
{
    const char *s = lx->p;
    while (lx->p < lx->end && is_token((unsigned char)*lx->p)) lx->p++;
    if (lx->p == s) return 0;
    buf_append(out, s, (size_t)(lx->p - s));
    return 1;
}

int lex_quoted_string(struct lex *lx, struct buf *out)
{
    if (lx->p >= lx->end || *lx->p != '"') return 0;
    lx->p++;
    while (lx->p < lx->end) {
        char c = *lx->p++;
        if (c == '"') return 1;
        if (c == '\\' && lx->p < lx->end) c = *lx->p++;
        else if (c == '\r' || c == '\n') continue;   /* folding */
        buf_putc(out, c);
    }
    return 1;   /* unterminated: take what is there */
}

int lex_domain_literal(struct lex *lx, struct buf *out)
{
    if (lx->p >= lx->end || *lx->p != '[') return 0;
    const char *s = lx->p++;
    while (lx->p < lx->end && *lx->p != ']') {
        if (*lx->p == '\\' && lx->p + 1 < lx->end) lx->p++;
        lx->p++;
    }
    if (lx->p < lx->end) lx->p++;
    for (; s < lx->p; s++)
        if (*s != '\r' && *s != '\n') buf_putc(out, *s);
    return 1;
}

int lex_phrase(struct lex *lx, struct buf *out)
{
    int words = 0;
    for (;;) {
        const char *save = lx->p;
        if (!lex_skip_cfws(lx)) { lx->p = save; break; }
        size_t before = out->len;
        if (words) buf_putc(out, ' ');
        int ok;
        if (*lx->p == '"') ok = lex_quoted_string(lx, out);
        else if (*lx->p == '.') { lx->p++; buf_putc(out, '.'); ok = 1; }
        else ok = lex_atom(lx, out);
        if (!ok) { buf_truncate(out, before); lx->p = save; break; }
        words++;
    }
    return words > 0;
}

/* ---- parameters ---- */

struct rawparam {
    char *name, *value;
    int cont;          /* continuation number, -1 when not one */
    int extended;      /* segment ended in '*' */
    size_t baselen;
};

static void params_add(struct msg_params *ps, char *name, char *value)
{
    ps->kv = xrealloc(ps->kv, (ps->n + 1) * 2 * sizeof(char *));
    ps->kv[2 * ps->n] = name;
    ps->kv[2 * ps->n + 1] = value;
    ps->n++;
}

/* Splits "name*3*" into base length, continuation number and extension. */
static void classify(struct rawparam *r)
{
    size_t len = strlen(r->name);
    r->cont = -1;
    r->extended = 0;
    r->baselen = len;
    char *star = strchr(r->name, '*');
    if (!star || star == r->name) return;
    const char *q = star + 1;
    if (*q >= '0' && *q <= '9') {
        long n = 0;
        while (*q >= '0' && *q <= '9' && n < 100000) n = n * 10 + (*q++ - '0');
        if (*q == '*') { r->extended = 1; q++; }
        if (*q != '\0') return;
        r->cont = (int)n;
        r->baselen = (size_t)(star - r->name);
    }
}

static int cmp_cont(const void *a, const void *b)
{
    const struct rawparam *x = *(const struct rawparam *const *)a;
    const struct rawparam *y = *(const struct rawparam *const *)b;
    return (x->cont > y->cont) - (x->cont < y->cont);
}

/* Merges name*0, name*1... into one parameter; the plain ones keep their
 * order and the merged ones follow, as Dovecot lists them. */
static void merge_continuations(struct rawparam *raw, size_t n, struct msg_params *out)
{
    for (size_t i = 0; i < n; i++) {
        if (raw[i].cont < 0) {
            params_add(out, raw[i].name, raw[i].value);
            raw[i].name = raw[i].value = NULL;
        }
    }
    struct rawparam **grp = xmalloc((n ? n : 1) * sizeof(*grp));
    for (size_t i = 0; i < n; i++) {
        if (!raw[i].name) continue;
        size_t g = 0;
        for (size_t j = i; j < n; j++) {
            if (raw[j].name && raw[j].baselen == raw[i].baselen &&
                strncasecmp(raw[j].name, raw[i].name, raw[i].baselen) == 0)
                grp[g++] = &raw[j];
        }
        qsort(grp, g, sizeof(*grp), cmp_cont);
        struct buf v = BUF_INIT;
        int ext = 0;
        for (size_t k = 0; k < g; k++) {
            if (grp[k]->extended) ext = 1;
            buf_appendstr(&v, grp[k]->value);
        }
        char *name = xstrndup(raw[i].name, raw[i].baselen + (size_t)ext);
        if (ext) name[raw[i].baselen] = '*';
        if (!v.s) buf_appendstr(&v, "");
        params_add(out, name, buf_release(&v));
        for (size_t k = 0; k < g; k++) {
            free(grp[k]->name);
            free(grp[k]->value);
            grp[k]->name = grp[k]->value = NULL;
        }
    }
    free(grp);
}

void msg_params_parse(struct lex *lx, struct msg_params *out)
{
    struct rawparam *raw = NULL;
    size_t n = 0, alloc = 0;
    struct buf name = BUF_INIT, value = BUF_INIT;
    out->kv = NULL;
    out->n = 0;
    for (;;) {
        /* skip to the next ';' (garbage before it is ignored) */
        while (lex_skip_cfws(lx) && *lx->p != ';') lx->p++;
        if (lx->p >= lx->end) break;
        lx->p++;
        if (!lex_skip_cfws(lx)) break;
        buf_truncate(&name, 0);
        buf_truncate(&value, 0);
        if (!lex_mime_token(lx, &name)) continue;
        if (!lex_skip_cfws(lx) || *lx->p != '=') continue;
        lx->p++;
        lex_skip_cfws(lx);
        if (lx->p < lx->end && *lx->p == '"') lex_quoted_string(lx, &value);
        else if (!lex_mime_token(lx, &value)) continue;
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 8;
            raw = xrealloc(raw, alloc * sizeof(*raw));
        }
        raw[n].name = xstrndup(name.s, name.len);
        raw[n].value = xstrndup(value.s ? value.s : "", value.len);
        classify(&raw[n]);
        n++;
        if (n >= 1000) break;   /* hostile parameter floods */
    }
    merge_continuations(raw, n, out);
    for (size_t i = 0; i < n; i++) { free(raw[i].name); free(raw[i].value); }
    free(raw);
    buf_free(&name);
    buf_free(&value);
}

const char *msg_params_get(const struct msg_params *ps, const char *name)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcasecmp(ps->kv[2 * i], name) == 0) return ps->kv[2 * i + 1];
    return NULL;
}

void msg_params_free(struct msg_params *ps)
{
    for (size_t i = 0; i < 2 * ps->n; i++) free(ps->kv[i]);
    free(ps->kv);
    ps->kv = NULL;
    ps->n = 0;
}

void msg_ctype_parse(const char *v, size_t len, struct msg_ctype *ct)
{
    struct lex lx;
    struct buf t = BUF_INIT, s = BUF_INIT;
    memset(ct, 0, sizeof(*ct));
    lex_init(&lx, v, len);
    lex_skip_cfws(&lx);
    int ok = lex_mime_token(&lx, &t);
    if (ok && lex_skip_cfws(&lx) && *lx.p == '/') {
        lx.p++;
        lex_skip_cfws(&lx);
        ok = lex_mime_token(&lx, &s);
    } else {
        ok = 0;
    }
    if (!ok) {
        buf_free(&t);
        buf_free(&s);
        return;
    }
    ct->ok = 1;
    ct->type = buf_release(&t);
    ct->subtype = buf_release(&s);
    msg_params_parse(&lx, &ct->params);
}

void msg_ctype_free(struct msg_ctype *ct)
{
    free(ct->type);
    free(ct->subtype);
    msg_params_free(&ct->params);
    memset(ct, 0, sizeof(*ct));
}

/* ---- IMAP strings ---- */

/* A NUL may not appear in an IMAP literal: it goes out as 0x80, as
 * Dovecot replaces NULs in header values. */
static void append_literal(struct buf *b, const char *s, size_t len)
{
    buf_printf(b, "{%zu}\r\n", len);
    size_t at = b->len;
    buf_append(b, s, len);
    for (size_t i = at; i < b->len; i++)
        if (b->s[i] == '\0') b->s[i] = (char)0x80;
}

void imap_append_string(struct buf *b, const char *s, size_t len)
{
    unsigned escapes = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            if (escapes++ < 4) continue;
            append_literal(b, s, len);   /* many escapes: a literal reads better */
            return;
        }
        if (c == '\r' || c == '\n' || c >= 0x80 || c == 0) {
            append_literal(b, s, len);
            return;
        }
    }
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') buf_putc(b, '\\');
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

void imap_append_nstring(struct buf *b, const char *s, size_t len)
{
    if (!s) buf_appendstr(b, "NIL");
    else imap_append_string(b, s, len);
}

void imap_append_nstring_nolf(struct buf *b, const char *s, size_t len)
{
    if (!s) { buf_appendstr(b, "NIL"); return; }
    if (!memchr(s, '\r', len) && !memchr(s, '\n', len)) {
        imap_append_string(b, s, len);
        return;
    }
    struct buf t = BUF_INIT;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '\r' && s[i] != '\n') buf_putc(&t, s[i]);
    imap_append_string(b, t.s ? t.s : "", t.len);
    buf_free(&t);
}

void imap_append_string_for_humans(struct buf *b, const char *s, size_t len)
{
    int modify = 0, last_lwsp = 1;
    size_t remove = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case 0:
            modify = 1;
            last_lwsp = 0;
            break;
        case '\r': case '\n': case '\t':
            modify = 1;
            /* fall through */
        case ' ':
            if (last_lwsp) { modify = 1; remove++; }
            last_lwsp = 1;
            break;
        case '"': case '\\':
            modify = 1;
            last_lwsp = 0;
            break;
        default:
            if (c & 0x80) modify = 1;
            last_lwsp = 0;
            break;
        }
    }
    if (last_lwsp && len > 0 && remove < len) { modify = 1; remove++; }
    if (!modify) {
        buf_putc(b, '"');
        buf_append(b, s, len);
        buf_putc(b, '"');
        return;
    }
    if (remove >= len) { buf_appendstr(b, "\"\""); return; }
    struct buf t = BUF_INIT;
    last_lwsp = 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) { buf_putc(&t, (char)0x80); last_lwsp = 0; }
        else if (c == '\r' || c == '\n' || c == '\t' || c == ' ') {
            if (!last_lwsp) buf_putc(&t, ' ');
            last_lwsp = 1;
        } else { buf_putc(&t, (char)c); last_lwsp = 0; }
    }
    if (last_lwsp && t.len > 0) buf_truncate(&t, t.len - 1);
    append_literal(b, t.s ? t.s : "", t.len);
    buf_free(&t);
}
