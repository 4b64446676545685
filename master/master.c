/* master: binds the listeners, runs START jobs, supervises service
 * processes, EVENTS and DAEMON entries; SIGHUP reloads, SIGTERM stops. */
#define _GNU_SOURCE
#include "master.h"
#include "buf.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

volatile sig_atomic_t got_chld, got_hup, got_term;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGCHLD) got_chld = 1;
    else if (sig == SIGHUP) got_hup = 1;
    else got_term = 1;
    if (sig_pipe[1] >= 0) {
        char c = 0;
        if (write(sig_pipe[1], &c, 1) < 0) { /* pipe full: a wake-up is already pending */ }
    }
    errno = saved;
}

static int signals_setup(void)
{
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void drain_signals(void)
{
    char buf[64];
    while (read(sig_pipe[0], buf, sizeof buf) > 0) {}
}

long long master_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void master_wait_signal(int ms)
{
    struct pollfd p = { .fd = sig_pipe[0], .events = POLLIN };
    if (poll(&p, 1, ms) > 0) drain_signals();
}

/* Print a start-up error where the operator sees it (the terminal), and log it. */
static void startup_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void startup_error(const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    log_error("%s", text);
    if (strcmp(config_string(CONF_LOGGING), "stderr")) fprintf(stderr, "master: %s\n", text);
}

/* ---- pid file: locked while we run, so two masters never share a store ---- */
static int pid_fd = -1;
static char pid_path[PATH_MAX];

static int pidfile_take(void)
{
    pid_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (pid_fd < 0) {
        startup_error("cannot open pid file %s: %s", pid_path, strerror(errno));
        return -1;
    }
    if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0) {
        char old[32] = "";
        ssize_t n = read(pid_fd, old, sizeof old - 1);
        old[n > 0 ? n : 0] = '\0';
        old[strcspn(old, "\n")] = '\0';
        startup_error("another master is running (pid %s, pid file %s)", *old ? old : "?", pid_path);
        close(pid_fd);
        pid_fd = -1;
        return -1;
    }
    char line[32];
    int len = snprintf(line, sizeof line, "%d\n", (int)getpid());
    if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, line, (size_t)len, 0) != len) {
        startup_error("cannot write pid file %s: %s", pid_path, strerror(errno));
        return -1;
    }
    return 0;
}

static void pidfile_remove(void)
{
    if (pid_fd < 0) return;
    unlink(pid_path);
    close(pid_fd);
    pid_fd = -1;
}

/* ---- directories the store and services expect ---- */
static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST) return -1;
    return 0;
}

static int make_dirs(void)
{
    char lockdir[PATH_MAX];
    const char *dirs[2 + CONFIG_MAX_PARTITIONS];
    int n = 0;
    dirs[n++] = config_string(CONF_CONFIGDIRECTORY);
    dirs[n++] = config_dir_path("lock", lockdir, sizeof lockdir);
    for (int i = 0; i < config_partition_count(); i++) dirs[n++] = config_partition(config_partition_name(i));
    for (int i = 0; i < n; i++)
        if (mkdir_p(dirs[i], 0750) < 0) {
            startup_error("cannot create %s: %s", dirs[i], strerror(errno));
            return -1;
        }
    return 0;
}

/* ---- daemon mode: the parent waits until the child is serving ---- */
static int ready_fd = -1;

static void daemonize(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("master: pipe");
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("master: fork");
        exit(1);
    }
    if (pid > 0) {
        close(p[1]);
        char c;
        ssize_t r;
        do r = read(p[0], &c, 1);
        while (r < 0 && errno == EINTR);
        if (r == 1) _exit(0);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        _exit(WIFEXITED(status) && WEXITSTATUS(status) ? WEXITSTATUS(status) : 1);
    }
    close(p[0]);
    ready_fd = p[1];
    setsid();
    if (chdir("/") < 0) { /* not fatal: every path we use is absolute */ }
}

