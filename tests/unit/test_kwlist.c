/* Keyword lists as records, summaries and sessions keep them: words
 * split on any run of spaces, compared without regard to case. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "kwlist.h"

static void test_next_splits_on_runs_of_spaces(void **state)
{
    (void)state;
    const char *p = "  $Junk   work\tx done ", *w;
    size_t n;
    const char *want[] = { "$Junk", "work\tx", "done" };
    for (int i = 0; i < 3; i++) {
        w = kwlist_next(&p, &n);
        assert_non_null(w);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(w, want[i], n);
    }
    assert_null(kwlist_next(&p, &n));
    p = NULL;
    assert_null(kwlist_next(&p, &n));   /* no list at all: empty */
}

static void test_has_is_case_insensitive_and_whole_word(void **state)
{
    (void)state;
    const char *list = "$Junk NonJunk work";
    assert_true(kwlist_has(list, "$junk", 5));
    assert_true(kwlist_has(list, "WORK", 4));
    assert_false(kwlist_has(list, "Junk", 4));      /* part of a word is not the word */
    assert_false(kwlist_has(list, "works", 5));
    assert_false(kwlist_has("", "work", 4));
    assert_true(kwlist_has(list, "workshop", 4));   /* the first len bytes are the word */
}

static void test_has_all(void **state)
{
    (void)state;
    const char *list = " $Junk NonJunk work";
    assert_true(kwlist_has_all(list, "work $JUNK"));
    assert_true(kwlist_has_all(list, ""));
    assert_true(kwlist_has_all(list, "   "));
    assert_false(kwlist_has_all(list, "work play"));
    assert_false(kwlist_has_all("", "work"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_splits_on_runs_of_spaces),
        cmocka_unit_test(test_has_is_case_insensitive_and_whole_word),
        cmocka_unit_test(test_has_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
