"""FETCH against the real server: every common item, BODY[section]<partial>,
BODY.PEEK vs \\Seen, HEADER.FIELDS, BINARY, UID FETCH, bad syntax."""
import imaplib
import re

import pytest

PLAIN = (b"From: Alice <alice@example.com>\r\n"
         b"To: Bob <bob@example.org>\r\n"
         b"Subject: Plain one\r\n"
         b"Date: Mon, 3 Feb 2025 10:00:00 +0000\r\n"
         b"Message-ID: <plain1@example.com>\r\n"
         b"\r\n"
         b"Hello Bob,\r\nthis is the body.\r\n")

MULTI = (b"From: Carol <carol@example.com>\r\n"
         b"To: alice@example.com\r\n"
         b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n"
         b"Date: Tue, 4 Feb 2025 11:00:00 +0100\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"BB\"\r\n"
         b"\r\n"
         b"--BB\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: 8bit\r\n"
         b"\r\n"
         b"Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9fe\r\n"
         b"--BB\r\n"
         b"Content-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         b"AAEC/w==\r\n"
         b"--BB--\r\n")


def append(suite, tmp_path, data, mailbox="user/alice"):
    """Store exact bytes with satchelctl append (LMTP would add Return-Path)."""
    f = tmp_path / f"m{abs(hash(data))}.eml"
    f.write_bytes(data)
    suite.ctl("append", mailbox, str(f))


@pytest.fixture
def mbox(suite, tmp_path):
    for m in (PLAIN, MULTI):
        append(suite, tmp_path, m)
    c = suite.imap("alice", "alicepw")
    typ, dat = c.select("INBOX")
    assert typ == "OK" and dat[0] == b"2"
    yield c
    try:
        c.logout()
    except Exception:
        pass


def fetch_raw(c, seqs, items, uid=False):
    typ, dat = (c.uid("FETCH", seqs, items) if uid else c.fetch(seqs, items))
    assert typ == "OK", dat
    return dat


def literal_of(dat, label):
    for part in dat:
        if isinstance(part, tuple) and label.encode() in part[0]:
            return part[1]
    raise AssertionError(f"{label} not in {dat!r}")


def test_fast_items_and_envelope(mbox):
    dat = fetch_raw(mbox, "1:*", "(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)")
    text = b" ".join(p if isinstance(p, bytes) else p[0] + p[1] for p in dat)
    assert len([p for p in dat if re.match(rb"\d+ \(", p if isinstance(p, bytes) else p[0])]) == 2
    assert b"RFC822.SIZE %d" % len(PLAIN) in text
    assert b'"Plain one"' in text
    assert b'(("Alice" NIL "alice" "example.com"))' in text
    assert re.search(rb'INTERNALDATE "[ 0-9]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"', text)
    assert b"FLAGS (\\Recent)" in text or b"FLAGS ()" in text


def test_body_peek_does_not_set_seen(mbox):
    body = literal_of(fetch_raw(mbox, "1", "(BODY.PEEK[])"), "BODY[]")
    assert body == PLAIN
    flags = fetch_raw(mbox, "1", "(FLAGS)")[0]
    assert b"\\Seen" not in flags
    # non-PEEK body fetch sets \Seen and reports FLAGS
    dat = fetch_raw(mbox, "1", "(BODY[TEXT])")
    assert literal_of(dat, "BODY[TEXT]") == b"Hello Bob,\r\nthis is the body.\r\n"
    assert b"\\Seen" in b"".join(p[0] + (p[1] if len(p) > 1 else b"") if isinstance(p, tuple) else p for p in dat)
    assert b"\\Seen" in fetch_raw(mbox, "1", "(FLAGS)")[0]


def test_delivered_message(suite):
    assert suite.deliver("alice@example.com", PLAIN) == {}
    c = suite.imap("alice", "alicepw")
    c.select("INBOX")
    body = literal_of(fetch_raw(c, "1", "(BODY.PEEK[])"), "BODY[]")
    assert body.endswith(PLAIN)
    size = int(re.search(rb"RFC822.SIZE (\d+)", fetch_raw(c, "1", "(RFC822.SIZE)")[0]).group(1))
    assert size == len(body)
    c.logout()


