# master: the process supervisor (see master/master.c), and a tiny echo
# service used by tests/integration/test_master.py to exercise it.
sbin_PROGRAMS += master/master
master_master_SOURCES = \
	master/master.c master/master.h \
	master/mconf.c master/mconf.h \
	master/listener.c master/listener.h \
	master/spawn.c master/services.c master/jobs.c master/failchk.c
master_master_LDADD = $(SATCHEL_LIBS)

noinst_PROGRAMS += master/test-echod
master_test_echod_SOURCES = tests/unit/echo_service.c
master_test_echod_LDADD = $(SATCHEL_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_mconf
TESTS += tests/unit/test_mconf
tests_unit_test_mconf_SOURCES = tests/unit/test_mconf.c master/mconf.c master/listener.c
tests_unit_test_mconf_LDADD = $(SATCHEL_LIBS) -lcmocka
endif
