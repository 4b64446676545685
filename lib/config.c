/* satchel.conf parsing and lookup. */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type { T_STRING, T_INT, T_BOOL, T_SIZE, T_DURATION, T_ENUM };

struct opt_def {
    const char *key;
    enum opt_type type;
    const char *def;
    const char *desc;
    const char *values;
};

static const struct opt_def defs[CONF__COUNT] = {
#define OPT(id, key, type, def, desc, vals) [CONF_##id] = { key, T_##type, def, desc, vals },
#include "config_options.def"
#undef OPT
};

struct opt_value {
    char *str;          /* as written, for STRING/ENUM and dumps */
    long long num;      /* parsed INT/SIZE/DURATION/BOOL */
    int line;           /* line of the file that set it; 0 for defaults */
};

struct partition { char *name; char *path; };

struct config_state {
    char *path;
    struct opt_value v[CONF__COUNT];
    struct partition parts[CONFIG_MAX_PARTITIONS];
    int nparts;
    char master_conf[4096];
};

static struct config_state cur;
static int loaded;

static void state_free(struct config_state *s)
{
    free(s->path);
    for (int i = 0; i < CONF__COUNT; i++) free(s->v[i].str);
    for (int i = 0; i < s->nparts; i++) { free(s->parts[i].name); free(s->parts[i].path); }
    memset(s, 0, sizeof *s);
}

/* Deep copy of src into dst (zeroed first); -1 when out of memory. */
static int state_copy(struct config_state *dst, const struct config_state *src)
{
    *dst = *src;
    dst->path = NULL;
    for (int i = 0; i < CONF__COUNT; i++) dst->v[i].str = NULL;
    for (int i = 0; i < src->nparts; i++) dst->parts[i].name = dst->parts[i].path = NULL;
    int bad = src->path && !(dst->path = strdup(src->path));
    for (int i = 0; i < CONF__COUNT; i++)
        bad |= src->v[i].str && !(dst->v[i].str = strdup(src->v[i].str));
    for (int i = 0; i < src->nparts; i++) {
        bad |= !(dst->parts[i].name = strdup(src->parts[i].name));
        bad |= !(dst->parts[i].path = strdup(src->parts[i].path));
    }
    if (bad) state_free(dst);
    return bad ? -1 : 0;
}

static int parse_scaled(const char *s, long long *out, int duration)
{
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || n < 0) return -1;
    long long mul = 1;
    if (*end) {
        char c = (char)tolower((unsigned char)*end);
        if (duration) {
            if (c == 's') mul = 1; else if (c == 'm') mul = 60;
            else if (c == 'h') mul = 3600; else if (c == 'd') mul = 86400;
            else return -1;
        } else {
            if (c == 'k') mul = 1024; else if (c == 'm') mul = 1024 * 1024;
            else if (c == 'g') mul = 1024LL * 1024 * 1024; else if (c == 'b') mul = 1;
            else return -1;
        }
        end++;
        if (!duration && (*end == 'b' || *end == 'B')) end++;
        if (*end) return -1;
    }
    if (n > LLONG_MAX / mul) return -1;
    *out = n * mul;
    return 0;
}

