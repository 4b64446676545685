/* START jobs (run to completion, in order, before any service), EVENTS
 * (scheduled, never two instances of one event at once) and DAEMON
 * entries (kept running, restarted with back-off). */
#define _GNU_SOURCE
#include "master.h"
#include "buf.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A daemon that lived this long is healthy: its next restart is immediate. */
#define DAEMON_HEALTHY_SECS 10

static int run_one_start(struct master *m, const struct mc_entry *e)
{
    log_info("START %s: running", e->name);
    pid_t pid = spawn_process(e, m->conf_path, -1, NULL);
    if (pid < 0) return -1;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            log_error("START %s: waitpid: %s", e->name, strerror(errno));
            return -1;
        }
        if (got_term) {
            log_notice("START %s: interrupted by a stop signal", e->name);
            kill(pid, SIGTERM);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            return -1;
        }
        master_wait_signal(200);
    }
    char how[128];
    describe_status(status, how, sizeof how);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        log_info("START %s: done", e->name);
        return 0;
    }
    log_error("START %s %s: not starting services", e->name, how);
    if (!m->foreground || strcmp(config_string(CONF_LOGGING), "stderr"))
        fprintf(stderr, "master: START job %s %s: not starting services\n", e->name, how);
    return -1;
}

int jobs_run_start(struct master *m)
{
    for (size_t i = 0; i < m->mc.n; i++)
        if (m->mc.e[i].section == MC_START && run_one_start(m, &m->mc.e[i]) < 0) return -1;
    return 0;
}

/* Next local time HH:MM strictly after now. */
static time_t next_at(int hhmm, time_t now)
{
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = hhmm / 100;
    tm.tm_min = hhmm % 100;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t <= now) {
        tm.tm_mday++;
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    return t;
}

static int same_schedule(const struct mc_entry *a, const struct mc_entry *b)
{
    return a->period == b->period && a->at == b->at;
}

static struct job *find_job(struct job *list, const struct mc_entry *e)
{
    for (struct job *j = list; j; j = j->next)
        if (j->cfg->section == e->section && !strcmp(j->cfg->name, e->name)) return j;
    return NULL;
}

/* A new job, taking over the running instance of the old one of that name. */
static struct job *job_new(const struct mc_entry *e, struct job *old, time_t now)
{
    struct job *j = xcalloc(1, sizeof *j);
    j->cfg = e;
    if (e->section == MC_EVENTS) {
        if (old && same_schedule(old->cfg, e)) j->next_run = old->next_run;
        else if (e->at >= 0) j->next_run = next_at(e->at, now);
        else j->next_run = old ? now + e->period : now;   /* period events run at start-up */
    } else {
        j->next_run = now;
    }
    if (old) {
        j->pid = old->pid;
        j->backoff = old->backoff;
        if (e->section == MC_DAEMON && j->pid && !mconf_same_cmd(old->cfg, e)) {
            log_notice("daemon %s: command changed: restarting it", e->name);
            kill(j->pid, SIGTERM);
        }
    }
    return j;
}

void jobs_setup(struct master *m, const struct mconf *mc, time_t now)
{
    struct job *list = NULL, **tail = &list;
    for (size_t i = 0; i < mc->n; i++) {
        const struct mc_entry *e = &mc->e[i];
        if (e->section != MC_EVENTS && e->section != MC_DAEMON) continue;
        *tail = job_new(e, find_job(m->jobs, e), now);
        tail = &(*tail)->next;
    }
    /* Point running processes at their new job, or detach them. */
    for (struct child *c = m->children; c; c = c->next) {
        if (!c->job) continue;
        struct job *nj = find_job(list, c->job->cfg);
        if (!nj && c->kind == CK_DAEMON) {
            log_notice("daemon %s removed from the configuration: stopping it", c->name);
            kill(c->pid, SIGTERM);
        }
        c->job = nj;
    }
    jobs_free(m);
    m->jobs = list;
}

void jobs_free(struct master *m)
{
    for (struct job *j = m->jobs, *n; j; j = n) {
        n = j->next;
        free(j);
    }
    m->jobs = NULL;
}

static void start_job(struct master *m, struct job *j, time_t now)
{
    pid_t pid = spawn_process(j->cfg, m->conf_path, -1, NULL);
    if (pid < 0) return;
    struct child *c = xcalloc(1, sizeof *c);
    c->pid = pid;
    c->kind = j->cfg->section == MC_EVENTS ? CK_EVENT : CK_DAEMON;
    snprintf(c->name, sizeof c->name, "%s", j->cfg->name);
    c->job = j;
    c->status_fd = -1;
    c->started = now;
    child_add(m, c);
    j->pid = pid;
    log_info("%s %s: started process %d", c->kind == CK_EVENT ? "event" : "daemon", c->name, (int)pid);
}

static void run_event(struct master *m, struct job *j, time_t now)
{
    if (j->pid) log_warn("event %s: previous run (process %d) still going: skipping this run", j->cfg->name, (int)j->pid);
    else start_job(m, j, now);
    if (j->cfg->at >= 0) {
        j->next_run = next_at(j->cfg->at, now);
        return;
    }
    /* Keep to the original rhythm unless we fell behind by a whole period. */
    j->next_run += j->cfg->period;
    if (j->next_run <= now) j->next_run = now + j->cfg->period;
}

void jobs_run_due(struct master *m, time_t now)
{
    if (m->stopping) return;
    for (struct job *j = m->jobs; j; j = j->next) {
        if (!j->next_run || now < j->next_run) continue;
        if (j->cfg->section == MC_EVENTS) {
            run_event(m, j, now);
        } else if (!j->pid) {
            start_job(m, j, now);
            j->next_run = j->pid ? 0 : now + 5;   /* fork failed: try again shortly */
        }
    }
}

time_t jobs_next_timer(const struct master *m, time_t now)
{
    (void)now;
    time_t next = 0;
    for (const struct job *j = m->jobs; j; j = j->next)
        if (j->next_run && (!next || j->next_run < next)) next = j->next_run;
    return next;
}

void jobs_child_exited(struct master *m, struct child *c, int abnormal, time_t now)
{
    (void)abnormal;
    struct job *j = c->job;
    if (!j) return;
    j->pid = 0;
    if (c->kind != CK_DAEMON) return;
    if (m->stopping) {
        j->next_run = now;
        return;
    }
    if (now - c->started >= DAEMON_HEALTHY_SECS) j->backoff = 0;
    else j->backoff = j->backoff ? j->backoff * 2 : 1;
    if (j->backoff > BACKOFF_MAX) j->backoff = BACKOFF_MAX;
    j->next_run = now + j->backoff;
    log_notice("daemon %s: restarting in %d s", c->name, j->backoff);
}
