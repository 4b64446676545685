/* The per-user connection count (imap_max_connections_per_user): each
 * logged-in session leaves a file named after its pid, holding the user
 * name, in <configdirectory>/imapd-sessions.  Files of processes that no
 * longer exist are removed when counted.  The pid survives the hand-over
 * to imapd-session, so the file does too. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void proc_dir(char *buf, size_t len) { config_dir_path("imapd-sessions", buf, len); }

/* Sessions of user now registered by live imapd processes. */
int registry_count(const char *user)
{
    char dir[512];
    proc_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0) continue;
        char path[800], who[256];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
            unlink(path);      /* left behind by a crashed process */
            continue;
        }
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(who, sizeof who, f) && strcmp(who, user) == 0) count++;
        fclose(f);
    }
    closedir(d);
    return count;
}

int registry_add(struct session *s)
{
    char dir[512];
    proc_dir(dir, sizeof dir);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) return -1;
    snprintf(s->procfile, sizeof s->procfile, "%s/%ld", dir, (long)getpid());
    FILE *f = fopen(s->procfile, "w");
    if (!f) { s->procfile[0] = 0; return -1; }
    fputs(s->userid, f);
    if (fclose(f) != 0) return -1;
    return 0;
}

void registry_remove(struct session *s)
{
    if (s->procfile[0]) unlink(s->procfile);
    s->procfile[0] = 0;
}


void registry_adopt(struct session *s)
{
    char dir[512];
    proc_dir(dir, sizeof dir);
    snprintf(s->procfile, sizeof s->procfile, "%s/%ld", dir, (long)getpid());
    if (access(s->procfile, F_OK) != 0) registry_add(s);
}
