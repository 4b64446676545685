"""Limits and bad input: malformed commands, over-long lines, huge
literals, unbalanced and too deeply nested parentheses, invalid modified
UTF-7, a client vanishing mid-literal, idle and pre-login timeouts, and the
per-user connection limit.  Each gets a clear answer and the server stays
up for everyone else."""
import socket
import time

import pytest

from imaputil import Raw, msg


def still_serving(suite):
    c = suite.imap("bob", "bobpw")
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_malformed_commands(suite):
    r = Raw(suite.imap_port)
    for bad, want in [
        ("", "* BAD"),
        ("+tag NOOP", "* BAD"),
        ("t1", "t1 BAD"),
        ("t2 NOOP extra", "t2 BAD"),
        ('t3 LOGIN "unterminated', "t3 BAD"),
        ("t4 LOGIN a\\b c", "t4 BAD"),
        ("t5 UID NOOP", "t5 BAD"),
    ]:
        r.send(bad + "\r\n")
        line = r.line()
        assert line.startswith(want), (bad, line)
    r.login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    for bad in ["FETCH 1:* (FLAGS", "FETCH 1:* FLAGS)", "STORE 1 +FLAGS ((\\Seen)", "SEARCH (OR SEEN",
                "FETCH abc FLAGS", "FETCH 0 FLAGS", "SEARCH CHARSET KOI9 TEXT x", 'LIST "" ("a" "b"',
                "STATUS INBOX (MESSAGES"]:
        st, _ = r.cmd(bad)
        assert " BAD " in st or " NO " in st, (bad, st)
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    r.close()
    still_serving(suite)


def test_nesting_limit(suite_factory):
    suite = suite_factory(extra_conf="imap_max_nesting: 8\n")
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    deep = "(" * 50 + "ALL" + ")" * 50
    st, _ = r.cmd("SEARCH " + deep)
    assert " BAD " in st
    st, _ = r.cmd('ID ' + "(" * 20 + ")" * 20)
    assert " BAD " in st and "nested" in st.lower()
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    r.close()


def test_line_too_long(suite_factory):
    suite = suite_factory(extra_conf="imap_max_line: 1K\n")
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.send("t1 NOOP " + "x" * 5000 + "\r\n")
    line = r.line()
    assert "BAD" in line and "too long" in line.lower()
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    r.close()


def test_huge_literals(suite_factory):
    suite = suite_factory(extra_conf="imap_max_literal: 10K\n")
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.send("t1 APPEND INBOX {999999999999}\r\n")
    assert r.line().startswith("t1 NO [TOOBIG]")
    r.send("t2 APPEND INBOX {99999999999999999999999}\r\n")   # overflow: not a literal we accept
    line = r.line()
    assert line.startswith("t2 BAD") or line.startswith("t2 NO"), line
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    # A non-synchronising literal that is too big cannot be skipped: BYE.
    r.send("t3 APPEND INBOX {20000+}\r\n")
    lines = [r.line(), r.line()]
    assert any("BYE" in l and "TOOBIG" in l for l in lines)
    r.close()
    still_serving(suite)


def test_invalid_utf7_names(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    for name in ['"&"', '"&Jjo"', '"a&AGE-b"', '"&Jjo-&Jjo-"', '"x&-&"']:
        st, _ = r.cmd(f"CREATE {name}")
        assert " NO " in st or " BAD " in st, (name, st)
    st, lines = r.cmd('LIST "" "*"')
    assert lines == ['* LIST (\\HasNoChildren) "/" INBOX']
    r.close()


def test_disconnect_mid_literal(suite):
    for i in range(3):
        s = socket.create_connection(("127.0.0.1", suite.imap_port))
        s.recv(4096)
        s.sendall(b'a LOGIN alice alicepw\r\n')
        s.recv(4096)
        s.sendall(b"b APPEND INBOX {1000}\r\n")
        s.recv(4096)
        s.sendall(b"Subject: half\r\n\r\nonly part of it")
        s.close()
    time.sleep(0.3)
    c = suite.imap("alice", "alicepw")
    assert c.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    c.logout()
    still_serving(suite)


def test_prelogin_and_idle_timeouts(suite_factory):
    suite = suite_factory(extra_conf="imap_prelogin_timeout: 1s\nimap_idle_timeout: 2s\n")
    r = Raw(suite.imap_port)
    line = r.line(timeout=5)
    assert line.startswith("* BYE") and "Autologout" in line
    # Commands now and then do not extend the time before login.
    r = Raw(suite.imap_port)
    t0 = time.time()
    with pytest.raises(EOFError):
        for _ in range(10):
            time.sleep(0.4)
            r.cmd("NOOP")
    assert time.time() - t0 < 3
    r = Raw(suite.imap_port).login("alice", "alicepw")
    line = r.line(timeout=6)
    assert line.startswith("* BYE") and "idle" in line
    # IDLE ends at the idle timeout too.
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    r.send("i IDLE\r\n")
    assert r.line().startswith("+")
    line = r.line(timeout=6)
    assert line.startswith("* BYE")


def test_connections_per_user(suite_factory):
    suite = suite_factory(extra_conf="imap_max_connections_per_user: 2\n")
    a1 = Raw(suite.imap_port).login("alice", "alicepw")
    a2 = Raw(suite.imap_port).login("alice", "alicepw")
    a3 = Raw(suite.imap_port)
    st, _ = a3.cmd('LOGIN alice "alicepw"')
    assert " NO " in st and "[LIMIT]" in st
    b = Raw(suite.imap_port).login("bob", "bobpw")     # other users are not affected
    a1.cmd("LOGOUT")
    a1.close()
    time.sleep(0.2)
    st, _ = a3.cmd('LOGIN alice "alicepw"')
    assert " OK " in st
    for x in (a2, a3, b):
        x.close()


def test_random_garbage_after_login(suite):
    """Seeded random command lines (with stray literals, parentheses,
    brackets and 8-bit bytes) never crash the session or the server."""
    import random
    rnd = random.Random(5)
    words = ["FETCH", "STORE", "SEARCH", "UID", "LIST", "SELECT", "APPEND", "STATUS", "COPY", "MOVE", "SORT",
             "THREAD", "(", ")", "[", "]", "<0.5>", "BODY[", "1:*", "*", "$", "\"x\"", "{0}", "{2+}\r\nab",
             "\\Seen", "NIL", "~{1+}\r\n\x00", "INBOX", "CHARSET", "UTF-8", "\xff\xfe", "%", "&Jjo-", "RETURN"]
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    for i in range(300):
        line = " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 12)))
        line = line.replace("{0}", "{0+}\r\n")
        tag = f"g{i}"
        r.send((tag + " " + line + "\r\n").encode("latin-1"))
        while True:
            l = r.line()
            if l.startswith(tag + " "):
                break
            if l.startswith("+ "):
                r.send(b"\r\n")
    st, _ = r.cmd("NOOP")
    assert " OK " in st
    r.close()
    still_serving(suite)
