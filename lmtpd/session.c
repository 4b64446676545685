/* One LMTP session (RFC 2033 with PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES,
 * SIZE, CHUNKING, STARTTLS and AUTH).  Replies are buffered and flushed
 * only when the client has no more pipelined input waiting, so a pipelined
 * batch costs one write. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include "lmtpd.h"
#include "prot.h"
#include "service.h"

#define CMD_TIMEOUT 300          /* seconds a client may stay silent */
#define MAX_RCPTS 1000
#define CHUNK_PIECE 65536

struct session {
    struct store *st;
    const struct service_conn *conn;
    struct prot *p;
    struct buf line;
    int lhlo;                    /* LHLO seen (since the last STARTTLS) */
    int authed;                  /* AUTH done, or not required */
    int in_mail;                 /* MAIL accepted */
    int quit;
    int stopping;                /* a read returned PROT_STOPPED: master is stopping */
    char sender[LMTP_MAX_PATH];
    struct rcpt *rcpts;
    size_t nrcpt, rcpt_alloc;
    int bdat;                    /* BDAT chunks are being collected */
    struct lmtp_body body;
};

static void reply(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct session *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 2, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof line - 3) n = (int)sizeof line - 3;
    memcpy(line + n, "\r\n", 2);
    prot_write(s->p, line, (size_t)n + 2);
}

/* Ends the mail transaction: recipients, their delivery slots, the body. */
static void reset_txn(struct session *s)
{
    for (size_t i = 0; i < s->nrcpt; i++) userlimit_release(&s->rcpts[i].slot);
    s->nrcpt = 0;
    s->in_mail = 0;
    s->sender[0] = '\0';
    if (s->bdat) lmtp_body_free(&s->body);
    s->bdat = 0;
}

/* lmtp_max_message_size 0 means no limit (announced as "SIZE 0", RFC 1870). */
static size_t max_size(void)
{
    long long n = config_int(CONF_LMTP_MAX_MESSAGE_SIZE);
    return n > 0 ? (size_t)n : SIZE_MAX;
}

static size_t max_line(void)
{
    return (size_t)config_int(CONF_LMTP_MAX_LINE);
}

static const char *hostname(void)
{
    static char host[256];
    const char *conf = config_string(CONF_SERVERNAME);
    if (conf && *conf) return conf;
    if (!host[0] && gethostname(host, sizeof host - 1) < 0) snprintf(host, sizeof host, "localhost");
    return host;
}

static int need_auth(const struct session *s)
{
    return config_bool(CONF_LMTP_REQUIRE_AUTH) && !s->conn->is_loopback;
}

static void cmd_lhlo(struct session *s, const char *args)
{
    if (!*args) {
        reply(s, "501 5.5.4 LHLO needs a domain");
        return;
    }
    reset_txn(s);
    s->lhlo = 1;
    reply(s, "250-%s", hostname());
    reply(s, "250-PIPELINING");
    reply(s, "250-ENHANCEDSTATUSCODES");
    reply(s, "250-8BITMIME");
    reply(s, "250-SIZE %zu", max_size() == SIZE_MAX ? (size_t)0 : max_size());
    if (lmtpd_g.tls && !prot_is_tls(s->p)) reply(s, "250-STARTTLS");
    if (lmtpd_g.auth_ok && !s->authed) {
        struct auth_session *as = auth_session_new("lmtp", s->conn->local_ip, s->conn->peer_ip,
                                                   prot_is_tls(s->p) || s->conn->is_loopback);
        if (as) {
            const char *mechs = auth_mechs(as);
            if (mechs && *mechs) reply(s, "250-AUTH %s", mechs);
            auth_session_free(as);
        }
    }
    reply(s, "250 CHUNKING");
}

static int parse_error_reply(struct session *s, int r)
{
    if (r == PARSE_BADPARAM) reply(s, "555 5.5.4 Unsupported parameter");
    else if (r == PARSE_TOOLONG) reply(s, "501 5.1.3 Address too long");
    else reply(s, "501 5.5.4 Syntax error in parameters");
    return r;
}

static void cmd_mail(struct session *s, const char *args)
{
    if (!s->lhlo) { reply(s, "503 5.5.1 Send LHLO first"); return; }
    if (!s->authed) { reply(s, "530 5.7.0 Authentication required"); return; }
    if (s->in_mail) { reply(s, "503 5.5.1 Nested MAIL command"); return; }
    struct lmtp_path path;
    int r = lmtp_parse_path(args, "FROM:", 1, &path);
    if (r != PARSE_OK) { parse_error_reply(s, r); return; }
    if (path.size >= 0 && (uint64_t)path.size > max_size()) {
        reply(s, "552 5.3.4 Message size exceeds fixed limit of %zu bytes", max_size());
        return;
    }
    snprintf(s->sender, sizeof s->sender, "%s", path.addr);
    s->in_mail = 1;
    reply(s, "250 2.1.0 Sender ok");
}

