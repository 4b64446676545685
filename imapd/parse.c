/* IMAP command reading (with literals) and tokenizing; see parse.h. */
#define _GNU_SOURCE
#include "parse.h"
#include "prot.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---------- reading ---------- */

int imap_literal_marker(const char *line, size_t len, uint64_t *n, int *nonsync, int *binary, size_t *marker_off)
{
    if (len < 3 || line[len - 1] != '}') return 0;
    size_t i = len - 1;
    int plus = 0;
    if (line[i - 1] == '+' || line[i - 1] == '-') { plus = 1; i--; }
    size_t digits_end = i;
    while (i > 0 && isdigit((unsigned char)line[i - 1])) i--;
    if (i == 0 || line[i - 1] != '{') return 0;
    if (i == digits_end) return -1;             /* "{}" or "{+}" */
    if (digits_end - i > 18) return -1;          /* would overflow */
    uint64_t v = 0;
    for (size_t k = i; k < digits_end; k++) v = v * 10 + (uint64_t)(line[k] - '0');
    size_t off = i - 1;
    int bin = 0;
    if (off > 0 && line[off - 1] == '~') { bin = 1; off--; }
    *n = v;
    *nonsync = plus;
    *binary = bin;
    *marker_off = off;
    return 1;
}

static enum imap_read_result prot_result(ssize_t r)
{
    if (r == PROT_EOF) return IMAP_READ_EOF;
    if (r == PROT_TIMEOUT) return IMAP_READ_TIMEOUT;
    return IMAP_READ_IOERR;
}

enum imap_read_result imap_read_command(struct prot *p, const struct imap_limits *lim, struct buf *cmd,
                                        char *err, size_t errlen)
{
    struct buf line = BUF_INIT;
    enum imap_read_result res = IMAP_READ_OK;
    buf_reset(cmd);
    buf_cstr(cmd);
    for (;;) {
        ssize_t r = prot_getline(p, &line, lim->max_line);
        if (r == PROT_TOOLONG || (r >= 0 && cmd->len + (size_t)r > lim->max_command)) {
            snprintf(err, errlen, "Command line too long (limit %zu bytes)", lim->max_line);
            res = IMAP_READ_TOOLONG;
            break;
        }
        if (r < 0) { res = prot_result(r); break; }
        buf_append(cmd, line.s, line.len);
        uint64_t n;
        int nonsync, binary;
        size_t off;
        if (imap_literal_marker(line.s, line.len, &n, &nonsync, &binary, &off) != 1) break;
        if (n > lim->max_literal || cmd->len + n > lim->max_command) {
            snprintf(err, errlen, "Literal too large (%llu bytes; limit %zu)", (unsigned long long)n, lim->max_literal);
            res = nonsync ? IMAP_READ_LITERAL_FATAL : IMAP_READ_LITERAL_REFUSED;
            break;
        }
        if (!nonsync) {
            prot_puts(p, "+ go ahead\r\n");
            if (prot_flush(p) < 0) { res = IMAP_READ_IOERR; break; }
        }
        buf_append(cmd, "\r\n", 2);
        r = prot_read_exact(p, cmd, (size_t)n);
        if (r < 0) { res = prot_result(r); break; }
    }
    buf_free(&line);
    buf_cstr(cmd);
    return res;
}

int imap_nesting_depth(const char *cmd, size_t len)
{
    int depth = 0, max = 0;
    size_t i = 0;
    while (i < len) {
        char c = cmd[i];
        if (c == '"') {
            for (i++; i < len && cmd[i] != '"'; i++)
                if (cmd[i] == '\\') i++;
            i++;
        } else if (c == '\r' && i + 1 < len && cmd[i + 1] == '\n') {
            /* CRLF inside a command only follows a literal marker. */
            size_t j = i;
            while (j > 0 && cmd[j - 1] != '{') j--;
            uint64_t n = 0;
            for (size_t k = j; k < i && cmd[k] >= '0' && cmd[k] <= '9' && n < (uint64_t)len; k++)
                n = n * 10 + (uint64_t)(cmd[k] - '0');
            i += 2;
            i = n > len - i ? len : i + (size_t)n;
        } else {
            if (c == '(' && ++depth > max) max = depth;
            if (c == ')' && depth > 0) depth--;
            i++;
        }
    }
    return max;
}

/* ---------- tokenizing ---------- */

