/* imapd-session: the logged-in part of an IMAP session, exec'd by imapd
 * after a plaintext login (see handoff.c).  It serves the connection it is
 * given and exits.  It links no TLS or SASL code, so an idle logged-in
 * connection costs little memory of its own. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "prot.h"
#include "service.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *handed_user, *handed_authid;
static int handed_pending = -1;

static int init(struct store *st, int argc, char **argv)
{
    (void)st;
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--user")) handed_user = argv[++i];
        else if (!strcmp(argv[i], "--authid")) handed_authid = argv[++i];
        else if (!strcmp(argv[i], "--pending-fd")) handed_pending = atoi(argv[++i]);
    }
    if (!handed_user || !*handed_user || !handed_authid || !*handed_authid) {
        log_error("imapd-session is started by imapd after a login (--user and --authid missing)");
        fprintf(stderr, "imapd-session: started by imapd after a login; not to be run by hand\n");
        return -1;
    }
    return 0;
}

/* Commands the client sent right after LOGIN, already read by imapd. */
static int restore_pending(struct prot *p)
{
    if (handed_pending < 0) return 0;
    char data[16384];
    ssize_t n = read(handed_pending, data, sizeof data);
    close(handed_pending);
    if (n < 0 || prot_prefill(p, data, (size_t)n) != 0) {
        log_error("cannot restore the input imapd passed on");
        return -1;
    }
    return 0;
}

static void handle(struct store *st, const struct service_conn *conn)
{
    struct prot *p = prot_new(conn->fd, conn->out_fd);
    struct session *s = session_new(st, conn, p);
    session_set_user(s, handed_user, handed_authid);
    registry_adopt(s);
    s->state = ST_AUTH;
    if (restore_pending(p) == 0) imap_command_loop(s, NULL);
    imap_session_finish(s);
}

int main(int argc, char **argv)
{
    static const struct service_ops ops = {"imapd", init, handle, NULL, 0};
    return service_main(argc, argv, &ops);
}