static void cmd_rcpt(struct session *s, const char *args)
{
    if (!s->in_mail) { reply(s, "503 5.5.1 Need MAIL before RCPT"); return; }
    if (s->bdat) { reply(s, "503 5.5.1 RCPT not allowed during BDAT"); return; }
    struct lmtp_path path;
    int r = lmtp_parse_path(args, "TO:", 0, &path);
    if (r != PARSE_OK) { parse_error_reply(s, r); return; }
    if (s->nrcpt >= MAX_RCPTS) { reply(s, "452 4.5.3 Too many recipients"); return; }
    if (s->nrcpt == s->rcpt_alloc) {
        s->rcpt_alloc = s->rcpt_alloc ? s->rcpt_alloc * 2 : 8;
        s->rcpts = xrealloc(s->rcpts, s->rcpt_alloc * sizeof *s->rcpts);
    }
    char msg[512];
    if (rcpt_resolve(s->st, path.addr, s->rcpts, s->nrcpt, &s->rcpts[s->nrcpt], msg, sizeof msg) < 0) {
        log_info("recipient refused <%s>: %s", path.addr, msg);
        reply(s, "%s", msg);
        return;
    }
    s->nrcpt++;
    reply(s, "250 2.1.5 Recipient ok");
}

/* After the message is complete: one reply per recipient, in RCPT order. */
static void finish_message(struct session *s, struct lmtp_body *b)
{
    char (*replies)[256] = xcalloc(s->nrcpt, sizeof *replies);
    if (b->too_big) {
        for (size_t i = 0; i < s->nrcpt; i++)
            snprintf(replies[i], 256, "552 5.3.4 Message size exceeds fixed limit of %zu bytes", max_size());
    } else if (b->line_too_long) {
        for (size_t i = 0; i < s->nrcpt; i++)
            snprintf(replies[i], 256, "554 5.6.0 Message has a line longer than %zu bytes", max_line());
    } else {
        deliver_message(s->st, b->data.s, b->data.len, s->rcpts, s->nrcpt, replies);
    }
    for (size_t i = 0; i < s->nrcpt; i++) reply(s, "%s", replies[i]);
    free(replies);
}

/* Reads DATA content up to the lone dot.  0, or -1 when the connection
 * failed (the session ends). */
static int cmd_data(struct session *s, const char *args)
{
    if (*args) { reply(s, "501 5.5.4 DATA takes no parameters"); return 0; }
    if (!s->in_mail || s->nrcpt == 0 || s->bdat) {
        reply(s, "503 5.5.1 %s", s->bdat ? "DATA not allowed after BDAT" : "No valid recipients");
        return 0;
    }
    reply(s, "354 Start mail input; end with <CRLF>.<CRLF>");
    prot_flush(s->p);
    struct lmtp_body b;
    lmtp_body_init(&b, s->sender, max_size());
    for (;;) {
        ssize_t n = prot_getline(s->p, &s->line, max_line());
        if (n == PROT_TOOLONG) { b.line_too_long = 1; continue; }
        if (n < 0) {
            lmtp_body_free(&b);
            if (n == PROT_STOPPED) s->stopping = 1;   /* nothing was acknowledged: the client sends it again */
            else log_info("connection lost during DATA");
            return -1;
        }
        if (lmtp_body_add_line(&b, s->line.s, (size_t)n)) break;
    }
    finish_message(s, &b);
    lmtp_body_free(&b);
    reset_txn(s);
    return 0;
}

/* Reads a BDAT chunk of n bytes into the body (or drops it when keep is 0
 * or the body is already too big).  0, or -1 when the connection failed. */
static int read_chunk(struct session *s, uint64_t n, int keep)
{
    if (keep && !s->body.too_big && n > s->body.max - lmtp_body_size(&s->body)) {
        s->body.too_big = 1;
        buf_truncate(&s->body.data, s->body.header_len);
    }
    if (!keep || s->body.too_big) {
        while (n) {
            size_t piece = n > CHUNK_PIECE ? CHUNK_PIECE : (size_t)n;
            ssize_t r = prot_skip(s->p, piece);
            if (r < 0) {
                s->stopping = r == PROT_STOPPED;
                return -1;
            }
            n -= piece;
        }
        return 0;
    }
    struct buf tmp = BUF_INIT;
    while (n) {
        size_t piece = n > CHUNK_PIECE ? CHUNK_PIECE : (size_t)n;
        buf_reset(&tmp);
        ssize_t r = prot_read_exact(s->p, &tmp, piece);
        if (r < 0) {
            s->stopping = r == PROT_STOPPED;
            buf_free(&tmp);
            return -1;
        }
        lmtp_body_add_chunk(&s->body, tmp.s, tmp.len);
        n -= piece;
    }
    buf_free(&tmp);
    return 0;
}

