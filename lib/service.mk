# The child side of master's service protocol (lib/service.h).
libsatchel_a_SOURCES += lib/service.c lib/service.h
