/* Service listeners and the processes serving them: pre-forking, spawning
 * on demand, the status protocol, reaping, crash throttling, reloads. */
#define _GNU_SOURCE
#include "master.h"
#include "listener.h"
#include "buf.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void describe_status(int status, char *buf, size_t len)
{
    if (WIFEXITED(status)) snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WCOREDUMP(status) ? ", core dumped" : "");
    else snprintf(buf, len, "ended with wait status 0x%x", (unsigned)status);
}

void child_add(struct master *m, struct child *c)
{
    c->next = m->children;
    m->children = c;
}

static void announce(const struct master *m, const struct service *s)
{
    char where[300];
    listener_describe(s->fd, s->cfg->listen, where, sizeof where);
    log_notice("%s listening on %s", s->cfg->name, where);
    /* ./demo and people at a terminal want to see this even when logs go to a file. */
    if (m->foreground && strcmp(config_string(CONF_LOGGING), "stderr")) {
        printf("%s listening on %s\n", s->cfg->name, where);
        fflush(stdout);
    }
}

static struct service *service_new(const struct mc_entry *e, int fd)
{
    struct service *s = xcalloc(1, sizeof *s);
    s->cfg = e;
    s->fd = fd;
    return s;
}

/* Bind every listener of mc (or reuse the old one with the same address)
 * into a new list; -1 and nothing changed when one cannot be bound. */
static struct service *bind_all(struct master *m, const struct mconf *mc, int *failed)
{
    struct service *list = NULL, **tail = &list;
    char why[512];
    *failed = 0;
    for (struct service *o = m->services; o; o = o->next) o->taken = 0;
    for (size_t i = 0; i < mc->n; i++) {
        const struct mc_entry *e = &mc->e[i];
        if (e->section != MC_SERVICES) continue;
        struct service *old = NULL;
        for (struct service *o = m->services; o && !old; o = o->next)
            if (!o->taken && o->fd >= 0 && !strcmp(o->cfg->listen, e->listen)) old = o;
        int fd = old ? old->fd : listener_open(e->listen, why, sizeof why);
        if (fd < 0) {
            log_error("%s:%d: %s: %s", mc->path, e->line, e->name, why);
            if (!m->foreground || strcmp(config_string(CONF_LOGGING), "stderr"))
                fprintf(stderr, "%s:%d: %s: %s\n", mc->path, e->line, e->name, why);
            *failed = 1;
            break;
        }
        if (old) old->taken = 1;
        *tail = service_new(e, fd);
        (*tail)->taken = old != NULL;   /* remember: reused, do not announce or close */
        tail = &(*tail)->next;
    }
    if (*failed) {
        for (struct service *s = list, *n; s; s = n) {
            n = s->next;
            if (!s->taken) listener_close(s->fd, s->cfg->listen);
            free(s);
        }
        for (struct service *o = m->services; o; o = o->next) o->taken = 0;
        return NULL;
    }
    return list;
}

int services_open(struct master *m, const struct mconf *mc)
{
    int failed;
    struct service *list = bind_all(m, mc, &failed);
    if (failed) return -1;
    m->services = list;
    for (struct service *s = list; s; s = s->next) announce(m, s);
    return 0;
}

/* Retire a process of an old configuration: it finishes its connection. */
static void retire_child(struct child *c)
{
    c->svc = NULL;
    if (c->status_fd >= 0) {
        /* Its next 'A' fails with EPIPE and it exits. */
        close(c->status_fd);
        c->status_fd = -1;
    }
    /* An idle child exits on SIGHUP at once.  A starting one may not have
     * its handler yet (SIGHUP would kill it mid-start): its first 'A' fails. */
    if (c->state == CS_IDLE) kill(c->pid, SIGHUP);
}

