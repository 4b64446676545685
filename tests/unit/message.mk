# MIME parser / message cache tests; the corpus and Dovecot's answers live
# in tests/corpus (see tests/corpus/regenerate-expected.py).
EXTRA_DIST += tests/corpus
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_message
TESTS += tests/unit/test_message
tests_unit_test_message_SOURCES = tests/unit/test_message.c
tests_unit_test_message_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_top_srcdir)/tests/corpus"'
tests_unit_test_message_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
