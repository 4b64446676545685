libsatchel_a_SOURCES += lib/store.h