void ps_init(struct imap_parser *ps, const char *data, size_t len, int max_depth)
{
    memset(ps, 0, sizeof *ps);
    ps->start = ps->p = data;
    ps->end = data + len;
    ps->max_depth = max_depth > 0 ? max_depth : 32;
}

int ps_fail(struct imap_parser *ps, const char *why)
{
    if (!ps->err) ps->err = why;
    return 0;
}

int ps_ok(const struct imap_parser *ps) { return ps->err == NULL; }
int ps_at_end(const struct imap_parser *ps) { return ps->err || ps->p >= ps->end; }

int ps_peek(const struct imap_parser *ps)
{
    if (ps->err || ps->p >= ps->end) return -1;
    return (unsigned char)*ps->p;
}

int ps_accept(struct imap_parser *ps, int c)
{
    int n = ps_peek(ps);
    if (n < 0) return 0;
    if (n == c || (isalpha(c) && tolower(n) == tolower(c))) { ps->p++; return 1; }
    return 0;
}

int ps_is_atom_char(int c)
{
    if (c <= 0x1f || c >= 0x7f) return 0;
    return !strchr("(){ %*\"\\]", c);
}

int ps_accept_word(struct imap_parser *ps, const char *word)
{
    if (ps->err) return 0;
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || strncasecmp(ps->p, word, n) != 0) return 0;
    if (ps->p + n < ps->end && ps_is_atom_char((unsigned char)ps->p[n])) return 0;
    ps->p += n;
    return 1;
}

int ps_sp(struct imap_parser *ps)
{
    if (ps_accept(ps, ' ')) return 1;
    return ps_fail(ps, ps_at_end(ps) ? "Missing argument" : "Expected a space");
}

int ps_eol(struct imap_parser *ps)
{
    if (ps->err) return 0;
    if (ps->p == ps->end) return 1;
    return ps_fail(ps, "Unexpected extra arguments");
}

void ps_skip_rest(struct imap_parser *ps) { ps->p = ps->end; }

int ps_atom_ex(struct imap_parser *ps, const char *extra, const char **s, size_t *len)
{
    if (ps->err) return 0;
    const char *b = ps->p;
    while (ps->p < ps->end) {
        int c = (unsigned char)*ps->p;
        if (!ps_is_atom_char(c) && !(c && extra && strchr(extra, c))) break;
        ps->p++;
    }
    if (ps->p == b) return ps_fail(ps, ps->p == ps->end ? "Missing argument" : "Invalid characters in atom");
    *s = b;
    *len = (size_t)(ps->p - b);
    return 1;
}

int ps_atom(struct imap_parser *ps, const char **s, size_t *len) { return ps_atom_ex(ps, NULL, s, len); }

int ps_atom_buf(struct imap_parser *ps, struct buf *out)
{
    const char *s;
    size_t n;
    if (!ps_atom(ps, &s, &n)) return 0;
    buf_reset(out);
    buf_append(out, s, n);
    return 1;
}

static int parse_quoted(struct imap_parser *ps, struct buf *scratch, const char **s, size_t *len)
{
    const char *b = ++ps->p;
    int escaped = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p;
        if (c == '\r' || c == '\n' || c == '\0') return ps_fail(ps, "Invalid character in quoted string");
        if (c == '\\') {
            if (ps->p + 1 >= ps->end || (ps->p[1] != '"' && ps->p[1] != '\\'))
                return ps_fail(ps, "Invalid escape in quoted string");
            escaped = 1;
            ps->p++;
        }
        ps->p++;
    }
    if (ps->p >= ps->end) return ps_fail(ps, "Unterminated quoted string");
    const char *e = ps->p++;
    ps->last_was_literal = ps->last_was_binary = 0;
    if (!escaped) { *s = b; *len = (size_t)(e - b); return 1; }
    buf_reset(scratch);
    for (const char *q = b; q < e; q++) {
        if (*q == '\\') q++;
        buf_putc(scratch, *q);
    }
    *s = scratch->s;
    *len = scratch->len;
    return 1;
}

