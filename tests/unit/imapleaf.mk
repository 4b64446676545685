if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_imap_leaf tests/unit/test_imap_leaf_fetch
TESTS += tests/unit/test_imap_leaf tests/unit/test_imap_leaf_fetch
tests_unit_test_imap_leaf_SOURCES = tests/unit/test_imap_leaf.c
tests_unit_test_imap_leaf_LDADD = libimapleaf.a $(SATCHEL_LIBS) -lcmocka
tests_unit_test_imap_leaf_fetch_SOURCES = tests/unit/test_imap_leaf_fetch.c
tests_unit_test_imap_leaf_fetch_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_top_srcdir)/tests/corpus"'
tests_unit_test_imap_leaf_fetch_LDADD = libimapleaf.a $(SATCHEL_LIBS) -lcmocka
endif
