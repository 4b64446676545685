/* Unit tests for lib/config.c: parsing, types, defaults, partitions and the
 * "file:line: reason" errors that satchelctl config check prints. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../lib/config.h"  /* not the autoconf config.h in the build dir */

static char tmpdir[] = "/tmp/satchel-test-config-XXXXXX";
static char path[4096];
static char err[CONFIG_ERR_MAX];

static int setup_dir(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(tmpdir);
}

/* Write text to tmpdir/satchel.conf and load it; returns config_load's result. */
static int load_text(const char *text)
{
    snprintf(path, sizeof path, "%s/satchel.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    err[0] = '\0';
    return config_load(path, err, sizeof err);
}

/* err must be "<path>:<line>: " followed by text containing want. */
static void assert_error_at(int line, const char *want)
{
    char prefix[4200];
    snprintf(prefix, sizeof prefix, "%s:%d: ", path, line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err + strlen(prefix), want))
        fail_msg("error \"%s\" does not start with \"%s\" and contain \"%s\"", err, prefix, want);
}

static void test_good_file(void **state)
{
    (void)state;
    assert_int_equal(load_text("configdirectory: /srv/satchel/conf\n"
                               "partition-default: /srv/satchel/spool\n"
                               "logging: stderr\n"
                               "loglevel: debug\n"
                               "durable_commits: no\n"
                               "admins: admin root\n"
                               "servername: mail.example.com\n"
                               "lock_timeout: 5s\n"
                               "quota_default_storage: 100M\n"
                               "imap_max_nesting: 10\n"), 0);
    assert_string_equal(config_path(), path);
    assert_string_equal(config_string(CONF_CONFIGDIRECTORY), "/srv/satchel/conf");
    assert_string_equal(config_partition("default"), "/srv/satchel/spool");
    assert_string_equal(config_string(CONF_LOGGING), "stderr");
    assert_string_equal(config_string(CONF_LOGLEVEL), "debug");
    assert_false(config_bool(CONF_DURABLE_COMMITS));
    assert_true(config_is_admin("admin"));
    assert_true(config_is_admin("root"));
    assert_false(config_is_admin("adm"));
    assert_false(config_is_admin("alice"));
    assert_string_equal(config_string(CONF_SERVERNAME), "mail.example.com");
    assert_int_equal(config_int(CONF_LOCK_TIMEOUT), 5);
    assert_int_equal(config_int(CONF_QUOTA_DEFAULT_STORAGE), 100LL * 1024 * 1024);
    assert_int_equal(config_int(CONF_IMAP_MAX_NESTING), 10);
    char buf[4200];
    assert_string_equal(config_dir_path("sasldb2", buf, sizeof buf), "/srv/satchel/conf/sasldb2");
    /* master.conf lives beside satchel.conf unless master_conf says otherwise */
    snprintf(buf, sizeof buf, "%s/master.conf", tmpdir);
    assert_string_equal(config_master_conf(), buf);
}

static void test_defaults(void **state)
{
    (void)state;
    config_load_defaults();
    assert_string_equal(config_path(), "");
    assert_string_equal(config_string(CONF_CONFIGDIRECTORY), "/var/lib/satchel");
    assert_string_equal(config_string(CONF_DEFAULTPARTITION), "default");
    assert_string_equal(config_partition("default"), "/var/spool/satchel");
    assert_int_equal(config_partition_count(), 1);
    assert_true(config_bool(CONF_DURABLE_COMMITS));
    assert_int_equal(config_int(CONF_LOCK_TIMEOUT), 20);
    assert_int_equal(config_int(CONF_DB_CACHE_SIZE), 64LL * 1024 * 1024);
    assert_int_equal(config_int(CONF_TOMBSTONE_EXPIRE), 30LL * 86400);
    assert_int_equal(config_int(CONF_LMTP_MAX_LINE), 8192);
    assert_string_equal(config_string(CONF_SASL_PWCHECK_METHOD), "auxprop");
    assert_string_equal(config_string(CONF_ADMINS), "");
    assert_false(config_is_admin("admin"));
    /* an empty file gives the same defaults, with the file's path */
    assert_int_equal(load_text(""), 0);
    assert_string_equal(config_path(), path);
    assert_int_equal(config_int(CONF_MASTER_MAX_USES), 250);
    assert_string_equal(config_string(CONF_TLS_MIN_VERSION), "TLSv1.2");
}

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(load_text("admins: a, b\n"                   /* STRING */
                               "imap_max_connections_per_user: 0\n" /* INT */
                               "allow_plaintext: yes\n"            /* BOOL */
                               "virtual_domains: TRUE\n"
                               "lowercase_users: off\n"
                               "duplicate_suppression: 0\n"
                               "lmtp_require_auth: 1\n"
                               "imap_max_line: 128K\n"             /* SIZE */
                               "imap_idle_timeout: 2h\n"           /* DURATION */
                               "syslog_facility: LOCAL3\n"         /* ENUM, any case */
                               "tls_min_version: TLSv1.3\n"
                               "sasl_mech_list: PLAIN SCRAM-SHA-256\n"), 0);
    assert_string_equal(config_string(CONF_ADMINS), "a, b");
    assert_true(config_is_admin("a"));
    assert_true(config_is_admin("b"));
    assert_int_equal(config_int(CONF_IMAP_MAX_CONNECTIONS_PER_USER), 0);
    assert_true(config_bool(CONF_ALLOW_PLAINTEXT));
    assert_true(config_bool(CONF_VIRTUAL_DOMAINS));
    assert_false(config_bool(CONF_LOWERCASE_USERS));
    assert_false(config_bool(CONF_DUPLICATE_SUPPRESSION));
    assert_true(config_bool(CONF_LMTP_REQUIRE_AUTH));
    assert_int_equal(config_int(CONF_IMAP_MAX_LINE), 128 * 1024);
    assert_int_equal(config_int(CONF_IMAP_IDLE_TIMEOUT), 7200);
    assert_string_equal(config_string(CONF_SYSLOG_FACILITY), "LOCAL3");
    assert_string_equal(config_string(CONF_TLS_MIN_VERSION), "TLSv1.3");
    assert_string_equal(config_string(CONF_SASL_MECH_LIST), "PLAIN SCRAM-SHA-256");
}

