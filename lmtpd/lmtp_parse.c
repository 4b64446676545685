/* Pure LMTP parsing helpers (see lmtp_parse.h).  Everything here must cope
 * with arbitrary client bytes: it is fed directly from the socket. */
#include "lmtp_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum lmtp_verb verb; } verbs[] = {
    {"LHLO", V_LHLO}, {"HELO", V_HELO}, {"EHLO", V_EHLO}, {"MAIL", V_MAIL},
    {"RCPT", V_RCPT}, {"DATA", V_DATA}, {"BDAT", V_BDAT}, {"RSET", V_RSET},
    {"NOOP", V_NOOP}, {"QUIT", V_QUIT}, {"VRFY", V_VRFY}, {"STARTTLS", V_STARTTLS},
    {"AUTH", V_AUTH}, {"HELP", V_HELP},
};

enum lmtp_verb lmtp_verb(const char *line, const char **args)
{
    size_t n = strcspn(line, " ");
    const char *rest = line + n;
    while (*rest == ' ') rest++;
    *args = rest;
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strlen(verbs[i].name) == n && strncasecmp(line, verbs[i].name, n) == 0) return verbs[i].verb;
    return V_UNKNOWN;
}

/* Finds the '>' closing the path that starts after '<', honouring quoted
 * strings and backslash escapes; NULL when unterminated. */
static const char *path_end(const char *p)
{
    int quoted = 0;
    for (; *p; p++) {
        if (*p == '\\' && p[1]) { p++; continue; }
        if (*p == '"') quoted = !quoted;
        else if (*p == '>' && !quoted) return p;
    }
    return NULL;
}

static int parse_mail_param(const char *key, size_t klen, const char *val, size_t vlen, struct lmtp_path *out)
{
    if (klen == 4 && strncasecmp(key, "SIZE", 4) == 0) {
        if (!val || vlen == 0 || vlen > 18) return PARSE_SYNTAX;
        int64_t n = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (!isdigit((unsigned char)val[i])) return PARSE_SYNTAX;
            n = n * 10 + (val[i] - '0');
        }
        out->size = n;
        return PARSE_OK;
    }
    if (klen == 4 && strncasecmp(key, "BODY", 4) == 0) {
        if (val && vlen == 4 && strncasecmp(val, "7BIT", 4) == 0) return PARSE_OK;
        if (val && vlen == 8 && strncasecmp(val, "8BITMIME", 8) == 0) { out->body8 = 1; return PARSE_OK; }
        return PARSE_BADPARAM;
    }
    /* RFC 4954: AUTH=<mailbox> may accompany MAIL when AUTH is offered. */
    if (klen == 4 && strncasecmp(key, "AUTH", 4) == 0 && val) return PARSE_OK;
    return PARSE_BADPARAM;
}

static int parse_params(const char *p, int is_mail, struct lmtp_path *out)
{
    for (;;) {
        while (*p == ' ') p++;
        if (!*p) return PARSE_OK;
        if (!is_mail) return PARSE_BADPARAM;
        size_t n = strcspn(p, " ");
        const char *eq = memchr(p, '=', n);
        size_t klen = eq ? (size_t)(eq - p) : n;
        if (klen == 0) return PARSE_SYNTAX;
        int r = parse_mail_param(p, klen, eq ? eq + 1 : NULL, eq ? n - klen - 1 : 0, out);
        if (r != PARSE_OK) return r;
        p += n;
    }
}

int lmtp_parse_path(const char *args, const char *kw, int is_mail, struct lmtp_path *out)
{
    memset(out, 0, sizeof *out);
    out->size = -1;
    size_t kwlen = strlen(kw);
    if (strncasecmp(args, kw, kwlen) != 0) return PARSE_SYNTAX;
    const char *p = args + kwlen;
    while (*p == ' ') p++;             /* "MAIL FROM: <a>" is common enough */
    if (*p != '<') return PARSE_SYNTAX;
    const char *start = p + 1, *end = path_end(start);
    if (!end) return PARSE_SYNTAX;
    /* RFC 5321 source route "@a,@b:user@c": keep only the mailbox. */
    if (*start == '@') {
        const char *colon = memchr(start, ':', (size_t)(end - start));
        if (!colon) return PARSE_SYNTAX;
        start = colon + 1;
    }
    size_t len = (size_t)(end - start);
    if (len >= sizeof out->addr) return PARSE_TOOLONG;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)start[i] < 0x20 || start[i] == 0x7f) return PARSE_SYNTAX;
    memcpy(out->addr, start, len);
    out->addr[len] = '\0';
    if (len == 0 && !is_mail) return PARSE_SYNTAX;
    if (end[1] && end[1] != ' ') return PARSE_SYNTAX;
    return parse_params(end + 1, is_mail, out);
}

