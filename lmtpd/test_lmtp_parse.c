/* Unit tests for lmtpd's pure parsing code (cmocka). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lmtp_parse.h"

static void test_verbs(void **state)
{
    (void)state;
    const char *args;
    assert_int_equal(lmtp_verb("LHLO example.com", &args), V_LHLO);
    assert_string_equal(args, "example.com");
    assert_int_equal(lmtp_verb("mail FROM:<a@b>", &args), V_MAIL);
    assert_string_equal(args, "FROM:<a@b>");
    assert_int_equal(lmtp_verb("DATA", &args), V_DATA);
    assert_string_equal(args, "");
    assert_int_equal(lmtp_verb("DATAX", &args), V_UNKNOWN);
    assert_int_equal(lmtp_verb("", &args), V_UNKNOWN);
    assert_int_equal(lmtp_verb("bdat 10 LAST", &args), V_BDAT);
    assert_int_equal(lmtp_verb("StartTLS", &args), V_STARTTLS);
}

static void test_mail_path(void **state)
{
    (void)state;
    struct lmtp_path p;
    assert_int_equal(lmtp_parse_path("FROM:<a@b.c>", "FROM:", 1, &p), PARSE_OK);
    assert_string_equal(p.addr, "a@b.c");
    assert_int_equal(p.size, -1);
    assert_int_equal(lmtp_parse_path("from: <> SIZE=1234 BODY=8BITMIME", "FROM:", 1, &p), PARSE_OK);
    assert_string_equal(p.addr, "");
    assert_int_equal(p.size, 1234);
    assert_int_equal(p.body8, 1);
    assert_int_equal(lmtp_parse_path("FROM:<a@b> BODY=7BIT AUTH=<>", "FROM:", 1, &p), PARSE_OK);
    assert_int_equal(lmtp_parse_path("FROM:<@r1,@r2:u@d>", "FROM:", 1, &p), PARSE_OK);
    assert_string_equal(p.addr, "u@d");
    assert_int_equal(lmtp_parse_path("FROM:<\"a>b\"@d>", "FROM:", 1, &p), PARSE_OK);
    assert_string_equal(p.addr, "\"a>b\"@d");
    assert_int_equal(lmtp_parse_path("FROM:a@b", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("FROM:<a@b", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("TO:<a@b>", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("FROM:<a@b>x", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("FROM:<a@b> SIZE=12x", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("FROM:<a@b> SIZE=", "FROM:", 1, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("FROM:<a@b> FOO=bar", "FROM:", 1, &p), PARSE_BADPARAM);
    assert_int_equal(lmtp_parse_path("FROM:<a@b> BODY=BINARYMIME", "FROM:", 1, &p), PARSE_BADPARAM);
    char big[1200];
    memset(big, 'x', sizeof big);
    memcpy(big, "FROM:<", 6);
    big[sizeof big - 2] = '>';
    big[sizeof big - 1] = '\0';
    assert_int_equal(lmtp_parse_path(big, "FROM:", 1, &p), PARSE_TOOLONG);
}

static void test_rcpt_path(void **state)
{
    (void)state;
    struct lmtp_path p;
    assert_int_equal(lmtp_parse_path("TO:<alice@example.com>", "TO:", 0, &p), PARSE_OK);
    assert_string_equal(p.addr, "alice@example.com");
    assert_int_equal(lmtp_parse_path("TO:<>", "TO:", 0, &p), PARSE_SYNTAX);
    assert_int_equal(lmtp_parse_path("TO:<a> NOTIFY=NEVER", "TO:", 0, &p), PARSE_BADPARAM);
    assert_int_equal(lmtp_parse_path("TO:<a\x01>", "TO:", 0, &p), PARSE_SYNTAX);
}

static void test_bdat(void **state)
{
    (void)state;
    uint64_t n;
    int last;
    assert_int_equal(lmtp_parse_bdat("0 LAST", &n, &last), 0);
    assert_int_equal(n, 0);
    assert_int_equal(last, 1);
    assert_int_equal(lmtp_parse_bdat("4096", &n, &last), 0);
    assert_int_equal(n, 4096);
    assert_int_equal(last, 0);
    assert_int_equal(lmtp_parse_bdat("12 last", &n, &last), 0);
    assert_int_equal(last, 1);
    assert_int_equal(lmtp_parse_bdat("", &n, &last), -1);
    assert_int_equal(lmtp_parse_bdat("x", &n, &last), -1);
    assert_int_equal(lmtp_parse_bdat("12 FIRST", &n, &last), -1);
    assert_int_equal(lmtp_parse_bdat("99999999999999999999999", &n, &last), -1);
}

static void test_split_rcpt(void **state)
{
    (void)state;
    struct lmtp_rcpt_addr a;
    assert_int_equal(lmtp_split_rcpt("Alice@Example.COM", 0, 1, &a), 0);
    assert_string_equal(a.user, "alice");
    assert_string_equal(a.folder, "");
    assert_int_equal(lmtp_split_rcpt("Alice@Example.COM", 1, 0, &a), 0);
    assert_string_equal(a.user, "Alice@example.com");
    assert_int_equal(lmtp_split_rcpt("bob+Lists/Work@x.org", 0, 1, &a), 0);
    assert_string_equal(a.user, "bob");
    assert_string_equal(a.folder, "Lists/Work");
    assert_int_equal(lmtp_split_rcpt("bob+inbox", 0, 1, &a), 0);
    assert_string_equal(a.folder, "");
    assert_int_equal(lmtp_split_rcpt("\"bob\"@x", 0, 1, &a), 0);
    assert_string_equal(a.user, "bob");
    assert_int_equal(lmtp_split_rcpt("+folder@x", 0, 1, &a), -1);
    assert_int_equal(lmtp_split_rcpt("a/b@x", 0, 1, &a), -1);
    assert_int_equal(lmtp_split_rcpt("\"a b\"@x", 0, 1, &a), -1);
    assert_int_equal(lmtp_split_rcpt("\"open@x", 0, 1, &a), -1);
}

static void test_message_id(void **state)
{
    (void)state;
    char id[128];
    const char *m1 = "Subject: x\r\nMessage-Id:  <abc@def>\r\n\r\nMessage-ID: <body@x>\r\n";
    assert_int_equal(lmtp_find_message_id(m1, strlen(m1), id, sizeof id), 0);
    assert_string_equal(id, "<abc@def>");
    const char *m2 = "Subject: x\nMESSAGE-ID:\n\t<folded@x>\n\nbody";
    assert_int_equal(lmtp_find_message_id(m2, strlen(m2), id, sizeof id), 0);
    assert_string_equal(id, "<folded@x>");
    const char *m3 = "Subject: x\r\n\r\nMessage-ID: <body@x>\r\n";
    assert_int_equal(lmtp_find_message_id(m3, strlen(m3), id, sizeof id), -1);
    assert_int_equal(lmtp_find_message_id("", 0, id, sizeof id), -1);
    char small[6];
    const char *m4 = "Message-ID: <123456789>\r\n";
    assert_int_equal(lmtp_find_message_id(m4, strlen(m4), small, sizeof small), 0);
    assert_string_equal(small, "<1234");
}

static void test_body_data(void **state)
{
    (void)state;
    struct lmtp_body b;
    lmtp_body_init(&b, "s@x", 1000);
    assert_int_equal(lmtp_body_add_line(&b, "Subject: hi", 11), 0);
    assert_int_equal(lmtp_body_add_line(&b, "", 0), 0);
    assert_int_equal(lmtp_body_add_line(&b, "..", 2), 0);
    assert_int_equal(lmtp_body_add_line(&b, ".x", 2), 0);
    assert_int_equal(lmtp_body_add_line(&b, "...", 3), 0);
    assert_int_equal(lmtp_body_add_line(&b, ".", 1), 1);
    assert_string_equal(b.data.s, "Return-Path: <s@x>\r\nSubject: hi\r\n\r\n.\r\nx\r\n..\r\n");
    assert_int_equal(lmtp_body_size(&b), strlen("Subject: hi\r\n\r\n.\r\nx\r\n..\r\n"));
    lmtp_body_free(&b);

    lmtp_body_init(&b, "", 10);
    lmtp_body_add_line(&b, "12345678", 8);
    assert_int_equal(b.too_big, 0);
    lmtp_body_add_line(&b, "1", 1);
    assert_int_equal(b.too_big, 1);
    assert_string_equal(b.data.s, "Return-Path: <>\r\n");
    lmtp_body_free(&b);
}

static void test_body_chunks(void **state)
{
    (void)state;
    struct lmtp_body b;
    lmtp_body_init(&b, "s", 1000);
    lmtp_body_add_chunk(&b, "a\nb\r", 4);
    lmtp_body_add_chunk(&b, "\nc\0d", 4);
    lmtp_body_add_chunk(&b, "", 0);
    lmtp_body_add_chunk(&b, "\n", 1);
    lmtp_body_add_chunk(&b, "\r", 1);
    lmtp_body_add_chunk(&b, "x\n", 2);
    const char want[] = "Return-Path: <s>\r\na\r\nb\r\nc\0d\r\n\rx\r\n";
    assert_int_equal(b.data.len, sizeof want - 1);
    assert_memory_equal(b.data.s, want, sizeof want - 1);
    lmtp_body_free(&b);

    lmtp_body_init(&b, "s", 4);
    lmtp_body_add_chunk(&b, "abc\n", 4);
    assert_int_equal(b.too_big, 1);
    lmtp_body_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),      cmocka_unit_test(test_mail_path), cmocka_unit_test(test_rcpt_path),
        cmocka_unit_test(test_bdat),       cmocka_unit_test(test_split_rcpt), cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_body_data),  cmocka_unit_test(test_body_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
