if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_prot
TESTS += tests/unit/test_prot
tests_unit_test_prot_SOURCES = tests/unit/test_prot.c
tests_unit_test_prot_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