def test_examine_never_sets_seen(suite):
    assert suite.deliver("alice@example.com", PLAIN) == {}
    c = suite.imap("alice", "alicepw")
    c.select("INBOX", readonly=True)
    fetch_raw(c, "1", "(BODY[])")
    assert b"\\Seen" not in fetch_raw(c, "1", "(FLAGS)")[0]
    c.logout()


def test_partial_and_header_fields(mbox):
    assert literal_of(fetch_raw(mbox, "1", "(BODY.PEEK[]<0.10>)"), "BODY[]<0>") == PLAIN[:10]
    assert literal_of(fetch_raw(mbox, "1", "(BODY.PEEK[]<6.5>)"), "BODY[]<6>") == PLAIN[6:11]
    tail = fetch_raw(mbox, "1", "(BODY.PEEK[]<%d.100>)" % (len(PLAIN) - 3))
    assert literal_of(tail, "BODY[]<") == PLAIN[-3:]
    past = fetch_raw(mbox, "1", "(BODY.PEEK[]<%d.10>)" % (len(PLAIN) + 10))
    flat = b"".join(p if isinstance(p, bytes) else p[0] + p[1] for p in past)
    assert b'BODY[]<%d> ""' % (len(PLAIN) + 10) in flat or b"{0}" in flat
    hf = literal_of(fetch_raw(mbox, "1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT To)])"), "HEADER.FIELDS")
    assert hf == b"To: Bob <bob@example.org>\r\nSubject: Plain one\r\n\r\n"
    hn = literal_of(fetch_raw(mbox, "1", "(BODY.PEEK[HEADER.FIELDS.NOT (Subject To From Date)])"), "FIELDS.NOT")
    assert hn == b"Message-ID: <plain1@example.com>\r\n\r\n"
    hdr = literal_of(fetch_raw(mbox, "1", "(RFC822.HEADER)"), "RFC822.HEADER")
    assert hdr == PLAIN.split(b"\r\n\r\n")[0] + b"\r\n\r\n"


def test_sections_bodystructure_binary(mbox):
    dat = fetch_raw(mbox, "2", "(BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[2.MIME] BINARY.PEEK[2] BINARY.SIZE[2])")
    flat = b"".join(p if isinstance(p, bytes) else p[0] + p[1] for p in dat)
    assert b'("text" "plain" ("charset" "utf-8") NIL NIL "8bit"' in flat
    assert b'"mixed" ("boundary" "BB")' in flat
    assert literal_of(dat, "BODY[1]") == "Schöne Grüße".encode()
    assert literal_of(dat, "BODY[2.MIME]").startswith(b"Content-Type: application/octet-stream\r\n")
    assert literal_of(dat, "BINARY[2]") == b"\x00\x01\x02\xff"
    assert b"BINARY.SIZE[2] 4" in flat
    # a missing part answers with an empty string
    miss = fetch_raw(mbox, "2", "(BODY.PEEK[7])")
    flat = b"".join(p if isinstance(p, bytes) else p[0] + p[1] for p in miss)
    assert b'BODY[7] ""' in flat or b"BODY[7] {0}" in flat


def test_uid_fetch_and_objectid(mbox):
    typ, dat = mbox.uid("FETCH", "1:*", "(FLAGS EMAILID RFC822.SIZE)")
    assert typ == "OK"
    lines = [p for p in dat if isinstance(p, bytes)]
    assert len(lines) == 2
    for ln in lines:
        assert re.search(rb"UID \d+", ln)
        assert re.search(rb"EMAILID \(M[0-9a-f]{24}\)", ln)


def test_macros(mbox):
    dat = fetch_raw(mbox, "1", "FULL")
    flat = b"".join(p if isinstance(p, bytes) else p[0] + p[1] for p in dat)
    for word in (b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE", b"BODY ("):
        assert word in flat
    dat = fetch_raw(mbox, "1", "FAST")
    assert b"ENVELOPE" not in dat[0]


@pytest.mark.parametrize("items", ["(FLAGS", "BOGUS", "(BODY[1.0])", "(BODY[]<1>)", "(BINARY[HEADER])"])
def test_bad_fetch(mbox, items):
    with pytest.raises(imaplib.IMAP4.error):
        mbox.fetch("1", items)
    assert mbox.noop()[0] == "OK"