static void daemon_ready(void)
{
    if (ready_fd < 0) return;
    if (!strcmp(config_string(CONF_LOGGING), "stderr"))
        log_warn("logging to stderr while running in the background: log lines are lost (use -D or syslog)");
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
        if (null > 2) close(null);
    }
    if (write(ready_fd, "R", 1) < 0) { /* the parent is gone: nothing to tell */ }
    close(ready_fd);
    ready_fd = -1;
}

/* ---- SIGHUP ---- */
static void reload(struct master *m)
{
    char err[CONFIG_ERR_MAX];
    log_notice("SIGHUP: reloading %s", m->conf_path);
    if (config_load(m->conf_path, err, sizeof err) < 0) {
        log_error("reload refused: %s: keeping the running configuration", err);
        return;
    }
    log_init("master");
    struct mconf mc;
    if (mconf_load(config_master_conf(), &mc, err, sizeof err) < 0) {
        log_error("reload refused: %s: keeping the running service table", err);
        return;
    }
    if (services_reload(m, &mc) < 0) {
        log_error("reload refused: a listener could not be opened: keeping the running service table");
        mconf_free(&mc);
        return;
    }
    jobs_setup(m, &mc, time(NULL));
    mconf_free(&m->mc);
    m->mc = mc;   /* services and jobs point into mc.e, which moves along */
    log_notice("reload done");
}

/* ---- the main loop ---- */
struct poll_owner { struct child *child; struct service *svc; };

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_timeout(const struct master *m, time_t now)
{
    time_t a = services_next_timer(m, now), b = jobs_next_timer(m, now), c = store_check_next_timer(m);
    time_t next = !a ? b : !b ? a : (a < b ? a : b);
    if (c && (!next || c < next)) next = c;
    if (!next) return 60000;
    long long ms = (long long)next * 1000 - now_ms();
    return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

static size_t build_pollset(struct master *m, time_t now, struct pollfd **pfd, struct poll_owner **own, size_t *cap)
{
    size_t need = 1;
    for (struct child *c = m->children; c; c = c->next) need++;
    for (struct service *s = m->services; s; s = s->next) need++;
    if (need > *cap) {
        *cap = need * 2;
        *pfd = xrealloc(*pfd, *cap * sizeof **pfd);
        *own = xrealloc(*own, *cap * sizeof **own);
    }
    size_t n = 0;
    (*pfd)[n] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
    (*own)[n++] = (struct poll_owner){ NULL, NULL };
    for (struct child *c = m->children; c; c = c->next)
        if (c->status_fd >= 0) {
            (*pfd)[n] = (struct pollfd){ .fd = c->status_fd, .events = POLLIN };
            (*own)[n++] = (struct poll_owner){ c, NULL };
        }
    for (struct service *s = m->services; s; s = s->next)
        if (services_want_poll(s, now)) {
            (*pfd)[n] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
            (*own)[n++] = (struct poll_owner){ NULL, s };
        }
    return n;
}

static void main_loop(struct master *m)
{
    struct pollfd *pfd = NULL;
    struct poll_owner *own = NULL;
    size_t cap = 0;
    while (!got_term) {
        drain_signals();
        if (got_chld) {
            got_chld = 0;
            children_reap(m);
        }
        if (got_hup) {
            got_hup = 0;
            reload(m);
        }
        if (got_term || !m->st) break;
        time_t now = time(NULL);
        services_maintain(m, now);
        jobs_run_due(m, now);
        store_check_due(m, now);
        size_t n = build_pollset(m, now, &pfd, &own, &cap);
        if (poll(pfd, n, poll_timeout(m, now)) <= 0) continue;
        for (size_t i = 1; i < n; i++) {
            if (!pfd[i].revents) continue;
            if (own[i].child) child_status_input(m, own[i].child);
            else services_listener_ready(m, own[i].svc);
        }
    }
    free(pfd);
    free(own);
}

static void stop_everything(struct master *m)
{
    log_notice("stopping: listeners closed, stopping running processes");
    services_close(m);
    m->stopping = 1;
    children_terminate(m, (int)config_int(CONF_MASTER_SHUTDOWN_GRACE));
    services_free(m);
    jobs_free(m);
}

/* ---- start-up ---- */
static void usage(void)
{
    fprintf(stderr, "usage: master [-D] [-C satchel.conf] [-p pidfile]\n"
                    "       master -t [-C satchel.conf]   (check both config files and exit)\n");
    exit(64);
}

/* master chdirs to / when it daemonizes: keep every path absolute. */
static void absolute_path(const char *in, char *out, size_t len)
{
    char cwd[PATH_MAX];
    int n;
    if (in[0] == '/' || !getcwd(cwd, sizeof cwd)) n = snprintf(out, len, "%s", in);
    else n = snprintf(out, len, "%s/%s", cwd, in);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "master: path too long: %s\n", in);
        exit(EXIT_CONFIG);
    }
}

