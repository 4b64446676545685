/* master.conf: the service table.  Sections START, SERVICES, EVENTS and
 * DAEMON hold one entry per line: `name key="value" key=value ...`.
 * Parsing is all-or-nothing: a table is either fully valid or rejected
 * with "file:line: reason", so a reload never half-applies a bad file. */
#ifndef SATCHEL_MCONF_H
#define SATCHEL_MCONF_H
#include <stddef.h>

enum mc_section { MC_START, MC_SERVICES, MC_EVENTS, MC_DAEMON };

struct mc_entry {
    enum mc_section section;
    char *name;
    char **argv;        /* cmd split into words, NULL-terminated */
    int argc;
    char *listen;       /* SERVICES: "host:port", "[v6]:port", "port" or "/path" */
    int prefork;        /* SERVICES: idle processes kept ready */
    int maxchild;       /* SERVICES: most processes at once */
    int maxfds;         /* SERVICES: RLIMIT_NOFILE for children, 0 = inherit */
    long period;        /* EVENTS: seconds between runs, 0 when `at` is used */
    int at;             /* EVENTS: HHMM daily, -1 when unused */
    int line;
};

struct mconf {
    char *path;
    struct mc_entry *e;
    size_t n;
};

#define MCONF_DEFAULT_MAXCHILD 250

/* Parse path into out.  On failure writes "file:line: reason" to err,
 * leaves out empty and returns -1. */
int mconf_load(const char *path, struct mconf *out, char *err, size_t errlen);
void mconf_free(struct mconf *mc);
/* Does the command line of e equal that of f (same words)? */
int mconf_same_cmd(const struct mc_entry *e, const struct mc_entry *f);
const char *mconf_section_name(enum mc_section s);
#endif