static int enum_has(const char *values, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = values; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == wl && strncasecmp(p, word, l) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

/* Parse value for option i into v; NULL on success, else a reason. */
static const char *parse_value(int i, const char *val, struct opt_value *v, char *why, size_t whylen)
{
    const struct opt_def *d = &defs[i];
    long long n = 0;
    switch (d->type) {
    case T_STRING:
        break;
    case T_INT: {
        char *end;
        errno = 0;
        n = strtoll(val, &end, 10);
        if (errno || end == val || *end || n < 0) {
            snprintf(why, whylen, "%s: '%s' is not a non-negative whole number", d->key, val);
            return why;
        }
        break;
    }
    case T_BOOL:
        if (!strcasecmp(val, "yes") || !strcasecmp(val, "true") || !strcasecmp(val, "on") || !strcmp(val, "1")) n = 1;
        else if (!strcasecmp(val, "no") || !strcasecmp(val, "false") || !strcasecmp(val, "off") || !strcmp(val, "0")) n = 0;
        else { snprintf(why, whylen, "%s: '%s' is not yes or no", d->key, val); return why; }
        break;
    case T_SIZE:
    case T_DURATION:
        if (parse_scaled(val, &n, d->type == T_DURATION) < 0) {
            snprintf(why, whylen, "%s: '%s' is not a %s", d->key, val,
                     d->type == T_DURATION ? "duration (like 30s, 5m, 2h, 3d)" : "size (like 512K, 50M, 1G)");
            return why;
        }
        break;
    case T_ENUM:
        if (!enum_has(d->values, val)) {
            snprintf(why, whylen, "%s: '%s' is not one of %s", d->key, val, d->values);
            return why;
        }
        break;
    }
    char *copy = strdup(val);
    if (!copy) { snprintf(why, whylen, "out of memory"); return why; }
    free(v->str);
    v->str = copy;
    v->num = n;
    return NULL;
}

static int find_opt(const char *key)
{
    for (int i = 0; i < CONF__COUNT; i++)
        if (!strcmp(defs[i].key, key)) return i;
    return -1;
}

static int set_defaults(struct config_state *s)
{
    char why[256];
    for (int i = 0; i < CONF__COUNT; i++)
        if (parse_value(i, defs[i].def, &s->v[i], why, sizeof why)) return -1;
    return 0;
}

static const char *add_partition(struct config_state *s, const char *name, const char *path, char *why, size_t whylen)
{
    if (!*name) { snprintf(why, whylen, "partition name missing after 'partition-'"); return why; }
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') {
            snprintf(why, whylen, "partition name '%s' may only hold letters, digits, '-' and '_'", name);
            return why;
        }
    if (path[0] != '/') { snprintf(why, whylen, "partition-%s: '%s' is not an absolute path", name, path); return why; }
    for (int i = 0; i < s->nparts; i++)
        if (!strcmp(s->parts[i].name, name)) {
            free(s->parts[i].path);
            s->parts[i].path = strdup(path);
            return s->parts[i].path ? NULL : "out of memory";
        }
    if (s->nparts == CONFIG_MAX_PARTITIONS) { snprintf(why, whylen, "too many partitions (at most %d)", CONFIG_MAX_PARTITIONS); return why; }
    s->parts[s->nparts].name = strdup(name);
    s->parts[s->nparts].path = strdup(path);
    if (!s->parts[s->nparts].name || !s->parts[s->nparts].path) return "out of memory";
    s->nparts++;
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

/* Apply one "key: value" to s; NULL or a reason. */
static const char *apply_line(struct config_state *s, char *key, char *val, int lineno, char *why, size_t whylen)
{
    if (!strncmp(key, "partition-", 10))
        return add_partition(s, key + 10, val, why, whylen);
    int i = find_opt(key);
    if (i < 0) { snprintf(why, whylen, "unknown option '%s'", key); return why; }
    const char *bad = parse_value(i, val, &s->v[i], why, whylen);
    if (!bad) s->v[i].line = lineno;
    return bad;
}

/* Checks that need the whole file.  On failure *line gets the line of the
 * option at fault (0 when it was not set in the file). */
static const char *finish(struct config_state *s, int *line, char *why, size_t whylen)
{
    *line = 0;
    const char *dir = s->v[CONF_CONFIGDIRECTORY].str;
    if (dir[0] != '/') {
        *line = s->v[CONF_CONFIGDIRECTORY].line;
        snprintf(why, whylen, "configdirectory: '%s' is not an absolute path", dir);
        return why;
    }
    const char *lg = s->v[CONF_LOGGING].str;
    if (strcmp(lg, "syslog") && strcmp(lg, "stderr") && lg[0] != '/') {
        *line = s->v[CONF_LOGGING].line;
        snprintf(why, whylen, "logging: '%s' is not syslog, stderr or an absolute path", lg);
        return why;
    }
    if (s->nparts == 0 && add_partition(s, "default", "/var/spool/satchel", why, whylen)) return why;
    const char *defpart = s->v[CONF_DEFAULTPARTITION].str;
    int found = 0;
    for (int i = 0; i < s->nparts; i++) found |= !strcmp(s->parts[i].name, defpart);
    if (!found) { *line = s->v[CONF_DEFAULTPARTITION].line; snprintf(why, whylen, "defaultpartition: partition '%s' is not defined (add partition-%s: /path)", defpart, defpart); return why; }
    const char *mc = s->v[CONF_MASTER_CONF].str;
    if (*mc) snprintf(s->master_conf, sizeof s->master_conf, "%s", mc);
    else if (s->path && strrchr(s->path, '/'))
        snprintf(s->master_conf, sizeof s->master_conf, "%.*s/master.conf", (int)(strrchr(s->path, '/') - s->path), s->path);
    else snprintf(s->master_conf, sizeof s->master_conf, "master.conf");
    return NULL;
}

int config_load(const char *path, char *err, size_t errlen)
{
    struct config_state s;
    memset(&s, 0, sizeof s);
    char why[512];
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno)); return -1; }
    if (set_defaults(&s) < 0 || !(s.path = strdup(path))) { fclose(f); state_free(&s); snprintf(err, errlen, "%s: out of memory", path); return -1; }
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    const char *bad = NULL;
    while (!bad && getline(&line, &cap, f) >= 0) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *l = trim(line);
        if (!*l) continue;
        char *colon = strchr(l, ':');
        if (!colon) { snprintf(why, sizeof why, "expected 'key: value', got '%s'", l); bad = why; break; }
        *colon = '\0';
        char *key = trim(l), *val = trim(colon + 1);
        if (!*key) { snprintf(why, sizeof why, "missing option name before ':'"); bad = why; break; }
        bad = apply_line(&s, key, val, lineno, why, sizeof why);
    }
    free(line);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s:%d: %s", path, lineno, bad);
        state_free(&s);
        return -1;
    }
    int badline;
    if ((bad = finish(&s, &badline, why, sizeof why))) {
        if (badline) snprintf(err, errlen, "%s:%d: %s", path, badline, bad);
        else snprintf(err, errlen, "%s: %s", path, bad);
        state_free(&s);
        return -1;
    }
    if (loaded) state_free(&cur);
    cur = s;
    loaded = 1;
    return 0;
}

