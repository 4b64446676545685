# Mail store tests: unit tests, a multi-process stress run, a crash/recovery run.
EXTRA_DIST += tests/unit/test_store_util.h
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/test_store_util.h
tests_unit_test_store_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
# Plain C programs (no cmocka): 4 processes for 10 s; kill -9 mid-transaction.
check_PROGRAMS += tests/unit/store_stress
TESTS += tests/unit/store_stress
tests_unit_store_stress_SOURCES = tests/unit/store_stress.c tests/unit/test_store_util.h
tests_unit_store_stress_LDADD = $(SATCHEL_LIBS)
check_PROGRAMS += tests/unit/store_crash
TESTS += tests/unit/store_crash
tests_unit_store_crash_SOURCES = tests/unit/store_crash.c tests/unit/test_store_util.h
tests_unit_store_crash_LDADD = $(SATCHEL_LIBS)
# Not a test itself: tests/integration/test_master_failchk.py runs it.
noinst_PROGRAMS += tests/unit/store_lockwait
tests_unit_store_lockwait_SOURCES = tests/unit/store_lockwait.c tests/unit/test_store_util.h
tests_unit_store_lockwait_LDADD = $(SATCHEL_LIBS)