static int parse_literal(struct imap_parser *ps, const char **s, size_t *len)
{
    int binary = 0;
    if (*ps->p == '~') { binary = 1; ps->p++; }
    if (ps->p >= ps->end || *ps->p != '{') return ps_fail(ps, "Invalid literal");
    ps->p++;
    uint64_t n = 0;
    int digits = 0;
    while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
        if (++digits > 18) return ps_fail(ps, "Literal size too large");
        n = n * 10 + (uint64_t)(*ps->p++ - '0');
    }
    if (!digits) return ps_fail(ps, "Invalid literal size");
    if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
    if (ps->end - ps->p < 3 || memcmp(ps->p, "}\r\n", 3) != 0) return ps_fail(ps, "Invalid literal");
    ps->p += 3;
    if ((uint64_t)(ps->end - ps->p) < n) return ps_fail(ps, "Literal shorter than announced");
    if (!binary && memchr(ps->p, '\0', (size_t)n)) return ps_fail(ps, "NUL in a non-binary literal");
    *s = ps->p;
    *len = (size_t)n;
    ps->p += n;
    ps->last_was_literal = 1;
    ps->last_was_binary = binary;
    return 1;
}

/* Does a quoted string or a literal ({n} or ~{n}) start here?  A lone '~'
 * is an ordinary atom character. */
static int string_starts(const struct imap_parser *ps)
{
    int c = ps_peek(ps);
    return c == '"' || c == '{' || (c == '~' && ps->p + 1 < ps->end && ps->p[1] == '{');
}

int ps_string(struct imap_parser *ps, struct buf *scratch, const char **s, size_t *len)
{
    int c = ps_peek(ps);
    if (c == '"') return parse_quoted(ps, scratch, s, len);
    if (string_starts(ps)) return parse_literal(ps, s, len);
    return ps_fail(ps, c < 0 ? "Missing argument" : "Expected a string");
}

int ps_astring(struct imap_parser *ps, struct buf *out)
{
    const char *s;
    size_t n;
    struct buf scratch = BUF_INIT;
    int ok;
    if (string_starts(ps)) ok = ps_string(ps, &scratch, &s, &n);
    else ok = ps_atom_ex(ps, "]", &s, &n);
    if (ok) {
        /* s may point into out's old contents? No: it points into the command
         * or scratch, never into out. */
        buf_reset(out);
        buf_append(out, s, n);
    }
    buf_free(&scratch);
    return ok;
}

int ps_nstring(struct imap_parser *ps, struct buf *out, int *isnil)
{
    *isnil = 0;
    if (ps_accept_word(ps, "NIL")) { *isnil = 1; buf_reset(out); buf_cstr(out); return 1; }
    const char *s;
    size_t n;
    struct buf scratch = BUF_INIT;
    int ok = ps_string(ps, &scratch, &s, &n);
    if (ok) { buf_reset(out); buf_append(out, s, n); }
    buf_free(&scratch);
    return ok;
}

int ps_list_mailbox(struct imap_parser *ps, struct buf *out)
{
    if (string_starts(ps)) return ps_astring(ps, out);
    const char *s;
    size_t n;
    if (!ps_atom_ex(ps, "%*]", &s, &n)) return 0;
    buf_reset(out);
    buf_append(out, s, n);
    return 1;
}

int ps_number64(struct imap_parser *ps, uint64_t *out)
{
    if (ps->err) return 0;
    uint64_t v = 0;
    int digits = 0;
    while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
        v = v * 10 + (uint64_t)(*ps->p++ - '0');
        if (++digits > 19 || v > INT64_MAX) return ps_fail(ps, "Number too large");
    }
    if (!digits) return ps_fail(ps, "Expected a number");
    *out = v;
    return 1;
}

int ps_number(struct imap_parser *ps, uint32_t *out)
{
    uint64_t v;
    if (!ps_number64(ps, &v)) return 0;
    if (v > UINT32_MAX) return ps_fail(ps, "Number too large");
    *out = (uint32_t)v;
    return 1;
}

int ps_nz_number(struct imap_parser *ps, uint32_t *out)
{
    if (!ps_number(ps, out)) return 0;
    if (*out == 0) return ps_fail(ps, "Zero is not a valid number here");
    return 1;
}

int ps_list_open(struct imap_parser *ps)
{
    if (!ps_accept(ps, '(')) return ps_fail(ps, "Expected '('");
    if (++ps->depth > ps->max_depth) return ps_fail(ps, "Too many nested parentheses");
    return 1;
}

int ps_list_close(struct imap_parser *ps)
{
    if (!ps_accept(ps, ')')) return ps_fail(ps, ps_at_end(ps) ? "Missing ')'" : "Expected ')'");
    ps->depth--;
    return 1;
}

