/* Unit tests for imapd's namespaces (client name <-> store name, modified
 * UTF-7 / UTF-8 decoding) and RFC 4314 rights (imapd/mbname.c, acl.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "session.h"

static struct session sess(const char *user)
{
    struct session s;
    memset(&s, 0, sizeof s);
    strcpy(s.userid, user);
    strcpy(s.authid, user);
    return s;
}

static void expect_internal(const struct session *s, const char *ext, const char *want)
{
    char out[STORE_MAX_NAME];
    if (!want) {
        assert_int_equal(mbname_to_internal(s, ext, out, sizeof out), -1);
        return;
    }
    assert_int_equal(mbname_to_internal(s, ext, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void expect_external(const struct session *s, const char *internal, const char *want)
{
    char out[STORE_MAX_NAME + 64];
    if (!want) {
        assert_int_equal(mbname_to_external(s, internal, out, sizeof out), -1);
        return;
    }
    assert_int_equal(mbname_to_external(s, internal, out, sizeof out), 0);
    assert_string_equal(out, want);
}

static void test_namespaces(void **state)
{
    (void)state;
    struct session s = sess("alice");
    expect_internal(&s, "INBOX", "user/alice");
    expect_internal(&s, "inbox", "user/alice");
    expect_internal(&s, "Inbox/Sub", "user/alice/INBOX/Sub");
    expect_internal(&s, "Work/2026", "user/alice/Work/2026");
    expect_internal(&s, "INBOXES", "user/alice/INBOXES");
    expect_internal(&s, "Other Users/bob", "user/bob");
    expect_internal(&s, "Other Users/bob/Team", "user/bob/Team");
    expect_internal(&s, "Shared Folders/news", "shared/news");
    expect_internal(&s, "Other Users", NULL);
    expect_internal(&s, "Shared Folders", NULL);
    expect_internal(&s, "", NULL);
    expect_internal(&s, "/x", NULL);
    expect_internal(&s, "x/", NULL);
    expect_internal(&s, "a//b", NULL);
    expect_internal(&s, "a*b", NULL);
    expect_internal(&s, "a%b", NULL);
    expect_internal(&s, "a\tb", NULL);
    expect_external(&s, "user/alice", "INBOX");
    expect_external(&s, "user/alice/Work", "Work");
    expect_external(&s, "user/alice/INBOX/Sub", "INBOX/Sub");
    expect_external(&s, "user/alice2/x", "Other Users/alice2/x");
    expect_external(&s, "user/bob", "Other Users/bob");
    expect_external(&s, "shared/news/today", "Shared Folders/news/today");
    expect_external(&s, "shared", NULL);
    expect_external(&s, "elsewhere/x", NULL);
}

static void test_decode(void **state)
{
    (void)state;
    struct session s = sess("alice");
    struct buf out = BUF_INIT;
    assert_int_equal(mbname_decode(&s, "Entw&APw-rfe", 12, &out), 0);
    assert_string_equal(out.s, "Entw\xc3\xbc" "rfe");
    assert_int_equal(mbname_decode(&s, "a&-b", 4, &out), 0);
    assert_string_equal(out.s, "a&b");
    assert_int_equal(mbname_decode(&s, "bad&Jjo", 7, &out), -1);
    assert_int_equal(mbname_decode(&s, "8bit\xc3\xbc", 6, &out), -1);
    s.enabled = EN_UTF8;
    assert_int_equal(mbname_decode(&s, "8bit\xc3\xbc", 6, &out), 0);
    assert_string_equal(out.s, "8bit\xc3\xbc");
    assert_int_equal(mbname_decode(&s, "a&b", 3, &out), 0);       /* '&' is just '&' in UTF-8 mode */
    assert_string_equal(out.s, "a&b");
    assert_int_equal(mbname_decode(&s, "bad\xc3", 4, &out), -1);
    assert_int_equal(mbname_decode(&s, "over\xc0\xaf", 6, &out), -1);
    assert_int_equal(mbname_decode(&s, "sur\xed\xa0\x80", 6, &out), -1);
    assert_int_equal(mbname_decode(&s, "long\xe0\x80\xaf", 7, &out), -1);
    assert_int_equal(mbname_decode(&s, "big\xf4\x90\x80\x80", 7, &out), -1);
    assert_int_equal(mbname_decode(&s, "ok\xf0\x9f\x98\x80", 6, &out), 0);
    buf_free(&out);
}

static void test_rights(void **state)
{
    (void)state;
    struct session alice = sess("alice"), bob = sess("bob"), carol = sess("carol"), admin = sess("admin");
    admin.is_admin = 1;
    struct mailbox_info mb;
    memset(&mb, 0, sizeof mb);
    strcpy(mb.name, "user/bob/Team");
    strcpy(mb.acl, "alice\tlrs\tanyone\tl\tcarol\twi");
    char r[32];
    acl_myrights(&bob, &mb, r);
    assert_string_equal(r, ACL_ALL);         /* the owner */
    acl_myrights(&alice, &mb, r);
    assert_string_equal(r, "lrs");
    acl_myrights(&carol, &mb, r);
    assert_string_equal(r, "lwi");           /* own entry + anyone, canonical order */
    acl_myrights(&admin, &mb, r);
    assert_string_equal(r, ACL_ALL);
    struct session dave = sess("dave");
    assert_true(acl_has(&dave, &mb, 'l'));
    assert_false(acl_has(&dave, &mb, 'r'));
    strcpy(mb.name, "shared/news");
    strcpy(mb.acl, "");
    acl_myrights(&bob, &mb, r);
    assert_string_equal(r, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_namespaces),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_rights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
