# satchelctl: the administration command.
sbin_PROGRAMS += ctl/satchelctl
ctl_satchelctl_SOURCES = ctl/satchelctl.c ctl/ctl.h ctl/util.c ctl/interrupt.c \
	ctl/cmd_user.c ctl/cmd_mailbox.c ctl/cmd_quota.c ctl/cmd_config.c \
	ctl/cmd_maint.c ctl/cmd_message.c
ctl_satchelctl_LDADD = $(SATCHEL_LIBS)
