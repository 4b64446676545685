# lmtpd: LMTP delivery (RFC 2033).
libexec_PROGRAMS += lmtpd/lmtpd
lmtpd_lmtpd_SOURCES = \
	lmtpd/main.c lmtpd/lmtpd.h \
	lmtpd/session.c \
	lmtpd/rcpt.c \
	lmtpd/deliver.c \
	lmtpd/userlimit.c lmtpd/userlimit.h \
	lmtpd/lmtp_parse.c lmtpd/lmtp_parse.h
lmtpd_lmtpd_LDADD = $(SATCHEL_LIBS)

# Unit tests of the pure parsing code (no store, no network).
if HAVE_CMOCKA
check_PROGRAMS += lmtpd/test_lmtp_parse
TESTS += lmtpd/test_lmtp_parse
lmtpd_test_lmtp_parse_SOURCES = lmtpd/test_lmtp_parse.c lmtpd/lmtp_parse.c lmtpd/lmtp_parse.h
lmtpd_test_lmtp_parse_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
