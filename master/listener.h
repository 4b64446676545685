/* Listening sockets that master binds itself and hands to service
 * children on fd 3.  A listen spec is "host:port", "[v6addr]:port",
 * "port" / "*:port" (every address, dual-stack when IPv6 is available)
 * or an absolute unix socket path. */
#ifndef SATCHEL_LISTENER_H
#define SATCHEL_LISTENER_H
#include <stddef.h>

/* Syntax check only (no name lookups, no binding): 0 or -1 with a reason. */
int listener_check(const char *spec, char *why, size_t whylen);
/* Bind and listen; the socket is non-blocking (children poll, then accept,
 * and several may race for one connection) and close-on-exec.  Returns the
 * fd, or -1 with a reason.  A stale unix socket file is replaced; the new
 * one is mode 0777 so that an MTA running as another user can connect. */
int listener_open(const char *spec, char *why, size_t whylen);
/* The bound address as text ("127.0.0.1:1143", "[::]:143", "/run/lmtp"). */
void listener_describe(int fd, const char *spec, char *buf, size_t len);
/* Close, and remove the socket file for unix listeners. */
void listener_close(int fd, const char *spec);
#endif
