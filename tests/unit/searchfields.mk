# Search fields (per-mailbox header fields for SEARCH): message and store sides.
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_search_fields
TESTS += tests/unit/test_search_fields
tests_unit_test_search_fields_SOURCES = tests/unit/test_search_fields.c tests/unit/test_store_util.h
tests_unit_test_search_fields_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
