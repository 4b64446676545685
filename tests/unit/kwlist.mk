# Space-separated keyword lists (lib/kwlist.c).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_kwlist
TESTS += tests/unit/test_kwlist
tests_unit_test_kwlist_SOURCES = tests/unit/test_kwlist.c
tests_unit_test_kwlist_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
