/* master.conf parser: sections of one-line entries, validated in full. */
#include "mconf.h"
#include "listener.h"
#include "buf.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHY_MAX 400

static const char *section_names[] = { "START", "SERVICES", "EVENTS", "DAEMON" };

const char *mconf_section_name(enum mc_section s) { return section_names[s]; }

static void entry_free(struct mc_entry *e)
{
    free(e->name);
    if (e->argv)
        for (int i = 0; i < e->argc; i++) free(e->argv[i]);
    free(e->argv);
    free(e->listen);
    memset(e, 0, sizeof *e);
}

void mconf_free(struct mconf *mc)
{
    for (size_t i = 0; i < mc->n; i++) entry_free(&mc->e[i]);
    free(mc->e);
    free(mc->path);
    memset(mc, 0, sizeof *mc);
}

int mconf_same_cmd(const struct mc_entry *e, const struct mc_entry *f)
{
    if (e->argc != f->argc) return 0;
    for (int i = 0; i < e->argc; i++)
        if (strcmp(e->argv[i], f->argv[i])) return 0;
    return 1;
}

/* Split a command into words: blanks separate, '...' and "..." group,
 * backslash escapes the next character outside single quotes. */
static int split_cmd(const char *cmd, struct mc_entry *e, char *why)
{
    const char *p = cmd;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        struct buf w = BUF_INIT;
        char quote = 0;
        for (; *p && (quote || (*p != ' ' && *p != '\t')); p++) {
            if (quote == '\'' && *p == '\'') quote = 0;
            else if (quote == '"' && *p == '"') quote = 0;
            else if (!quote && (*p == '\'' || *p == '"')) quote = *p;
            else if (*p == '\\' && quote != '\'' && p[1]) buf_putc(&w, *++p);
            else buf_putc(&w, *p);
        }
        if (quote) {
            buf_free(&w);
            snprintf(why, WHY_MAX, "unterminated %c quote in cmd", quote);
            return -1;
        }
        e->argv = xrealloc(e->argv, sizeof *e->argv * (size_t)(e->argc + 2));
        e->argv[e->argc++] = buf_release(&w);
        e->argv[e->argc] = NULL;
    }
    if (e->argc == 0) {
        snprintf(why, WHY_MAX, "cmd is empty");
        return -1;
    }
    return 0;
}

