/* satchelctl internals: command table, exit codes and shared helpers. */
#ifndef SATCHEL_CTL_H
#define SATCHEL_CTL_H
#include <stddef.h>
#include <stdint.h>

struct store;
struct mailbox_info;

/* Exit codes (sysexits.h values where one fits). */
enum {
    CTL_OK = 0,
    CTL_FAIL = 1,        /* the operation failed; the message names the object */
    CTL_USAGE = 64,      /* EX_USAGE: bad command line */
    CTL_CONFIG = 75,     /* bad or unreadable configuration */
};

/* One subcommand: argv[0] is the subcommand's own word ("add", "check"...). */
typedef int (*ctl_cmd_fn)(int argc, char **argv);

int cmd_user(int argc, char **argv);
int cmd_mailbox(int argc, char **argv);
int cmd_quota(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_expire(int argc, char **argv);
int cmd_replog(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_append(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

/* interrupt.c: a signal while the store is open lets the command finish
 * (see there).  setup installs the handlers; store_in_use is set
 * before the store is opened and cleared once it is closed; interrupted
 * returns the signal that asked us to stop, or 0. */
void ctl_interrupt_setup(void);
void ctl_interrupt_store_in_use(int in_use);
int ctl_interrupted(void);

/* The usage text printed by --help / help (man/satchelctl.8 mirrors it). */
void ctl_print_usage(void);

/* "satchelctl: <msg>" + a hint to --help on stderr; returns CTL_USAGE. */
int ctl_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "satchelctl: <msg>" on stderr; returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Dispatch argv[1] among a group's subcommands; group names the group
 * ("user") for error messages. */
struct ctl_sub { const char *name; ctl_cmd_fn fn; };
int ctl_dispatch(const char *group, const struct ctl_sub *subs, int argc, char **argv);

/* Split argv[1..] into positional words and "--name value"/"--name=value"
 * options.  Each spec's *value is set when the option is given.  Returns 0
 * or CTL_USAGE (message printed) for an unknown option, a missing value or
 * more/fewer positional words than min..max. */
struct ctl_opt { const char *name; const char **value; };
int ctl_args(int argc, char **argv, const struct ctl_opt *opts, const char **pos, int min, int max, int *npos);
/* Was the value-less option "--name" given (before any "--")?  Declare it
 * to ctl_args with a NULL value pointer. */
int ctl_flag(int argc, char **argv, const char *name);

/* The store, opened once (with STORE_OPEN_CREATE and any extra flags); NULL
 * after printing why. Closed by ctl_store_close at exit. */
struct store *ctl_store(int flags);
void ctl_store_close(void);
/* SASL, initialised once; -1 after printing why. */
int ctl_auth(void);

/* "alice:Sent" -> "user/alice/Sent", "alice:" -> "user/alice"; anything
 * else is copied as an internal name. */
void ctl_mailbox_name(const char *in, char *out, size_t len);
/* The start of most mailbox commands: arg canonicalised into name (len
 * bytes) by ctl_mailbox_name, then the store, opened once; NULL after
 * printing why. */
struct store *ctl_store_mailbox(const char *arg, char *name, size_t len);
/* Look mailbox name up into *mb: CTL_OK, or CTL_FAIL after printing
 * "mailbox <name> does not exist" or why the lookup failed. */
int ctl_mailbox_lookup(struct store *st, const char *name, struct mailbox_info *mb);
/* ctl_store_mailbox followed by ctl_mailbox_lookup. */
int ctl_open_mailbox(const char *arg, char *name, size_t len, struct store **st, struct mailbox_info *mb);

/* "123", "10K", "5M", "1G" -> bytes; 0 or -1. */
int ctl_parse_size(const char *s, int64_t *out);
/* "30", "30s", "5m", "2h", "3d" -> seconds; 0 or -1. */
int ctl_parse_duration(const char *s, int64_t *out);
/* Non-negative integer; 0 or -1. */
int ctl_parse_uint(const char *s, uint64_t *out);
#endif
