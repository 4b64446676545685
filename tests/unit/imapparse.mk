# Unit tests for the imapd command reader and tokenizer.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_imap_parse
TESTS += tests/unit/test_imap_parse
tests_unit_test_imap_parse_SOURCES = tests/unit/test_imap_parse.c
tests_unit_test_imap_parse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/imapd
tests_unit_test_imap_parse_LDADD = imapd/libimapd.a $(SATCHEL_LIBS) -lcmocka
endif
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_imap_names
TESTS += tests/unit/test_imap_names
tests_unit_test_imap_names_SOURCES = tests/unit/test_imap_names.c
tests_unit_test_imap_names_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/imapd
tests_unit_test_imap_names_LDADD = imapd/libimapd.a libimapleaf.a $(SATCHEL_LIBS) -lcmocka
endif
