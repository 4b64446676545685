# Mail store tests: unit tests, a multi-process stress run, a crash/recovery run.
EXTRA_DIST += tests/unit/test_store_util.h
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/test_store_util.h
tests_unit_test_store_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
