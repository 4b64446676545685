libsatchel_a_SOURCES += lib/message.c lib/message.h
