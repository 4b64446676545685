/* Binding master's listeners (TCP v4/v6 and unix sockets). */
#include "listener.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128

struct tcp_spec {
    char host[256];     /* "" = every address */
    char port[8];
};

static int valid_port(const char *p)
{
    if (!*p || strlen(p) > 5) return 0;
    for (const char *c = p; *c; c++)
        if (*c < '0' || *c > '9') return 0;
    long n = strtol(p, NULL, 10);
    return n >= 1 && n <= 65535;
}

/* Split a TCP spec into host and port. */
static int split_tcp(const char *spec, struct tcp_spec *t, char *why, size_t whylen)
{
    const char *port;
    size_t hostlen;
    const char *host = spec;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') {
            snprintf(why, whylen, "listen '%s': expected [address]:port", spec);
            return -1;
        }
        host = spec + 1;
        hostlen = (size_t)(close - host);
        port = close + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (colon && strchr(spec, ':') != colon) {
            snprintf(why, whylen, "listen '%s': IPv6 addresses must be written as [address]:port", spec);
            return -1;
        }
        hostlen = colon ? (size_t)(colon - spec) : 0;
        port = colon ? colon + 1 : spec;
    }
    if (!valid_port(port)) {
        snprintf(why, whylen, "listen '%s': '%s' is not a port number (1-65535)", spec, port);
        return -1;
    }
    if (hostlen >= sizeof t->host) {
        snprintf(why, whylen, "listen '%s': host name too long", spec);
        return -1;
    }
    memcpy(t->host, host, hostlen);
    t->host[hostlen] = '\0';
    if (!strcmp(t->host, "*")) t->host[0] = '\0';
    snprintf(t->port, sizeof t->port, "%s", port);
    return 0;
}

int listener_check(const char *spec, char *why, size_t whylen)
{
    if (!*spec) {
        snprintf(why, whylen, "listen is empty");
        return -1;
    }
    if (spec[0] == '/') {
        struct sockaddr_un sun;
        if (strlen(spec) >= sizeof sun.sun_path) {
            snprintf(why, whylen, "listen '%s': unix socket path too long", spec);
            return -1;
        }
        return 0;
    }
    struct tcp_spec t;
    return split_tcp(spec, &t, why, whylen);
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    return 0;
}

static int open_unix(const char *path, char *why, size_t whylen)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    struct stat st;
    /* Only ever remove a socket: a typo must not delete a regular file. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, whylen, "listen '%s': exists and is not a socket", path);
            return -1;
        }
        if (unlink(path) < 0) {
            snprintf(why, whylen, "listen '%s': cannot remove stale socket: %s", path, strerror(errno));
            return -1;
        }
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "listen '%s': socket: %s", path, strerror(errno));
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 || chmod(path, 0777) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0 || set_flags(fd) < 0) {
        snprintf(why, whylen, "listen '%s': %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int bind_ai(const struct addrinfo *ai, int dual_stack)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) return -1;
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) goto fail;
    if (ai->ai_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof one) < 0)
        goto fail;
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0 || set_flags(fd) < 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

static int open_tcp(const char *spec, char *why, size_t whylen)
{
    struct tcp_spec t;
    if (split_tcp(spec, &t, why, whylen) < 0) return -1;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    /* "port" alone: one dual-stack IPv6 socket, or IPv4 if IPv6 is off. */
    hints.ai_family = t.host[0] ? AF_UNSPEC : AF_INET6;
    int rc = getaddrinfo(t.host[0] ? t.host : NULL, t.port, &hints, &res);
    if (rc != 0 && !t.host[0]) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, t.port, &hints, &res);
    }
    if (rc != 0) {
        snprintf(why, whylen, "listen '%s': %s", spec, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = bind_ai(ai, !t.host[0]);
        if (fd < 0) err = errno;
    }
    freeaddrinfo(res);
    if (fd < 0 && !t.host[0] && err == EAFNOSUPPORT) {
        /* IPv6 disabled in the kernel: fall back to 0.0.0.0. */
        hints.ai_family = AF_INET;
        if (getaddrinfo(NULL, t.port, &hints, &res) == 0) {
            fd = bind_ai(res, 0);
            if (fd < 0) err = errno;
            freeaddrinfo(res);
        }
    }
    if (fd < 0) snprintf(why, whylen, "listen '%s': %s", spec, strerror(err));
    return fd;
}

int listener_open(const char *spec, char *why, size_t whylen)
{
    if (listener_check(spec, why, whylen) < 0) return -1;
    return spec[0] == '/' ? open_unix(spec, why, whylen) : open_tcp(spec, why, whylen);
}

void listener_describe(int fd, const char *spec, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    if (spec[0] == '/' || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(buf, len, "%s", spec);
        return;
    }
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, len, "%s:%u", host, ntohs(in->sin_port));
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, len, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        snprintf(buf, len, "%s", spec);
    }
}

void listener_close(int fd, const char *spec)
{
    if (fd < 0) return;
    close(fd);
    if (spec[0] == '/') unlink(spec);
}