static void test_suffixes(void **state)
{
    (void)state;
    static const struct { const char *text; enum config_opt opt; long long want; } ok[] = {
        { "db_cache_size: 1024\n", CONF_DB_CACHE_SIZE, 1024 },
        { "db_cache_size: 10b\n", CONF_DB_CACHE_SIZE, 10 },
        { "db_cache_size: 512K\n", CONF_DB_CACHE_SIZE, 512 * 1024 },
        { "db_cache_size: 512k\n", CONF_DB_CACHE_SIZE, 512 * 1024 },
        { "db_cache_size: 2KB\n", CONF_DB_CACHE_SIZE, 2048 },
        { "db_cache_size: 50M\n", CONF_DB_CACHE_SIZE, 50LL * 1024 * 1024 },
        { "db_cache_size: 3G\n", CONF_DB_CACHE_SIZE, 3LL * 1024 * 1024 * 1024 },
        { "lock_timeout: 45\n", CONF_LOCK_TIMEOUT, 45 },
        { "lock_timeout: 30s\n", CONF_LOCK_TIMEOUT, 30 },
        { "lock_timeout: 5m\n", CONF_LOCK_TIMEOUT, 300 },
        { "lock_timeout: 2h\n", CONF_LOCK_TIMEOUT, 7200 },
        { "lock_timeout: 3d\n", CONF_LOCK_TIMEOUT, 3 * 86400 },
        { "lock_timeout: 0s\n", CONF_LOCK_TIMEOUT, 0 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (load_text(ok[i].text) != 0) fail_msg("%s rejected: %s", ok[i].text, err);
        assert_int_equal(config_int(ok[i].opt), ok[i].want);
    }
    static const char *bad[] = {
        "db_cache_size: 5x\n", "db_cache_size: -1\n", "db_cache_size: M\n", "db_cache_size: 5MX\n",
        "db_cache_size: 99999999999999999999\n", "db_cache_size: 9999999999999G\n",
        "lock_timeout: 5w\n", "lock_timeout: 5ms\n", "lock_timeout: soon\n", "lock_timeout: \n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (load_text(bad[i]) == 0) fail_msg("%s accepted", bad[i]);
        assert_error_at(1, strstr(bad[i], "lock") ? "is not a duration" : "is not a size");
    }
}

static void test_unknown_key(void **state)
{
    (void)state;
    assert_int_equal(load_text("# a comment\nconfigdirectory: /tmp/x\nno_such_option: 1\n"), -1);
    assert_error_at(3, "unknown option 'no_such_option'");
    /* option names are case-sensitive, as documented */
    assert_int_equal(load_text("ConfigDirectory: /tmp/x\n"), -1);
    assert_error_at(1, "unknown option 'ConfigDirectory'");
}

static void test_bad_values(void **state)
{
    (void)state;
    static const struct { const char *text; int line; const char *why; } cases[] = {
        { "\n\nimap_max_nesting: ten\n", 3, "imap_max_nesting: 'ten' is not a non-negative whole number" },
        { "imap_max_nesting: -3\n", 1, "is not a non-negative whole number" },
        { "imap_max_nesting: 3.5\n", 1, "is not a non-negative whole number" },
        { "durable_commits: maybe\n", 1, "durable_commits: 'maybe' is not yes or no" },
        { "loglevel: verbose\n", 1, "loglevel: 'verbose' is not one of debug|info|notice|warning|error" },
        { "sasl_pwcheck_method: pam\n", 1, "is not one of auxprop|saslauthd" },
        { "logging: relative/file.log\n", 1, "logging: 'relative/file.log' is not syslog, stderr or an absolute path" },
        { "loglevel: info\nconfigdirectory: var/lib\n", 2, "configdirectory: 'var/lib' is not an absolute path" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (load_text(cases[i].text) == 0) fail_msg("%s accepted", cases[i].text);
        assert_error_at(cases[i].line, cases[i].why);
    }
}

static void test_partitions(void **state)
{
    (void)state;
    assert_int_equal(load_text("partition-default: /srv/a\n"
                               "partition-fast_ssd: /srv/b\n"
                               "partition-archive-2: /srv/c\n"
                               "defaultpartition: fast_ssd\n"), 0);
    assert_int_equal(config_partition_count(), 3);
    assert_string_equal(config_partition("default"), "/srv/a");
    assert_string_equal(config_partition("fast_ssd"), "/srv/b");
    assert_string_equal(config_partition("archive-2"), "/srv/c");
    assert_null(config_partition("slow"));
    assert_string_equal(config_partition_name(1), "fast_ssd");
    assert_null(config_partition_name(3));
    assert_null(config_partition_name(-1));
    assert_string_equal(config_string(CONF_DEFAULTPARTITION), "fast_ssd");
    /* a repeated partition replaces the path, it does not add one */
    assert_int_equal(load_text("partition-default: /srv/a\npartition-default: /srv/z\n"), 0);
    assert_int_equal(config_partition_count(), 1);
    assert_string_equal(config_partition("default"), "/srv/z");
    /* without any partition the built-in default partition exists */
    assert_int_equal(load_text("loglevel: info\n"), 0);
    assert_string_equal(config_partition("default"), "/var/spool/satchel");

    assert_int_equal(load_text("partition-default: /a\npartition-: /srv\n"), -1);
    assert_error_at(2, "partition name missing");
    assert_int_equal(load_text("partition-a/b: /srv\n"), -1);
    assert_error_at(1, "may only hold letters, digits");
    assert_int_equal(load_text("partition-default: spool\n"), -1);
    assert_error_at(1, "partition-default: 'spool' is not an absolute path");
}

static void test_too_many_partitions(void **state)
{
    (void)state;
    char text[8192] = "";
    size_t n = 0;
    for (int i = 0; i <= CONFIG_MAX_PARTITIONS; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "partition-p%d: /srv/p%d\n", i, i);
    assert_int_equal(load_text(text), -1);
    assert_error_at(CONFIG_MAX_PARTITIONS + 1, "too many partitions");
}

static void test_defaultpartition_missing(void **state)
{
    (void)state;
    assert_int_equal(load_text("partition-fast: /srv/fast\n"), -1);
    /* not set in the file: no line to name */
    char want[4200];
    snprintf(want, sizeof want, "%s: defaultpartition: partition 'default' is not defined", path);
    assert_non_null(strstr(err, want));
    assert_int_equal(load_text("partition-default: /srv/a\n# x\ndefaultpartition: fast\n"), -1);
    assert_error_at(3, "defaultpartition: partition 'fast' is not defined (add partition-fast: /path)");
}

static void test_comments_and_spacing(void **state)
{
    (void)state;
    assert_int_equal(load_text("# full-line comment\n"
                               "\n"
                               "   \t\n"
                               "  servername  :   mail.example.org   # trailing comment\n"
                               "admins:root\n"
                               "loglevel: warning\r\n"
                               "tls_ciphers: ECDHE+AESGCM:!aNULL\n"
                               "   # indented comment\n"), 0);
    assert_string_equal(config_string(CONF_SERVERNAME), "mail.example.org");
    assert_string_equal(config_string(CONF_ADMINS), "root");
    assert_string_equal(config_string(CONF_LOGLEVEL), "warning");
    /* only the first colon separates key from value */
    assert_string_equal(config_string(CONF_TLS_CIPHERS), "ECDHE+AESGCM:!aNULL");
    /* an empty value is an empty string */
    assert_int_equal(load_text("servername:\n"), 0);
    assert_string_equal(config_string(CONF_SERVERNAME), "");
}

static void test_missing_colon(void **state)
{
    (void)state;
    assert_int_equal(load_text("loglevel: info\nservername mail.example.com\n"), -1);
    assert_error_at(2, "expected 'key: value', got 'servername mail.example.com'");
    assert_int_equal(load_text(": value\n"), -1);
    assert_error_at(1, "missing option name before ':'");
}

static void test_failed_load_keeps_previous(void **state)
{
    (void)state;
    assert_int_equal(load_text("servername: first.example\n"), 0);
    char good[4096];
    snprintf(good, sizeof good, "%s", path);
    assert_int_equal(load_text("servername: second.example\nbogus: 1\n"), -1);
    assert_string_equal(config_string(CONF_SERVERNAME), "first.example");
    assert_string_equal(config_path(), good);
    /* a file that cannot be opened is reported with its name */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/does-not-exist.conf", tmpdir);
    assert_int_equal(config_load(missing, err, sizeof err), -1);
    assert_non_null(strstr(err, missing));
    assert_non_null(strstr(err, "cannot open"));
    assert_string_equal(config_string(CONF_SERVERNAME), "first.example");
}

static void test_config_set(void **state)
{
    (void)state;
    assert_int_equal(load_text("partition-default: /srv/a\n"), 0);
    assert_int_equal(config_set("lock_timeout", "2m", err, sizeof err), 0);
    assert_int_equal(config_int(CONF_LOCK_TIMEOUT), 120);
    assert_int_equal(config_set("partition-fast", "/srv/fast", err, sizeof err), 0);
    assert_string_equal(config_partition("fast"), "/srv/fast");
    assert_int_equal(config_set("defaultpartition", "fast", err, sizeof err), 0);
    assert_int_equal(config_set("lock_timeout", "later", err, sizeof err), -1);
    assert_non_null(strstr(err, "is not a duration"));
    assert_int_equal(config_int(CONF_LOCK_TIMEOUT), 120);
    assert_int_equal(config_set("nope", "1", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown option 'nope'"));
    /* a value rejected by the whole-file checks must not stay in force */
    assert_int_equal(config_set("defaultpartition", "missing", err, sizeof err), -1);
    assert_non_null(strstr(err, "partition 'missing' is not defined"));
    assert_string_equal(config_string(CONF_DEFAULTPARTITION), "fast");
    assert_int_equal(config_set("configdirectory", "relative", err, sizeof err), -1);
    assert_string_equal(config_string(CONF_CONFIGDIRECTORY), "/var/lib/satchel");
}

static void test_master_conf(void **state)
{
    (void)state;
    assert_int_equal(load_text("master_conf: /etc/other/master.conf\n"), 0);
    assert_string_equal(config_master_conf(), "/etc/other/master.conf");
}

/* Run fn into a memory stream and return the text (caller frees). */
static char *capture(void (*fn)(FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fn(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

static void test_dump_and_describe(void **state)
{
    (void)state;
    assert_int_equal(load_text("partition-default: /srv/a\npartition-fast: /srv/f\nlock_timeout: 7s\n"), 0);
    char *dump = capture(config_dump);
    assert_non_null(strstr(dump, "lock_timeout: 7s\n"));
    assert_non_null(strstr(dump, "configdirectory: /var/lib/satchel\n"));
    assert_non_null(strstr(dump, "partition-default: /srv/a\n"));
    assert_non_null(strstr(dump, "partition-fast: /srv/f\n"));
    char *desc = capture(config_describe);
    static const char *keys[] = {
#define OPT(id, key, type, def, d, vals) key,
#include "config_options.def"
#undef OPT
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char line[256];
        snprintf(line, sizeof line, "%s: ", keys[i]);
        if (!strstr(dump, line)) fail_msg("config_dump lacks %s", keys[i]);
        snprintf(line, sizeof line, "\n%s (", keys[i]);
        if (!strstr(desc, line) && strncmp(desc, line + 1, strlen(line + 1))) fail_msg("config_describe lacks %s", keys[i]);
    }
    assert_non_null(strstr(desc, "loglevel (enum: debug|info|notice|warning|error, default \"info\")"));
    free(dump);
    free(desc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_partitions),
        cmocka_unit_test(test_too_many_partitions),
        cmocka_unit_test(test_defaultpartition_missing),
        cmocka_unit_test(test_comments_and_spacing),
        cmocka_unit_test(test_missing_colon),
        cmocka_unit_test(test_failed_load_keeps_previous),
        cmocka_unit_test(test_config_set),
        cmocka_unit_test(test_master_conf),
        cmocka_unit_test(test_dump_and_describe),
    };
    return cmocka_run_group_tests_name("config", tests, setup_dir, teardown_dir);
}
