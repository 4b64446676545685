"""SORT and THREAD (RFC 5256) against the real server."""
import imaplib

import pytest


def msg(mid, subject, date, frm, to, refs=None, body=b"x\r\n", pad=0):
    h = (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
         f"Message-ID: <{mid}>\r\n").encode()
    if refs:
        h += f"References: {refs}\r\n".encode()
    return h + b"\r\n" + body + b"y" * pad + b"\r\n"


MSGS = [
    msg("a@x", "Apples", "Mon, 3 Feb 2025 10:00:00 +0000", "Zed <zed@example.com>", "amy@example.com", pad=300),
    msg("b@x", "Bananas", "Sun, 2 Feb 2025 10:00:00 +0000", "amy@example.com", "zed@example.com", pad=10),
    msg("c@x", "Re: Apples", "Tue, 4 Feb 2025 10:00:00 +0000", "Bob <bob@example.com>", "amy@example.com",
        refs="<a@x>", pad=100),
    msg("d@x", "Re: Re: Apples", "Wed, 5 Feb 2025 10:00:00 +0000", "amy@example.com", "bob@example.com",
        refs="<a@x> <c@x>", pad=50),
    msg("e@x", "Cherries", "Thu, 6 Feb 2025 10:00:00 +0000", "Carl <carl@example.com>", "bob@example.com",
        refs="<gone@x>", pad=0),
    msg("f@x", "Re: Bananas", "Fri, 7 Feb 2025 10:00:00 +0000", "bob@example.com", "amy@example.com", pad=5),
]


@pytest.fixture
def mbox(suite, tmp_path):
    for i, m in enumerate(MSGS):
        f = tmp_path / f"m{i}.eml"
        f.write_bytes(m)
        suite.ctl("append", "user/alice", str(f))
    c = suite.imap("alice", "alicepw")
    c.select("INBOX")
    yield c
    c.logout()


def sort(c, crit, search="ALL", uid=False):
    typ, dat = (c.uid("SORT", crit, "UTF-8", search) if uid else c.sort(crit, "UTF-8", search))
    assert typ == "OK", dat
    return dat[0].decode().split()


@pytest.mark.parametrize("crit,want", [
    ("(ARRIVAL)", "1 2 3 4 5 6"),
    ("(DATE)", "2 1 3 4 5 6"),
    ("(REVERSE DATE)", "6 5 4 3 1 2"),
    ("(SUBJECT)", "1 3 4 2 6 5"),
    ("(SUBJECT REVERSE DATE)", "4 3 1 6 2 5"),
    ("(FROM)", "2 4 3 6 5 1"),
    ("(TO DATE)", "1 3 6 4 5 2"),
    ("(DISPLAYFROM)", "2 4 3 6 5 1"),
])
def test_sort(mbox, crit, want):
    assert sort(mbox, crit) == want.split()


def by_size(reverse=False):
    order = sorted(range(len(MSGS)), key=lambda i: (len(MSGS[i]) * (-1 if reverse else 1), i))
    return [str(i + 1) for i in order]


def test_sort_size(mbox):
    assert sort(mbox, "(SIZE)") == by_size()
    assert sort(mbox, "(REVERSE SIZE)") == by_size(reverse=True)


def test_sort_with_search_and_uid(mbox):
    assert sort(mbox, "(DATE)", "SUBJECT apples") == ["1", "3", "4"]
    typ, dat = mbox.fetch("1:*", "(UID)")
    uids = [d.split()[-1].rstrip(b")").decode() for d in dat]
    assert sort(mbox, "(REVERSE SIZE)", uid=True) == [uids[int(i) - 1] for i in by_size(reverse=True)]


def test_sort_errors(mbox):
    for args in (("(BOGUS)", "UTF-8", "ALL"), ("(REVERSE)", "UTF-8", "ALL"), ("(DATE)", "UTF-8", "FOO")):
        with pytest.raises(imaplib.IMAP4.error):
            mbox.sort(*args)
    typ, dat = mbox.sort("(DATE)", "KOI8-R", "ALL")
    assert typ == "NO" and b"[BADCHARSET" in dat[0]
    assert mbox.noop()[0] == "OK"


def thread(c, alg, search="ALL", uid=False):
    typ, dat = (c.uid("THREAD", alg, "UTF-8", search) if uid else c.thread(alg, "UTF-8", search))
    assert typ == "OK", dat
    return dat[0].decode() if dat[0] else ""


def test_thread_references(mbox):
    # 1 <- 3 <- 4 by references; 6 joins 2 by subject; 5's parent is missing
    assert thread(mbox, "REFERENCES") == "(2 6)(1 3 4)(5)"
    assert thread(mbox, "REFERENCES", "NOT 3") == "(2 6)(1 4)(5)"


def test_thread_orderedsubject(mbox):
    assert thread(mbox, "ORDEREDSUBJECT") == "(2 6)(1 (3)(4))(5)"


def test_thread_uid_and_errors(mbox):
    typ, dat = mbox.fetch("1:*", "(UID)")
    uids = [d.split()[-1].rstrip(b")").decode() for d in dat]
    assert thread(mbox, "REFERENCES", uid=True) == f"({uids[1]} {uids[5]})({uids[0]} {uids[2]} {uids[3]})({uids[4]})"
    with pytest.raises(imaplib.IMAP4.error):
        mbox.thread("BOGUS", "UTF-8", "ALL")