void config_load_defaults(void)
{
    char why[256];
    int line;
    if (loaded) state_free(&cur);
    set_defaults(&cur);
    finish(&cur, &line, why, sizeof why);
    loaded = 1;
}

int config_set(const char *key, const char *value, char *err, size_t errlen)
{
    if (!loaded) config_load_defaults();
    char k[256], v[4096];
    snprintf(k, sizeof k, "%s", key);
    snprintf(v, sizeof v, "%s", value);
    /* Work on a copy: a value that fails finish() must not stay in force. */
    struct config_state s;
    if (state_copy(&s, &cur) < 0) { snprintf(err, errlen, "out of memory"); return -1; }
    int line;
    const char *bad = apply_line(&s, k, v, 0, err, errlen);
    if (!bad) bad = finish(&s, &line, err, errlen);
    if (bad) {
        if (bad != err) snprintf(err, errlen, "%s", bad);
        state_free(&s);
        return -1;
    }
    state_free(&cur);
    cur = s;
    return 0;
}

static void ensure_loaded(void) { if (!loaded) config_load_defaults(); }

const char *config_path(void) { ensure_loaded(); return cur.path ? cur.path : ""; }
const char *config_string(enum config_opt opt) { ensure_loaded(); return cur.v[opt].str; }
long long config_int(enum config_opt opt) { ensure_loaded(); return cur.v[opt].num; }
int config_bool(enum config_opt opt) { ensure_loaded(); return cur.v[opt].num != 0; }

const char *config_partition(const char *name)
{
    ensure_loaded();
    for (int i = 0; i < cur.nparts; i++)
        if (!strcmp(cur.parts[i].name, name)) return cur.parts[i].path;
    return NULL;
}
int config_partition_count(void) { ensure_loaded(); return cur.nparts; }
const char *config_partition_name(int i) { ensure_loaded(); return (i >= 0 && i < cur.nparts) ? cur.parts[i].name : NULL; }

int config_is_admin(const char *user)
{
    const char *a = config_string(CONF_ADMINS);
    size_t ul = strlen(user);
    while (*a) {
        while (*a == ' ' || *a == ',' || *a == '\t') a++;
        size_t l = strcspn(a, " ,\t");
        if (l && l == ul && !strncmp(a, user, l)) return 1;
        a += l;
    }
    return 0;
}

const char *config_master_conf(void) { ensure_loaded(); return cur.master_conf; }

const char *config_dir_path(const char *leaf, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", config_string(CONF_CONFIGDIRECTORY), leaf);
    return buf;
}

void config_dump(FILE *out)
{
    ensure_loaded();
    for (int i = 0; i < CONF__COUNT; i++) fprintf(out, "%s: %s\n", defs[i].key, cur.v[i].str);
    for (int i = 0; i < cur.nparts; i++) fprintf(out, "partition-%s: %s\n", cur.parts[i].name, cur.parts[i].path);
}

static const char *type_name(enum opt_type t)
{
    static const char *names[] = { "string", "integer", "yes/no", "size", "duration", "enum" };
    return names[t];
}

void config_describe(FILE *out)
{
    for (int i = 0; i < CONF__COUNT; i++) {
        fprintf(out, "%s (%s%s%s, default \"%s\"): %s\n", defs[i].key, type_name(defs[i].type),
                defs[i].values ? ": " : "", defs[i].values ? defs[i].values : "", defs[i].def, defs[i].desc);
    }
}