static int parse_int(const char *key, const char *val, int min, int *out, char *why)
{
    char *end;
    errno = 0;
    long n = strtol(val, &end, 10);
    if (errno || end == val || *end || n < min || n > 1000000) {
        snprintf(why, WHY_MAX, "%s: '%s' is not a whole number >= %d", key, val, min);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* period=N minutes, or with a unit: Ns, Nm, Nh. */
static int parse_period(const char *val, long *out, char *why)
{
    char *end;
    errno = 0;
    long n = strtol(val, &end, 10);
    long mul = 60;
    if (!errno && end != val && *end && !end[1]) {
        if (*end == 's') mul = 1;
        else if (*end == 'm') mul = 60;
        else if (*end == 'h') mul = 3600;
        else mul = 0;
        end++;
    }
    if (errno || end == val || *end || mul == 0 || n <= 0 || n > 100000000L / mul) {
        snprintf(why, WHY_MAX, "period: '%s' is not a positive number of minutes (or Ns, Nm, Nh)", val);
        return -1;
    }
    *out = n * mul;
    return 0;
}

static int parse_at(const char *val, int *out, char *why)
{
    int ok = strlen(val) == 4;
    for (int i = 0; ok && i < 4; i++) ok = isdigit((unsigned char)val[i]);
    int hhmm = ok ? atoi(val) : -1;
    if (!ok || hhmm / 100 > 23 || hhmm % 100 > 59) {
        snprintf(why, WHY_MAX, "at: '%s' is not a time of day HHMM", val);
        return -1;
    }
    *out = hhmm;
    return 0;
}

/* Which keys a section accepts. */
static int key_allowed(enum mc_section s, const char *key)
{
    if (!strcmp(key, "cmd")) return 1;
    if (s == MC_SERVICES)
        return !strcmp(key, "listen") || !strcmp(key, "prefork") || !strcmp(key, "maxchild") || !strcmp(key, "maxfds");
    if (s == MC_EVENTS) return !strcmp(key, "period") || !strcmp(key, "at");
    return 0;
}

static int apply_key(struct mc_entry *e, const char *key, const char *val, char *why)
{
    if (!key_allowed(e->section, key)) {
        snprintf(why, WHY_MAX, "unknown key '%s' in %s entry '%s'", key, section_names[e->section], e->name);
        return -1;
    }
    if (!strcmp(key, "cmd")) {
        if (e->argv) { snprintf(why, WHY_MAX, "cmd given twice"); return -1; }
        return split_cmd(val, e, why);
    }
    if (!strcmp(key, "listen")) {
        if (e->listen) { snprintf(why, WHY_MAX, "listen given twice"); return -1; }
        if (listener_check(val, why, WHY_MAX) < 0) return -1;
        e->listen = xstrdup(val);
        return 0;
    }
    if (!strcmp(key, "prefork")) return parse_int(key, val, 0, &e->prefork, why);
    if (!strcmp(key, "maxchild")) return parse_int(key, val, 1, &e->maxchild, why);
    if (!strcmp(key, "maxfds")) return parse_int(key, val, 16, &e->maxfds, why);
    if (!strcmp(key, "period")) return parse_period(val, &e->period, why);
    return parse_at(val, &e->at, why);
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) > 48) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') return 0;
    return 1;
}

/* Read one token: a key (letters, digits, '_') or a value (quoted or bare). */
static const char *read_value(const char *p, struct buf *out, char *why)
{
    if (*p != '"') {
        while (*p && !isspace((unsigned char)*p)) buf_putc(out, *p++);
        return p;
    }
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
        buf_putc(out, *p);
    }
    if (*p != '"') {
        snprintf(why, WHY_MAX, "unterminated quoted value");
        return NULL;
    }
    p++;
    if (*p && !isspace((unsigned char)*p)) {
        snprintf(why, WHY_MAX, "expected a blank after the closing quote");
        return NULL;
    }
    return p;
}

/* The key=value pairs after the entry name. */
static int parse_pairs(const char *p, struct mc_entry *e, char *why)
{
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        if (!*p) return 0;
        char key[32];
        size_t kl = 0;
        while ((isalnum((unsigned char)*p) || *p == '_') && kl < sizeof key - 1) key[kl++] = *p++;
        key[kl] = '\0';
        if (!kl || *p != '=') {
            snprintf(why, WHY_MAX, "expected key=value, got '%.40s'", p - kl);
            return -1;
        }
        struct buf val = BUF_INIT;
        p = read_value(p + 1, &val, why);
        int rc = p ? apply_key(e, key, buf_cstr(&val), why) : -1;
        buf_free(&val);
        if (rc < 0) return -1;
    }
}

static int finish_entry(struct mc_entry *e, char *why)
{
    if (!e->argv) { snprintf(why, WHY_MAX, "%s entry '%s' has no cmd", section_names[e->section], e->name); return -1; }
    if (e->section == MC_SERVICES) {
        if (!e->listen) { snprintf(why, WHY_MAX, "service '%s' has no listen", e->name); return -1; }
        if (e->prefork > e->maxchild) {
            snprintf(why, WHY_MAX, "service '%s': prefork %d is more than maxchild %d", e->name, e->prefork, e->maxchild);
            return -1;
        }
    }
    if (e->section == MC_EVENTS && (e->period > 0) == (e->at >= 0)) {
        snprintf(why, WHY_MAX, "event '%s' needs exactly one of period= or at=", e->name);
        return -1;
    }
    return 0;
}

