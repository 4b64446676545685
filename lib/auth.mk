# SASL glue: authentication sessions and sasldb user management.
libsatchel_a_SOURCES += lib/auth.c lib/auth.h