static int cmd_bdat(struct session *s, const char *args)
{
    uint64_t n;
    int last;
    if (lmtp_parse_bdat(args, &n, &last) < 0) {
        /* The chunk size is unknown, so its bytes cannot be skipped: end
         * the transaction and let the client's next lines be read as commands. */
        reply(s, "501 5.5.4 Syntax: BDAT <size> [LAST]");
        reset_txn(s);
        return 0;
    }
    if (!s->in_mail || s->nrcpt == 0) {
        if (read_chunk(s, n, 0) < 0) return -1;
        reply(s, "503 5.5.1 No valid recipients");
        return 0;
    }
    if (!s->bdat) {
        lmtp_body_init(&s->body, s->sender, max_size());
        s->bdat = 1;
    }
    if (read_chunk(s, n, 1) < 0) return -1;
    if (!last) {
        reply(s, "250 2.0.0 %llu octets received", (unsigned long long)n);
        return 0;
    }
    finish_message(s, &s->body);
    reset_txn(s);
    return 0;
}

static void cmd_starttls(struct session *s, const char *args)
{
    if (*args) { reply(s, "501 5.5.4 STARTTLS takes no parameters"); return; }
    if (!lmtpd_g.tls) { reply(s, "454 4.7.0 TLS not available"); return; }
    if (prot_is_tls(s->p)) { reply(s, "503 5.5.1 TLS already active"); return; }
    if (!s->lhlo) { reply(s, "503 5.5.1 Send LHLO first"); return; }
    reply(s, "220 2.0.0 Ready to start TLS");
    if (prot_flush(s->p) < 0) { s->quit = 1; return; }
    /* Plaintext pipelined after STARTTLS must not be taken as protected. */
    size_t pending = prot_pending(s->p);
    if (pending) prot_skip(s->p, pending);
    if (prot_starttls(s->p, lmtpd_g.tls) < 0) {
        s->quit = 1;
        return;
    }
    reset_txn(s);
    s->lhlo = 0;
}

/* AUTH mech [initial-response]: the SASL exchange in 334 round trips. */
static void cmd_auth(struct session *s, const char *args)
{
    if (!s->lhlo) { reply(s, "503 5.5.1 Send LHLO first"); return; }
    if (s->authed && need_auth(s)) { reply(s, "503 5.5.1 Already authenticated"); return; }
    if (s->in_mail) { reply(s, "503 5.5.1 AUTH not allowed during a mail transaction"); return; }
    if (!lmtpd_g.auth_ok) { reply(s, "454 4.7.0 Authentication not available"); return; }
    char mech[64];
    size_t mlen = strcspn(args, " ");
    if (mlen == 0 || mlen >= sizeof mech) { reply(s, "501 5.5.4 Syntax: AUTH mechanism [initial-response]"); return; }
    memcpy(mech, args, mlen);
    mech[mlen] = '\0';
    const char *init = args + mlen;
    while (*init == ' ') init++;
    struct buf in = BUF_INIT, chal = BUF_INIT, enc = BUF_INIT;
    struct auth_session *as = auth_session_new("lmtp", s->conn->local_ip, s->conn->peer_ip,
                                               prot_is_tls(s->p) || s->conn->is_loopback);
    int r = AUTH_FAIL;
    if (!as) goto fail;
    if (*init) {
        if (strcmp(init, "=") != 0 && auth_b64_decode(init, strlen(init), &in) < 0) {
            reply(s, "501 5.5.2 Bad base64 in initial response");
            goto out;
        }
        r = auth_start(as, mech, in.s ? in.s : "", in.len, &chal);
    } else {
        r = auth_start(as, mech, NULL, 0, &chal);
    }
    while (r == AUTH_CONTINUE) {
        buf_reset(&enc);
        auth_b64_encode(chal.s ? chal.s : "", chal.len, &enc);
        reply(s, "334 %s", buf_cstr(&enc));
        prot_flush(s->p);
        ssize_t n = prot_getline(s->p, &s->line, max_line());
        if (n < 0) { s->quit = n != PROT_TOOLONG; s->stopping = n == PROT_STOPPED; r = AUTH_FAIL; break; }
        if (strcmp(s->line.s, "*") == 0) {
            reply(s, "501 5.0.0 Authentication cancelled");
            goto out;
        }
        buf_reset(&in);
        buf_reset(&chal);
        if (auth_b64_decode(s->line.s, (size_t)n, &in) < 0) {
            reply(s, "501 5.5.2 Bad base64 in response");
            goto out;
        }
        r = auth_step(as, in.s ? in.s : "", in.len, &chal);
    }
fail:
    if (r == AUTH_DONE) {
        s->authed = 1;
        log_set_user(auth_user(as));
        log_info("authenticated as %s (%s)", auth_user(as), mech);
        reply(s, "235 2.7.0 Authentication successful");
    } else if (r == AUTH_NOMECH) {
        reply(s, "504 5.5.4 Unrecognized authentication mechanism");
    } else {
        log_notice("authentication failed (%s) from %s", mech, s->conn->peer_ip);
        reply(s, "535 5.7.8 Authentication credentials invalid");
    }
out:
    if (as) auth_session_free(as);
    buf_free(&in);
    buf_free(&chal);
    buf_free(&enc);
}

