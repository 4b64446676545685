# imapd: the IMAP server.  imapd/libimapd.a holds the command tokenizer,
# mailbox-name mapping and rights so that unit tests and the fuzzer can link
# them without the session code; the
# leaf modules (sequence sets, FETCH, SEARCH, SORT, THREAD, modified UTF-7,
# msgview) are in libimapleaf.a (imapd/leaf.mk).
noinst_LIBRARIES += imapd/libimapd.a
imapd_libimapd_a_SOURCES = imapd/parse.c imapd/parse.h \
	imapd/mbname.c imapd/acl.c imapd/session.h

libexec_PROGRAMS += imapd/imapd
imapd_imapd_SOURCES = \
	imapd/imapd.c imapd/commands.h imapd/cmd_auth.c
imapd_imapd_LDADD = imapd/libimapsession.a imapd/libimapd.a libimapleaf.a $(SATCHEL_LIBS)
# imapd-session: what a logged-in session needs and nothing more; no
# OpenSSL, libsasl2 or PCRE2 (imapd/handoff.c says why).
libexec_PROGRAMS += imapd/imapd-session
imapd_imapd_session_SOURCES = imapd/session_main.c
imapd_imapd_session_LDADD = imapd/libimapsession.a imapd/libimapd.a libimapleaf.a libsatchel.a $(SATCHEL_SESSION_LIBS)
# The command loop and every command after login, shared by both.
noinst_LIBRARIES += imapd/libimapsession.a
imapd_libimapsession_a_SOURCES = \
	imapd/loop.c imapd/handoff.c imapd/registry.c \
	imapd/session.c imapd/session.h imapd/list.h \
	imapd/cmd_util.c imapd/cmd_misc.c imapd/cmd_select.c \
	imapd/cmd_mailbox.c imapd/cmd_list.c imapd/cmd_store.c imapd/cmd_append.c \
	imapd/cmd_idle.c imapd/cmd_fetch.c imapd/cmd_search.c imapd/cmd_acl.c imapd/cmd_quota.c
