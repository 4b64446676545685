/* master's shared state: the service table, running processes and jobs. */
#ifndef SATCHEL_MASTER_H
#define SATCHEL_MASTER_H
#include <signal.h>
#include <sys/types.h>
#include <time.h>
#include "mconf.h"
#include "store.h"

#define EXIT_CONFIG 75

/* A crash loop is 5 abnormal exits within 10 s; the service is then left
 * alone for a back-off that doubles up to a minute. */
#define CRASH_LIMIT 5
#define CRASH_WINDOW 10
#define BACKOFF_MAX 60

/* Seconds master gives failchk after a crash before it recovers instead. */
#define FAILCHK_DEADLINE 10

struct service {
    struct service *next;
    const struct mc_entry *cfg;     /* points into master.mc */
    int fd;                         /* listener */
    int nchild, nidle;              /* nidle counts starting + idle children */
    int full_logged;                /* maxchild reached and said so */
    int crashes;
    time_t crash_window;
    time_t throttle_until;
    int backoff;
    int taken;                      /* reload: listener moved to a new service */
};

struct job {                        /* an EVENTS or DAEMON entry */
    struct job *next;
    const struct mc_entry *cfg;
    pid_t pid;                      /* running instance, 0 when none */
    time_t next_run;
    int backoff;
};

enum child_kind { CK_SERVICE, CK_EVENT, CK_DAEMON };
enum child_state { CS_STARTING, CS_IDLE, CS_BUSY };

struct child {
    struct child *next;
    pid_t pid;
    enum child_kind kind;
    char name[64];
    struct service *svc;            /* NULL once retired by a reload */
    struct job *job;                /* NULL when the job was removed */
    int status_fd;                  /* read end of the status pipe, or -1 */
    enum child_state state;
    time_t started;
};

struct master {
    char conf_path[4096];           /* absolute path of satchel.conf */
    struct mconf mc;
    struct service *services;
    struct child *children;
    struct job *jobs;
    struct store *st;
    int foreground;
    int stopping;                   /* no respawns, no failchk */
    time_t next_store_check;        /* failchk.c's periodic check */
    int unchecked_deaths;           /* abnormal exits while stopping: no failchk ran */
};

/* Flags set by signal handlers (master.c). */
extern volatile sig_atomic_t got_chld, got_hup, got_term;
/* Wait up to ms for a signal; returns early when one arrives. */
void master_wait_signal(int ms);
/* A monotonic clock in milliseconds, for deadlines. */
long long master_mono_ms(void);

/* spawn.c */
void spawn_reset_signals(void);   /* in a forked child: default signals, none blocked */
pid_t spawn_process(const struct mc_entry *e, const char *conf, int listen_fd, int *status_rd);

/* services.c */
int services_open(struct master *m, const struct mconf *mc);
int services_reload(struct master *m, const struct mconf *mc);
void services_close(struct master *m);   /* listeners only */
void services_free(struct master *m);
void services_maintain(struct master *m, time_t now);
time_t services_next_timer(const struct master *m, time_t now);
int services_want_poll(const struct service *s, time_t now);
void services_listener_ready(struct master *m, struct service *s);
void child_status_input(struct master *m, struct child *c);
void children_reap(struct master *m);
void children_terminate(struct master *m, int grace);
void child_add(struct master *m, struct child *c);

/* jobs.c */
int jobs_run_start(struct master *m);
void jobs_setup(struct master *m, const struct mconf *mc, time_t now);
void jobs_run_due(struct master *m, time_t now);
time_t jobs_next_timer(const struct master *m, time_t now);
void jobs_child_exited(struct master *m, struct child *c, int abnormal, time_t now);
void jobs_free(struct master *m);

/* Describe a wait status: "exited with status 0", "killed by signal 9 (Killed)". */
void describe_status(int status, char *buf, size_t len);
/* failchk.c: failchk in a helper with a deadline, and recovery (all
 * processes stopped and restarted) when it fails or does not finish.
 * store_check after an abnormal exit; store_check_due every
 * master_store_check_interval; store_check_next_timer: 0 when off. */
void store_check(struct master *m);
void store_check_due(struct master *m, time_t now);
time_t store_check_next_timer(const struct master *m);
/* master's last close of the store, after every child has stopped. */
void store_close_at_stop(struct master *m);
#endif