static int check_unique(const struct mconf *mc, const struct mc_entry *e, char *why)
{
    for (size_t i = 0; i < mc->n; i++) {
        if (!strcmp(mc->e[i].name, e->name)) {
            snprintf(why, WHY_MAX, "duplicate name '%s' (first used on line %d)", e->name, mc->e[i].line);
            return -1;
        }
        if (e->listen && mc->e[i].listen && !strcmp(mc->e[i].listen, e->listen)) {
            snprintf(why, WHY_MAX, "listen '%s' already used by '%s' (line %d)", e->listen, mc->e[i].name, mc->e[i].line);
            return -1;
        }
    }
    return 0;
}

static int parse_entry(struct mconf *mc, enum mc_section sec, const char *p, int line, char *why)
{
    struct mc_entry e;
    memset(&e, 0, sizeof e);
    e.section = sec;
    e.line = line;
    e.maxchild = MCONF_DEFAULT_MAXCHILD;
    e.at = -1;
    size_t nl = strcspn(p, " \t");
    e.name = xstrndup(p, nl);
    if (!valid_name(e.name)) {
        snprintf(why, WHY_MAX, "bad entry name '%s' (letters, digits, '-', '_')", e.name);
        entry_free(&e);
        return -1;
    }
    if (parse_pairs(p + nl, &e, why) < 0 || finish_entry(&e, why) < 0 || check_unique(mc, &e, why) < 0) {
        entry_free(&e);
        return -1;
    }
    mc->e = xrealloc(mc->e, sizeof *mc->e * (mc->n + 1));
    mc->e[mc->n++] = e;
    return 0;
}

/* Remove a '#' comment that is not inside double quotes, and trim. */
static char *clean_line(char *l)
{
    int inq = 0;
    for (char *c = l; *c; c++) {
        if (*c == '\\' && inq && c[1]) { c++; continue; }
        if (*c == '"') inq = !inq;
        else if (*c == '#' && !inq) { *c = '\0'; break; }
    }
    while (isspace((unsigned char)*l)) l++;
    char *end = l + strlen(l);
    while (end > l && isspace((unsigned char)end[-1])) *--end = '\0';
    return l;
}

/* "NAME {" opens a section; returns its index or -1 with a reason. */
static int open_section(char *l, char *why)
{
    size_t wl = strcspn(l, " \t{");
    char *rest = l + wl;
    while (*rest == ' ' || *rest == '\t') rest++;
    if (strcmp(rest, "{")) {
        snprintf(why, WHY_MAX, "expected '%.*s {' to open a section", (int)wl, l);
        return -1;
    }
    for (int s = 0; s < 4; s++)
        if (strlen(section_names[s]) == wl && !strncmp(l, section_names[s], wl)) return s;
    snprintf(why, WHY_MAX, "unknown section '%.*s' (START, SERVICES, EVENTS, DAEMON)", (int)wl, l);
    return -1;
}

static int parse_line(struct mconf *mc, char *l, int line, int *sec, char *why)
{
    if (*sec < 0) {
        int s = open_section(l, why);
        if (s < 0) return -1;
        *sec = s;
        return 0;
    }
    if (!strcmp(l, "}")) {
        *sec = -1;
        return 0;
    }
    return parse_entry(mc, (enum mc_section)*sec, l, line, why);
}

int mconf_load(const char *path, struct mconf *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL, why[WHY_MAX];
    size_t cap = 0;
    int lineno = 0, sec = -1, open_line = 0, rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *l = clean_line(line);
        if (!*l) continue;
        if (sec < 0) open_line = lineno;
        if (parse_line(out, l, lineno, &sec, why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && sec >= 0) {
        snprintf(err, errlen, "%s:%d: section %s opened here is not closed with '}'", path, open_line, section_names[sec]);
        rc = -1;
    }
    free(line);
    fclose(f);
    if (rc < 0) mconf_free(out);
    else out->path = xstrdup(path);
    return rc;
}
