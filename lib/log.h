/* One line per event: "service[pid] session=... user=... mailbox=...: text".
 * Destination (syslog, stderr or a file) comes from the "logging" option. */
#ifndef SATCHEL_LOG_H
#define SATCHEL_LOG_H
#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_NOTICE, LOG_LVL_WARNING, LOG_LVL_ERROR };

/* Call after config_load; may be called again after a reload. */
void log_init(const char *service);
/* Context printed on every following line; NULL clears a field. */
void log_set_session(const char *session_id);
void log_set_user(const char *user);
void log_set_mailbox(const char *mailbox);
/* A fresh random session id (12 chars) into buf (>= 13 bytes). */
void log_new_session_id(char *buf);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#endif