int services_reload(struct master *m, const struct mconf *mc)
{
    int failed;
    struct service *list = bind_all(m, mc, &failed);
    if (failed) return -1;
    for (struct child *c = m->children; c; c = c->next)
        if (c->kind == CK_SERVICE && c->svc) retire_child(c);
    for (struct service *o = m->services, *n; o; o = n) {
        n = o->next;
        if (!o->taken && o->fd >= 0) {
            log_notice("%s no longer listening on %s", o->cfg->name, o->cfg->listen);
            listener_close(o->fd, o->cfg->listen);
        }
        free(o);
    }
    m->services = list;
    for (struct service *s = list; s; s = s->next) {
        if (!s->taken) announce(m, s);
        s->taken = 0;
    }
    return 0;
}

void services_close(struct master *m)
{
    for (struct service *s = m->services; s; s = s->next) {
        listener_close(s->fd, s->cfg->listen);
        s->fd = -1;
    }
}

void services_free(struct master *m)
{
    for (struct child *c = m->children; c; c = c->next) c->svc = NULL;
    for (struct service *s = m->services, *n; s; s = n) {
        n = s->next;
        if (s->fd >= 0) listener_close(s->fd, s->cfg->listen);
        free(s);
    }
    m->services = NULL;
}

static void spawn_service_child(struct master *m, struct service *s)
{
    int rd = -1;
    pid_t pid = spawn_process(s->cfg, m->conf_path, s->fd, &rd);
    if (pid < 0) {
        /* fork failed (no memory, process limit): do not retry in a tight loop */
        s->throttle_until = time(NULL) + 1;
        return;
    }
    struct child *c = xcalloc(1, sizeof *c);
    c->pid = pid;
    c->kind = CK_SERVICE;
    snprintf(c->name, sizeof c->name, "%s", s->cfg->name);
    c->svc = s;
    c->status_fd = rd;
    c->state = CS_STARTING;
    c->started = time(NULL);
    child_add(m, c);
    s->nchild++;
    s->nidle++;
    log_debug("%s: started process %d (%d running, %d ready)", s->cfg->name, (int)pid, s->nchild, s->nidle);
}

void services_maintain(struct master *m, time_t now)
{
    if (m->stopping) return;
    for (struct service *s = m->services; s; s = s->next) {
        if (now < s->throttle_until) continue;
        while (s->nidle < s->cfg->prefork && s->nchild < s->cfg->maxchild && now >= s->throttle_until)
            spawn_service_child(m, s);
    }
}

time_t services_next_timer(const struct master *m, time_t now)
{
    time_t next = 0;
    for (const struct service *s = m->services; s; s = s->next)
        if (s->throttle_until > now && (!next || s->throttle_until < next)) next = s->throttle_until;
    return next;
}

/* Watch a listener only when nobody is ready to accept on it: then a
 * readable listener means a connection is waiting for a new process. */
int services_want_poll(const struct service *s, time_t now)
{
    return s->fd >= 0 && s->nidle == 0 && now >= s->throttle_until &&
           !(s->nchild >= s->cfg->maxchild && s->full_logged);
}

void services_listener_ready(struct master *m, struct service *s)
{
    if (m->stopping || s->nidle > 0) return;
    if (s->nchild < s->cfg->maxchild) {
        spawn_service_child(m, s);
        return;
    }
    log_warn("%s: maxchild %d reached: new connections wait until a process is free", s->cfg->name, s->cfg->maxchild);
    s->full_logged = 1;
}

static void child_mark(struct child *c, char what)
{
    struct service *s = c->svc;
    if (what == 'A' && c->state != CS_IDLE) {
        if (c->state == CS_BUSY && s) s->nidle++;
        c->state = CS_IDLE;
    } else if (what == 'B' && c->state != CS_BUSY) {
        if (s) s->nidle--;
        c->state = CS_BUSY;
    }
}

