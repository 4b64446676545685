/* satchel.conf: "key: value" lines, '#' comments. Every option is declared
 * once in config_options.def; lookups are by the generated enum. */
#ifndef SATCHEL_CONFIG_H
#define SATCHEL_CONFIG_H
#include <stdio.h>

enum config_opt {
#define OPT(id, key, type, def, desc, vals) CONF_##id,
#include "config_options.def"
#undef OPT
    CONF__COUNT
};

#define CONFIG_ERR_MAX 512
#define CONFIG_MAX_PARTITIONS 32
#define CONFIG_DEFAULT_PATH SYSCONFDIR "/satchel.conf"

/* Load and validate a config file, replacing the current one only on
 * success.  On failure writes "file:line: reason" into err and returns -1. */
int config_load(const char *path, char *err, size_t errlen);
/* Load built-in defaults only (for unit tests and tools run without a file). */
void config_load_defaults(void);
/* Set one option from a string as if read from a file (tests, -o overrides). */
int config_set(const char *key, const char *value, char *err, size_t errlen);

const char *config_path(void);            /* file loaded, or "" */
const char *config_string(enum config_opt opt);
long long config_int(enum config_opt opt);   /* INT, SIZE (bytes), DURATION (seconds) */
int config_bool(enum config_opt opt);

/* Partitions: name -> directory. NULL when the partition is not defined. */
const char *config_partition(const char *name);
int config_partition_count(void);
const char *config_partition_name(int i);

/* Is this user named in "admins"? */
int config_is_admin(const char *user);

/* Path of the master service table (master_conf or beside satchel.conf). */
const char *config_master_conf(void);
/* configdirectory/<leaf> into buf. */
const char *config_dir_path(const char *leaf, char *buf, size_t len);

/* Print effective values (satchelctl config dump). */
void config_dump(FILE *out);
/* Print the option table (for man page checks / help). */
void config_describe(FILE *out);
#endif
