/* satchelctl: the administration command.  Loads the config named by -C,
 * then runs one subcommand directly on the store (no server needed). */
#include "ctl.h"
#include "auth.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include "log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keep in step with man/satchelctl.8 (tests/integration/test_docs.py checks). */
static const char usage_text[] =
    "usage: satchelctl [-C FILE] COMMAND [ARGS]\n"
    "\n"
    "Users:\n"
    "  user add USER [PASSWORD]\n"
    "  user del USER\n"
    "  user passwd USER [PASSWORD]\n"
    "  user list\n"
    "Mailboxes:\n"
    "  mailbox create NAME [--partition PART] [--special-use USE]\n"
    "  mailbox delete NAME\n"
    "  mailbox rename OLD NEW\n"
    "  mailbox list [PREFIX]\n"
    "  mailbox status NAME\n"
    "  mailbox move NAME PARTITION\n"
    "  mailbox setacl NAME IDENTIFIER RIGHTS|none\n"
    "  mailbox getacl NAME\n"
    "Quota:\n"
    "  quota set ROOT [--storage SIZE|none] [--messages N|none]\n"
    "  quota show ROOT\n"
    "Messages:\n"
    "  append MAILBOX FILE [--flags FLAGS]\n"
    "  fetch MAILBOX UID\n"
    "Configuration:\n"
    "  config check\n"
    "  config dump\n"
    "  config describe\n"
    "Store maintenance:\n"
    "  verify [DIR] [--remove-orphans [--min-age DURATION]]\n"
    "  recover\n"
    "  checkpoint\n"
    "  expire [--age DURATION] [--duplicate-age DURATION] [--batch N] [--verbose]\n"
    "  replog\n"
    "  stats\n"
    "  help\n"
    "\n"
    "PASSWORD, when not given, is read as one line from standard input.\n"
    "A mailbox NAME is an internal name (user/alice/Sent) or USER:FOLDER (alice:Sent).\n"
    "Exit status: 0 success, 1 operation failed, 64 usage error, 75 configuration error,\n"
    "128+N stopped by signal N after the command finished (see SIGNALS in satchelctl(8)).\n";

void ctl_print_usage(void)
{
    fputs(usage_text, stdout);
}

static const struct ctl_sub commands[] = {
    { "user", cmd_user },
    { "mailbox", cmd_mailbox },
    { "quota", cmd_quota },
    { "config", cmd_config },
    { "verify", cmd_verify },
    { "recover", cmd_recover },
    { "checkpoint", cmd_checkpoint },
    { "expire", cmd_expire },
    { "replog", cmd_replog },
    { "stats", cmd_stats },
    { "append", cmd_append },
    { "fetch", cmd_fetch },
};

static int is_help(const char *a)
{
    return !strcmp(a, "help") || !strcmp(a, "--help") || !strcmp(a, "-h");
}

int main(int argc, char **argv)
{
    const char *conf = CONFIG_DEFAULT_PATH;
    /* master appends "-C satchel.conf" to every command it runs (EVENTS). */
    if (argc >= 4 && !strcmp(argv[argc - 2], "-C")) {
        conf = argv[argc - 1];
        argc -= 2;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (is_help(argv[i])) { ctl_print_usage(); return CTL_OK; }
        if (!strcmp(argv[i], "-C")) {
            if (++i == argc) return ctl_usage("-C needs a file name");
            conf = argv[i];
        } else if (!strncmp(argv[i], "-C", 2)) {
            conf = argv[i] + 2;
        } else {
            return ctl_usage("unknown option '%s'", argv[i]);
        }
    }
    if (i == argc) return ctl_usage("no command given");
    if (is_help(argv[i])) { ctl_print_usage(); return CTL_OK; }
    for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++) {
        if (strcmp(argv[i], commands[c].name)) continue;
        char err[CONFIG_ERR_MAX];
        if (config_load(conf, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            return CTL_CONFIG;
        }
        log_init("satchelctl");
        ctl_interrupt_setup();
        int rc = commands[c].fn(argc - i, argv + i);
        ctl_store_close();
        auth_done();
        int sig = ctl_interrupted();
        if (sig) {
            fprintf(stderr, "satchelctl: stopped by %s after the store was closed\n", strsignal(sig));
            return 128 + sig;
        }
        return rc;
    }
    return ctl_usage("unknown command '%s'", argv[i]);
}
