/* IDLE (RFC 2177): push other sessions' changes while the client waits.
 * The store is polled with store_changed_since() (an index lookup, cheap
 * when nothing changed) every IDLE_POLL_MS, so changes show within a
 * second. */
#define _GNU_SOURCE
#include "commands.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "prot.h"
#include <string.h>
#include <strings.h>
#include <time.h>

#define IDLE_POLL_MS 250

void cmd_idle(struct session *s, struct cmd *c)
{
    if (!ps_eol(&c->ps)) return;
    sess_printf(s, "+ idling\r\n");
    if (s->sel && session_sync(s, 1) != 0) { c->answered = 1; return; }
    sess_flush(s);
    time_t limit = time(NULL) + (time_t)config_int(CONF_IMAP_IDLE_TIMEOUT);
    struct buf line = BUF_INIT;
    for (;;) {
        int w = prot_wait_input(s->prot, IDLE_POLL_MS);
        if (w < 0) { s->state = ST_LOGOUT; c->answered = 1; break; }
        if (w > 0) {
            ssize_t r = prot_getline(s->prot, &line, s->lim.max_line);
            if (r < 0) {
                if (r == PROT_TOOLONG) { cmd_bad(c, "[TOOBIG] Line too long in IDLE"); break; }
                s->state = ST_LOGOUT;
                c->answered = 1;
                break;
            }
            if (line.len == 4 && strncasecmp(line.s, "DONE", 4) == 0) cmd_ok(c, "IDLE terminated");
            else cmd_bad(c, "Expected DONE to end IDLE");
            break;
        }
        if (s->sel && session_sync(s, 1) != 0) { c->answered = 1; break; }
        sess_flush(s);
        if (prot_error(s->prot)) { s->state = ST_LOGOUT; c->answered = 1; break; }
        if (time(NULL) >= limit) {
            sess_printf(s, "* BYE Autologout; idle for too long\r\n");
            s->state = ST_LOGOUT;
            c->answered = 1;
            break;
        }
    }
    buf_free(&line);
}