/* Runs one command line.  -1 ends the session (connection lost). */
static int dispatch(struct session *s, const char *line)
{
    const char *args;
    enum lmtp_verb v = lmtp_verb(line, &args);
    switch (v) {
    case V_LHLO: cmd_lhlo(s, args); break;
    case V_MAIL: cmd_mail(s, args); break;
    case V_RCPT: cmd_rcpt(s, args); break;
    case V_DATA: return cmd_data(s, args);
    case V_BDAT: return cmd_bdat(s, args);
    case V_STARTTLS: cmd_starttls(s, args); break;
    case V_AUTH: cmd_auth(s, args); break;
    case V_RSET:
        if (*args) { reply(s, "501 5.5.4 RSET takes no parameters"); break; }
        reset_txn(s);
        reply(s, "250 2.0.0 Ok");
        break;
    case V_NOOP: reply(s, "250 2.0.0 Ok"); break;
    case V_QUIT:
        reply(s, "221 2.0.0 %s closing connection", hostname());
        s->quit = 1;
        break;
    case V_VRFY:
        if (!*args) reply(s, "501 5.5.4 VRFY needs an address");
        else reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
        break;
    case V_HELP: reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY STARTTLS AUTH"); break;
    case V_HELO:
    case V_EHLO: reply(s, "500 5.5.1 This is an LMTP server: use LHLO"); break;
    default: reply(s, "500 5.5.2 Command unrecognized"); break;
    }
    return 0;
}

void lmtp_session(struct store *st, const struct service_conn *conn)
{
    struct session s;
    memset(&s, 0, sizeof s);
    s.st = st;
    s.conn = conn;
    s.authed = !need_auth(&s);
    s.p = prot_new(conn->fd, conn->out_fd);
    prot_set_timeout(s.p, CMD_TIMEOUT);
    log_info("connection from %s", conn->peer_ip);
    reply(&s, "220 %s LMTP Satchel ready", hostname());
    prot_flush(s.p);
    while (!s.quit) {
        ssize_t n = prot_getline(s.p, &s.line, max_line());
        if (n == PROT_TOOLONG) {
            reply(&s, "500 5.5.0 Line too long");
        } else if (n == PROT_TIMEOUT) {
            reply(&s, "421 4.4.2 %s Timeout, closing connection", hostname());
            prot_flush(s.p);
            break;
        } else if (n < 0) {
            s.stopping = n == PROT_STOPPED;
            break;
        } else if (memchr(s.line.s, '\0', (size_t)n)) {
            reply(&s, "500 5.5.2 NUL byte in command");
        } else if (dispatch(&s, s.line.s) < 0) {
            break;
        }
        /* One write per pipelined batch: flush only when nothing more is waiting. */
        if (s.quit || prot_pending(s.p) == 0) {
            if (prot_flush(s.p) < 0) break;
        }
    }
    if (s.stopping) {
        /* Every delivery begun was finished and answered; a message still
         * being received was not acknowledged, so the client sends it again. */
        reply(&s, "421 4.3.2 %s Service shutting down, closing connection", hostname());
        prot_flush(s.p);
        log_info("closing the connection: shutting down");
    }
    reset_txn(&s);
    free(s.rcpts);
    buf_free(&s.line);
    prot_free(s.p);
    log_set_user(NULL);
    log_info("connection closed");
}
