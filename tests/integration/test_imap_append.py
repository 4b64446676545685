"""APPEND: flags and internal date, APPENDUID, MULTIAPPEND, LITERAL+,
BINARY literal, UTF8 (...) data, TRYCREATE, APPENDLIMIT."""
import imaplib
import re

import pytest

from imaputil import Raw, msg


def test_append_with_flags_and_date(suite):
    c = suite.imap("alice", "alicepw")
    typ, data = c.append("INBOX", "(\\Seen $Label)", '"01-Feb-2024 10:30:00 +0100"', msg("dated").encode())
    assert typ == "OK"
    m = re.search(rb"\[APPENDUID (\d+) (\d+)\]", data[0])
    assert m and m.group(2) == b"1"
    c.select("INBOX")
    typ, data = c.fetch("1", "(FLAGS INTERNALDATE)")
    assert b"\\Seen" in data[0] and b"$Label" in data[0]
    assert b'INTERNALDATE " 1-Feb-2024 09:30:00 +0000"' in data[0]
    # The date survives as an instant: 09:30 UTC.
    d = imaplib.Internaldate2tuple(data[0])
    import time
    assert time.mktime(d) == pytest.approx(1706779800, abs=1)
    c.logout()


def test_append_to_missing_mailbox_says_trycreate(suite):
    c = suite.imap("alice", "alicepw")
    typ, data = c.append("Nope", None, None, msg("x").encode())
    assert typ == "NO" and b"[TRYCREATE]" in data[0]
    c.logout()


def test_multiappend_and_literal_plus(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    a, b = msg("first").encode(), msg("second").encode()
    r.send(b"A1 APPEND INBOX (\\Flagged) {%d+}\r\n" % len(a) + a + b" {%d+}\r\n" % len(b) + b + b"\r\n")
    lines = r.until_tagged("A1")
    assert " OK " in lines[-1] and "[APPENDUID" in lines[-1] and " 1:2]" in lines[-1]
    # Synchronising literals: the server says "+" before each.
    r.send(b"A2 APPEND INBOX {%d}\r\n" % len(a))
    assert r.line().startswith("+")
    r.send(a + b"\r\n")
    lines = r.until_tagged("A2")
    assert " 3]" in lines[-1]
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 3" in lines[0]
    r.close()


def test_multiappend_is_all_or_nothing(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    a = msg("ok").encode()
    # Second message has a bad date: the whole command fails, nothing added.
    r.send(b'A1 APPEND INBOX {%d+}\r\n' % len(a) + a + b' "99-Foo-2024 00:00:00 +0000" {%d+}\r\n' % len(a) + a + b"\r\n")
    lines = r.until_tagged("A1")
    assert " BAD " in lines[-1]
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 0" in lines[0]
    r.close()


def test_binary_and_utf8_append(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    body = b"From: a@b\r\nSubject: bin\r\nContent-Transfer-Encoding: binary\r\n\r\nnul\x00byte\r\n"
    r.send(b"A1 APPEND INBOX ~{%d+}\r\n" % len(body) + body + b"\r\n")
    lines = r.until_tagged("A1")
    assert " OK " in lines[-1], lines
    r.cmd("ENABLE UTF8=ACCEPT")
    u = "From: a@b\r\nSubject: grüße\r\n\r\nhallo\r\n".encode()
    r.send(b"A2 APPEND INBOX UTF8 (~{%d+}\r\n" % len(u) + u + b")\r\n")
    lines = r.until_tagged("A2")
    assert " OK " in lines[-1], lines
    r.cmd("SELECT INBOX")
    st, lines = r.cmd("FETCH 1 RFC822.SIZE")
    assert f"RFC822.SIZE {len(body)}" in lines[0]
    r.close()


def test_appendlimit_and_too_big_literal(suite_factory):
    suite = suite_factory(extra_conf="imap_max_literal: 1K\n")
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, lines = r.cmd("CAPABILITY")
    assert "APPENDLIMIT=1024" in lines[0]
    r.send(b"A1 APPEND INBOX {5000}\r\n")
    line = r.line()
    assert line.startswith("A1 NO [TOOBIG]"), line
    st, _ = r.cmd("NOOP")          # the session goes on
    assert " OK " in st
    small = msg("small").encode()
    r.send(b"A2 APPEND INBOX {%d}\r\n" % len(small))
    assert r.line().startswith("+")
    r.send(small + b"\r\n")
    assert " OK " in r.until_tagged("A2")[-1]
    r.close()


def test_append_is_seen_by_selected_session(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    c = suite.imap("alice", "alicepw")
    c.append("INBOX", None, None, msg("from other").encode())
    st, lines = r.cmd("NOOP")
    assert "* 1 EXISTS" in lines
    r.close()
