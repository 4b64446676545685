"""SEARCH against the real server: flags, sets, sizes, dates, header keys
from the cache, BODY/TEXT over decoded parts, CHARSET, ESEARCH, SEARCHRES."""
import datetime
import imaplib

import pytest

MSGS = [
    (b"From: Alice Example <alice@example.com>\r\nTo: bob@example.org\r\nCc: carol@example.net\r\n"
     b"Subject: Quarterly report\r\nDate: Mon, 3 Feb 2025 10:00:00 +0000\r\nX-Tag: blue sky\r\n\r\n"
     b"Revenue went up.\r\n"),
    (b"From: =?UTF-8?Q?J=C3=BCrgen?= <juergen@example.de>\r\nTo: alice@example.com\r\n"
     b"Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=\r\nDate: Tue, 4 Feb 2025 09:00:00 +0100\r\n"
     b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
     b"Content-Transfer-Encoding: quoted-printable\r\n\r\nSch=F6ne Gr=FC=DFe\r\n"),
    (b"From: bob@example.org\r\nTo: alice@example.com\r\nSubject: Re: Quarterly report\r\n"
     b"Date: Wed, 5 Feb 2025 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
     b"Content-Type: multipart/alternative; boundary=\"A\"\r\n\r\n"
     b"--A\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     b"PGI+Wm9uazwvYj4gaGlkZGVuIHdvcmQ=\r\n--A--\r\n" + b"padding line\r\n" * 200),
]


@pytest.fixture
def mbox(suite, tmp_path):
    for i, m in enumerate(MSGS):
        f = tmp_path / f"m{i}.eml"
        f.write_bytes(m)
        suite.ctl("append", "user/alice", str(f))
    c = suite.imap("alice", "alicepw")
    assert c.select("INBOX")[1][0] == b"3"
    c.store("1", "+FLAGS", "(\\Seen $Important)")
    c.store("3", "+FLAGS", "(\\Flagged \\Deleted)")
    yield c
    c.logout()


def search(c, *crit, charset=None):
    typ, dat = c.search(charset, *crit)
    assert typ == "OK", dat
    return dat[0].decode().split()


def uid_of(c, seq):
    typ, dat = c.fetch(str(seq), "(UID)")
    return dat[0].split()[-1].rstrip(b")").decode()


@pytest.mark.parametrize("crit,want", [
    ("ALL", ["1", "2", "3"]),
    ("SEEN", ["1"]),
    ("UNSEEN", ["2", "3"]),
    ("FLAGGED DELETED", ["3"]),
    ("UNDELETED", ["1", "2"]),
    ("KEYWORD $Important", ["1"]),
    ("UNKEYWORD $Important", ["2", "3"]),
    ("2:*", ["2", "3"]),
    ("OR 1 3", ["1", "3"]),
    ("NOT (SEEN)", ["2", "3"]),
    ("LARGER 2000", ["3"]),
    ("SMALLER 2000", ["1", "2"]),
    ("SUBJECT quarterly", ["1", "3"]),
    ("SUBJECT \"QUARTERLY REPORT\"", ["1", "3"]),
    ("FROM juergen", ["2"]),
    ("FROM \"Alice Example\"", ["1"]),
    ("TO alice", ["2", "3"]),
    ("CC carol", ["1"]),
    ("HEADER X-Tag SKY", ["1"]),
    ("HEADER X-Tag \"\"", ["1"]),
    ("BODY revenue", ["1"]),
    ("BODY zonk", ["3"]),
    ("TEXT quarterly", ["1", "3"]),
    ("TEXT hidden", ["3"]),
    ("SENTON 4-Feb-2025", ["2"]),
    ("SENTBEFORE 4-Feb-2025", ["1"]),
    ("SENTSINCE 5-Feb-2025", ["3"]),
    ("OR SUBJECT report BODY zonk", ["1", "3"]),
])
def test_search_keys(mbox, crit, want):
    assert search(mbox, crit) == want


def test_internal_dates(mbox):
    today = datetime.date.today()
    fmt = lambda d: f"{d.day}-{d.strftime('%b')}-{d.year}"
    tomorrow = today + datetime.timedelta(days=1)
    # internal dates are "now" (appended during the test); allow for midnight
    assert len(search(mbox, "SINCE " + fmt(today - datetime.timedelta(days=1)))) == 3
    assert search(mbox, "SINCE " + fmt(tomorrow)) == []
    assert len(search(mbox, "BEFORE " + fmt(tomorrow + datetime.timedelta(days=1)))) == 3
    assert len(search(mbox, "YOUNGER 3600")) == 3
    assert search(mbox, "OLDER 3600") == []


def test_charset_and_literal(mbox):
    mbox.literal = "KÖLN".encode()
    typ, dat = mbox.search("UTF-8", "SUBJECT")
    assert typ == "OK" and dat[0].split() == [b"2"]
    mbox.literal = "SCHÖNE".encode()
    typ, dat = mbox.search("UTF-8", "BODY")
    assert typ == "OK" and dat[0].split() == [b"2"]
    typ, dat = mbox.search("KOI8-R", "SUBJECT", "x")
    assert typ == "NO" and b"[BADCHARSET" in dat[0]


def test_uid_search(mbox):
    uids = [uid_of(mbox, i) for i in (1, 2, 3)]
    typ, dat = mbox.uid("SEARCH", None, "SUBJECT", "quarterly")
    assert dat[0].decode().split() == [uids[0], uids[2]]
    typ, dat = mbox.uid("SEARCH", None, "UID", f"{uids[1]}:*")
    assert dat[0].decode().split() == uids[1:]


def esearch(c, *args):
    typ, dat = c._simple_command("SEARCH", *args)
    assert typ == "OK", dat
    typ, dat = c._untagged_response(typ, dat, "ESEARCH")
    return dat[0].decode() if dat and dat[0] else ""


def test_esearch_and_searchres(mbox):
    r = esearch(mbox, "RETURN", "(MIN MAX COUNT)", "ALL")
    assert "MIN 1" in r and "MAX 3" in r and "COUNT 3" in r
    r = esearch(mbox, "RETURN", "(ALL)", "NOT", "2")
    assert "ALL 1,3" in r
    r = esearch(mbox, "RETURN", "()", "SUBJECT", "quarterly")
    assert "ALL 1,3" in r
    r = esearch(mbox, "RETURN", "(COUNT)", "SUBJECT", "nothing-matches")
    assert "COUNT 0" in r
    # SEARCHRES: save, then use $ in FETCH and SEARCH
    typ, dat = mbox._simple_command("SEARCH", "RETURN", "(SAVE)", "SUBJECT", "quarterly")
    assert typ == "OK"
    typ, dat = mbox.search(None, "$")
    assert dat[0].split() == [b"1", b"3"]
    typ, dat = mbox.search(None, "$", "FLAGGED")
    assert dat[0].split() == [b"3"]


@pytest.mark.parametrize("crit", ["FOO", "(SEEN", "BEFORE 32-Jan-2025", "LARGER x", "UID 0", "OR SEEN"])
def test_bad_search(mbox, crit):
    with pytest.raises(imaplib.IMAP4.error):
        mbox.search(None, crit)
    assert mbox.noop()[0] == "OK"