int lmtp_parse_bdat(const char *args, uint64_t *size, int *last)
{
    const char *p = args;
    if (!isdigit((unsigned char)*p)) return -1;
    uint64_t n = 0;
    for (; isdigit((unsigned char)*p); p++) {
        if (n > (UINT64_MAX - 9) / 10) return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *size = n;
    *last = 0;
    while (*p == ' ') p++;
    if (!*p) return 0;
    if (strncasecmp(p, "LAST", 4) != 0) return -1;
    p += 4;
    while (*p == ' ') p++;
    if (*p) return -1;
    *last = 1;
    return 0;
}

/* Copies the local part into out, removing quoting; returns its end in
 * addr (the '@' or the terminating NUL), or NULL when malformed. */
static const char *copy_local(const char *addr, char *out, size_t outlen)
{
    size_t o = 0;
    const char *p = addr;
    int quoted = 0;
    for (; *p; p++) {
        if (*p == '@' && !quoted) break;
        if (*p == '"') { quoted = !quoted; continue; }
        if (*p == '\\' && quoted && p[1]) p++;
        if (o + 1 >= outlen) return NULL;
        out[o++] = *p;
    }
    if (quoted) return NULL;
    out[o] = '\0';
    return p;
}

static void lower(char *s)
{
    for (; *s; s++) *s = (char)tolower((unsigned char)*s);
}

int lmtp_split_rcpt(const char *addr, int virtual_domains, int lowercase_users, struct lmtp_rcpt_addr *out)
{
    char local[LMTP_MAX_PATH];
    memset(out, 0, sizeof *out);
    const char *at = copy_local(addr, local, sizeof local);
    if (!at) return -1;
    char *plus = strchr(local, '+');
    if (plus) {
        *plus = '\0';
        strcpy(out->folder, plus + 1);
    }
    if (!local[0] || strchr(local, '/')) return -1;
    for (const char *c = local; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f) return -1;
    if (lowercase_users) lower(local);
    const char *domain = *at == '@' ? at + 1 : "";
    if (virtual_domains && *domain) {
        if (strchr(domain, '/') || strlen(local) + 1 + strlen(domain) >= sizeof out->user) return -1;
        char dom[LMTP_MAX_PATH];
        strcpy(dom, domain);
        lower(dom);
        snprintf(out->user, sizeof out->user, "%s@%s", local, dom);
    } else {
        strcpy(out->user, local);
    }
    /* "+INBOX" and an empty detail both mean the INBOX itself. */
    if (strcasecmp(out->folder, "INBOX") == 0) out->folder[0] = '\0';
    return 0;
}

int lmtp_find_message_id(const char *msg, size_t len, char *out, size_t outlen)
{
    static const char name[] = "message-id:";
    const char *p = msg, *end = msg + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *lend = eol ? eol : end;
        if (lend == p || (lend == p + 1 && *p == '\r')) return -1;   /* end of header */
        if ((size_t)(lend - p) >= sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
            /* Collect the value with its continuation lines, unfolded. */
            size_t o = 0;
            const char *v = p + sizeof name - 1;
            for (;;) {
                for (; v < lend; v++) {
                    if (*v == '\r') continue;
                    if ((*v == ' ' || *v == '\t') && (o == 0 || out[o - 1] == ' ')) continue;
                    if (o + 1 < outlen) out[o++] = *v == '\t' ? ' ' : *v;
                }
                if (!eol || eol + 1 >= end || (eol[1] != ' ' && eol[1] != '\t')) break;
                v = eol + 1;
                eol = memchr(v, '\n', (size_t)(end - v));
                lend = eol ? eol : end;
            }
            while (o && out[o - 1] == ' ') o--;
            out[o] = '\0';
            return o ? 0 : -1;
        }
        if (!eol) break;
        p = eol + 1;
    }
    return -1;
}

void lmtp_body_init(struct lmtp_body *b, const char *sender, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
    buf_printf(&b->data, "Return-Path: <%s>\r\n", sender);
    b->header_len = b->data.len;
}

void lmtp_body_free(struct lmtp_body *b)
{
    buf_free(&b->data);
}

size_t lmtp_body_size(const struct lmtp_body *b)
{
    return b->data.len - b->header_len;
}

/* Marks the body as too big and drops what was collected. */
static int over_limit(struct lmtp_body *b, size_t more)
{
    if (b->too_big) return 1;
    if (lmtp_body_size(b) + more <= b->max) return 0;
    b->too_big = 1;
    buf_truncate(&b->data, b->header_len);
    return 1;
}

int lmtp_body_add_line(struct lmtp_body *b, const char *line, size_t len)
{
    if (len == 1 && line[0] == '.') return 1;
    if (len && line[0] == '.') line++, len--;
    if (!over_limit(b, len + 2)) {
        buf_append(&b->data, line, len);
        buf_append(&b->data, "\r\n", 2);
    }
    return 0;
}

void lmtp_body_add_chunk(struct lmtp_body *b, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t take = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* Was the byte before this LF a CR (possibly in the previous chunk)? */
        int cr = take ? p[take - 1] == '\r' : b->last_cr;
        if (!over_limit(b, take + (nl ? (cr ? 1 : 2) : 0))) {
            buf_append(&b->data, p, take);
            if (nl) buf_append(&b->data, cr ? "\n" : "\r\n", cr ? 1 : 2);
        }
        if (take) b->last_cr = p[take - 1] == '\r';
        if (!nl) break;
        b->last_cr = 0;
        p = nl + 1;
    }
}