void child_status_input(struct master *m, struct child *c)
{
    (void)m;
    char buf[64];
    ssize_t n = read(c->status_fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {   /* the child is exiting; the reaper does the accounting */
        close(c->status_fd);
        c->status_fd = -1;
        return;
    }
    for (ssize_t i = 0; i < n; i++) child_mark(c, buf[i]);
}

/* Repeated crashes put the service on hold instead of respawning it in a loop. */
static void note_crash(struct service *s, time_t now)
{
    if (now - s->crash_window > CRASH_WINDOW) {
        s->crash_window = now;
        s->crashes = 0;
    }
    if (++s->crashes < CRASH_LIMIT) return;
    s->backoff = s->backoff ? s->backoff * 2 : 2;
    if (s->backoff > BACKOFF_MAX) s->backoff = BACKOFF_MAX;
    s->throttle_until = now + s->backoff;
    log_error("%s: failed %d times within %d s: throttled, not starting it again for %d s", s->cfg->name,
              s->crashes, CRASH_WINDOW, s->backoff);
    s->crashes = 0;
    s->crash_window = now;
}

static void service_child_exited(struct child *c, int abnormal, int stopping, time_t now)
{
    struct service *s = c->svc;
    if (!s) return;
    s->nchild--;
    if (c->state != CS_BUSY) s->nidle--;
    if (s->nchild < s->cfg->maxchild) s->full_logged = 0;
    /* Exiting before ever becoming ready is a failure too, whatever the status. */
    if (stopping) return;
    if (abnormal || c->state == CS_STARTING) note_crash(s, now);
    else s->backoff = 0;
}

static struct child *unlink_child(struct master *m, pid_t pid)
{
    for (struct child **pp = &m->children; *pp; pp = &(*pp)->next)
        if ((*pp)->pid == pid) {
            struct child *c = *pp;
            *pp = c->next;
            return c;
        }
    return NULL;
}

/* One exited process: log it, update its owner, say whether failchk is due. */
static int child_exited(struct master *m, pid_t pid, int status)
{
    char how[128];
    describe_status(status, how, sizeof how);
    int abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    struct child *c = unlink_child(m, pid);
    if (!c) {
        log_info("process %d %s", (int)pid, how);
        return abnormal;
    }
    if (abnormal) log_warn("process %s[%d] %s", c->name, (int)pid, how);
    else log_info("process %s[%d] %s", c->name, (int)pid, how);
    time_t now = time(NULL);
    if (c->kind == CK_SERVICE) service_child_exited(c, abnormal, m->stopping, now);
    else jobs_child_exited(m, c, abnormal, now);
    if (c->status_fd >= 0) close(c->status_fd);
    free(c);
    return abnormal;
}

void children_reap(struct master *m)
{
    int status, need_failchk = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) need_failchk |= child_exited(m, pid, status);
    if (need_failchk && m->stopping) m->unchecked_deaths = 1;
    if (!need_failchk || m->stopping || !m->st) return;
    /* A process died, perhaps holding locks or a transaction. */
    store_check(m);
}

void children_terminate(struct master *m, int grace)
{
    for (struct child *c = m->children; c; c = c->next) kill(c->pid, SIGTERM);
    long long deadline = master_mono_ms() + (long long)grace * 1000;
    while (m->children && master_mono_ms() < deadline) {
        master_wait_signal(100);
        children_reap(m);
    }
    for (struct child *c = m->children; c; c = c->next) {
        log_warn("process %s[%d] did not stop within %d s: killing it", c->name, (int)c->pid, grace);
        kill(c->pid, SIGKILL);
    }
    while (m->children) {
        int status;
        pid_t pid = waitpid(m->children->pid, &status, 0);
        if (pid < 0 && errno == EINTR) continue;
        if (pid < 0) {   /* not ours any more: forget it */
            struct child *c = unlink_child(m, m->children->pid);
            if (c->status_fd >= 0) close(c->status_fd);
            free(c);
            continue;
        }
        if (child_exited(m, pid, status)) m->unchecked_deaths = 1;
    }
}