int ps_flag(struct imap_parser *ps, struct buf *out, int allow_star)
{
    const char *s;
    size_t n;
    buf_reset(out);
    if (ps_accept(ps, '\\')) {
        buf_putc(out, '\\');
        if (allow_star && ps_accept(ps, '*')) { buf_putc(out, '*'); return 1; }
        if (!ps_atom(ps, &s, &n)) return ps_fail(ps, "Invalid flag");
        buf_append(out, s, n);
        return 1;
    }
    if (!ps_atom(ps, &s, &n)) return ps_fail(ps, "Invalid flag");
    buf_append(out, s, n);
    return 1;
}

static int month_index(const char *m)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(m, months[i], 3) == 0) return i;
    return -1;
}

static int days_in_month(int mon, int year)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return d[mon] + (mon == 1 && leap);
}

/* "d-Mon-yyyy" or " d-Mon-yyyy" at s; sets tm fields, returns chars used or 0. */
static size_t parse_day_month_year(const char *s, size_t len, struct tm *tm)
{
    size_t i = 0;
    int day = 0;
    if (i < len && s[i] == ' ') i++;
    int nd = 0;
    while (i < len && isdigit((unsigned char)s[i]) && nd < 2) { day = day * 10 + (s[i++] - '0'); nd++; }
    if (!nd || i + 9 > len || s[i] != '-' || s[i + 4] != '-') return 0;
    int mon = month_index(s + i + 1);
    if (mon < 0) return 0;
    i += 5;
    int year = 0;
    for (int k = 0; k < 4; k++) {
        if (!isdigit((unsigned char)s[i + (size_t)k])) return 0;
        year = year * 10 + (s[i + (size_t)k] - '0');
    }
    i += 4;
    if (day < 1 || year < 1900 || day > days_in_month(mon, year)) return 0;
    tm->tm_mday = day;
    tm->tm_mon = mon;
    tm->tm_year = year - 1900;
    return i;
}

int ps_date_time(struct imap_parser *ps, int64_t *out)
{
    if (ps_peek(ps) != '"') return ps_fail(ps, "Expected a quoted date-time");
    const char *b = ps->p + 1;
    const char *q = memchr(b, '"', (size_t)(ps->end - b));
    if (!q) return ps_fail(ps, "Unterminated date-time");
    size_t len = (size_t)(q - b);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    size_t i = parse_day_month_year(b, len, &tm);
    int hh, mm, ss, zone;
    char sign;
    if (!i || len - i != 15 || sscanf(b + i, " %2d:%2d:%2d %c%4d", &hh, &mm, &ss, &sign, &zone) != 5 ||
        (sign != '+' && sign != '-') || hh > 23 || mm > 59 || ss > 60 || b[i + 3] != ':' || b[i + 6] != ':')
        return ps_fail(ps, "Invalid date-time");
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    int64_t t = (int64_t)timegm(&tm);
    int64_t off = (zone / 100) * 3600 + (zone % 100) * 60;
    *out = sign == '+' ? t - off : t + off;
    ps->p = q + 1;
    return 1;
}

int ps_date(struct imap_parser *ps, int64_t *out)
{
    int quoted = ps_accept(ps, '"');
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (ps->err || ps->p >= ps->end || *ps->p == ' ') return ps_fail(ps, "Invalid date");
    size_t used = parse_day_month_year(ps->p, (size_t)(ps->end - ps->p), &tm);
    if (!used) return ps_fail(ps, "Invalid date");
    ps->p += used;
    if (quoted && !ps_accept(ps, '"')) return ps_fail(ps, "Invalid date");
    *out = (int64_t)timegm(&tm);
    return 1;
}

/* ---------- output ---------- */

static int needs_literal(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == '\0' || c >= 0x80) return 1;
    }
    return len > 1024;
}

void imap_put_string(struct buf *out, const char *s, size_t len)
{
    if (needs_literal(s, len)) {
        buf_printf(out, "{%zu}\r\n", len);
        buf_append(out, s, len);
        return;
    }
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') buf_putc(out, '\\');
        buf_putc(out, s[i]);
    }
    buf_putc(out, '"');
}

void imap_put_astring(struct buf *out, const char *s, size_t len)
{
    int atom = len > 0 && !(len == 3 && strncasecmp(s, "NIL", 3) == 0);
    for (size_t i = 0; atom && i < len; i++)
        if (!ps_is_atom_char((unsigned char)s[i])) atom = 0;
    if (atom) buf_append(out, s, len);
    else imap_put_string(out, s, len);
}

void imap_put_nstring(struct buf *out, const char *s, size_t len)
{
    if (!s) buf_appendstr(out, "NIL");
    else imap_put_string(out, s, len);
}