static void load_configs(struct master *m, const char *conf)
{
    char err[CONFIG_ERR_MAX];
    absolute_path(conf, m->conf_path, sizeof m->conf_path);
    if (config_load(m->conf_path, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(EXIT_CONFIG);
    }
    log_init("master");
    if (mconf_load(config_master_conf(), &m->mc, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        log_error("%s", err);
        exit(EXIT_CONFIG);
    }
}

static void set_pid_path(const char *opt)
{
    char def[PATH_MAX];
    const char *p = opt ? opt : *config_string(CONF_MASTER_PIDFILE) ? config_string(CONF_MASTER_PIDFILE)
                                                                    : config_dir_path("master.pid", def, sizeof def);
    absolute_path(p, pid_path, sizeof pid_path);
}

/* Everything between reading the configs and serving; -1 on failure. */
static int start_up(struct master *m)
{
    if (signals_setup() < 0) {
        startup_error("cannot set up signal handling: %s", strerror(errno));
        return -1;
    }
    if (make_dirs() < 0 || pidfile_take() < 0) return -1;
    log_notice("starting (pid %d): %s, %s", (int)getpid(), m->conf_path, m->mc.path);
    /* Recovery runs here, alone, before any other process opens the environment. */
    int rc = store_open(&m->st, STORE_OPEN_RECOVER | STORE_OPEN_CREATE);
    if (rc != STORE_OK) {
        m->st = NULL;
        startup_error("cannot open the store: %s", store_strerror(rc));
        return -1;
    }
    if (services_open(m, &m->mc) < 0 || jobs_run_start(m) < 0) return -1;
    jobs_setup(m, &m->mc, time(NULL));
    m->next_store_check = time(NULL) + config_int(CONF_MASTER_STORE_CHECK_INTERVAL);
    return 0;
}

int main(int argc, char **argv)
{
    const char *conf = CONFIG_DEFAULT_PATH, *pidopt = NULL;
    struct master m;
    memset(&m, 0, sizeof m);
    int opt, check_only = 0;
    while ((opt = getopt(argc, argv, "C:Dp:t")) != -1) {
        if (opt == 'C') conf = optarg;
        else if (opt == 'D') m.foreground = 1;
        else if (opt == 'p') pidopt = optarg;
        else if (opt == 't') check_only = 1;
        else usage();
    }
    if (optind != argc) usage();
    load_configs(&m, conf);
    if (check_only) {
        printf("%s and %s are valid\n", m.conf_path, m.mc.path);
        mconf_free(&m.mc);
        return 0;
    }
    set_pid_path(pidopt);
    if (!m.foreground) daemonize();
    int failed = start_up(&m) < 0;
    if (!failed) {
        daemon_ready();
        log_notice("ready");
        main_loop(&m);
    }
    if (!failed && !m.st) failed = 1;   /* recovery failed while running */
    stop_everything(&m);
    store_close_at_stop(&m);
    pidfile_remove();
    mconf_free(&m.mc);
    log_notice(failed ? "start-up failed: stopped" : "stopped");
    return failed ? 1 : 0;
}
