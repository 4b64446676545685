/* satchelctl config check|dump|describe.  main() has already loaded (and so
 * validated) the file: a bad one never gets here, it exits 75 with
 * "file:line: reason". */
#include "ctl.h"
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */
#include <stdio.h>

static int config_check(int argc, char **argv)
{
    return ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
}

static int config_dump_cmd(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    config_dump(stdout);
    return CTL_OK;
}

static int config_describe_cmd(int argc, char **argv)
{
    int rc = ctl_args(argc, argv, NULL, NULL, 0, 0, NULL);
    if (rc) return rc;
    config_describe(stdout);
    printf("partition-NAME (path): directory of the partition NAME; partition-default is used when none is defined.\n");
    return CTL_OK;
}

int cmd_config(int argc, char **argv)
{
    static const struct ctl_sub subs[] = {
        { "check", config_check }, { "dump", config_dump_cmd }, { "describe", config_describe_cmd }, { NULL, NULL },
    };
    return ctl_dispatch("config", subs, argc, argv);
}
