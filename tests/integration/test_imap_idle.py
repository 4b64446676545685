"""Two sessions on one mailbox: deliveries (LMTP), flag changes and
expunges made by one are seen by the other at its next command and pushed
during IDLE within a second; EXPUNGE is never sent during FETCH, STORE or
SEARCH (RFC 3501 7.4.1)."""
import time

import pytest

from imaputil import Raw, msg


def read_until(r, pred, timeout):
    """Read untagged lines until pred(line) or timeout; returns the lines."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            line = r.line(timeout=max(0.01, deadline - time.time()))
        except TimeoutError:
            break
        got.append(line)
        if pred(line):
            break
    return got


@pytest.fixture
def two(suite):
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    a = Raw(suite.imap_port).login("alice", "alicepw")
    b = Raw(suite.imap_port).login("alice", "alicepw")
    a.cmd("SELECT INBOX")
    b.cmd("SELECT INBOX")
    return a, b


def test_changes_seen_at_next_command(suite, two):
    a, b = two
    suite.deliver(["alice@example.com"], msg("new"))
    b.cmd("STORE 1 +FLAGS.SILENT (\\Flagged)")
    b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    st, lines = a.cmd("NOOP")
    assert "* 2 EXPUNGE" in lines
    assert "* 3 EXISTS" in lines
    assert any(l.startswith("* 1 FETCH (FLAGS (\\Flagged") for l in lines)
    st, lines = a.cmd("FETCH 1:* UID")
    assert [l.split("UID ")[1].rstrip(")") for l in lines] == ["1", "3", "4"]


def test_no_expunge_during_fetch_store_search(suite, two):
    a, b = two
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    for cmd in ("FETCH 1:* FLAGS", "STORE 3 +FLAGS (\\Answered)", "SEARCH ALL"):
        st, lines = a.cmd(cmd)
        assert not any("EXPUNGE" in l for l in lines), (cmd, lines)
        assert " OK " in st or " NO " in st
    # Sequence numbers still count the expunged message until it is
    # announced (the gone message itself cannot match anything).
    st, lines = a.cmd("SEARCH ALL")
    assert lines == ["* SEARCH 2 3"]
    st, lines = a.cmd("UID FETCH 1:* FLAGS")       # UID commands may carry EXPUNGE
    assert "* 1 EXPUNGE" in lines
    st, lines = a.cmd("SEARCH ALL")
    assert lines == ["* SEARCH 1 2"]


def test_idle_push_within_one_second(suite, two):
    a, b = two
    a.send("I1 IDLE\r\n")
    assert a.line().startswith("+")
    t0 = time.time()
    suite.deliver(["alice@example.com"], msg("pushed"))
    got = read_until(a, lambda l: l == "* 4 EXISTS", 5)
    assert got and got[-1] == "* 4 EXISTS"
    delivered_at = time.time()
    b.cmd("STORE 2 +FLAGS.SILENT (\\Seen)")
    t1 = time.time()
    got = read_until(a, lambda l: l.startswith("* 2 FETCH (FLAGS (\\Seen"), 5)
    assert got and got[-1].startswith("* 2 FETCH")
    assert time.time() - t1 < 1.5
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    t2 = time.time()
    got = read_until(a, lambda l: l == "* 1 EXPUNGE", 5)
    assert got and got[-1] == "* 1 EXPUNGE"
    assert time.time() - t2 < 1.5
    a.send("DONE\r\n")
    lines = a.until_tagged("I1")
    assert lines[-1].startswith("I1 OK")
    st, lines = a.cmd("FETCH 1:* UID")
    assert len(lines) == 3


def test_idle_needs_done(suite, two):
    a, _ = two
    a.send("I1 IDLE\r\n")
    assert a.line().startswith("+")
    a.send("NOPE\r\n")
    assert a.until_tagged("I1")[-1].startswith("I1 BAD")
    st, _ = a.cmd("NOOP")
    assert " OK " in st


def test_per_user_seen_in_shared_mailbox(suite):
    """\\Seen is per user in a mailbox that is not the user's own."""
    own = suite.imap("bob", "bobpw")
    own.create("Team")
    own.setacl("Team", "alice", "lrswi")
    own.append("Team", None, None, msg("shared").encode())
    own.select("Team")
    own.store("1", "+FLAGS", "(\\Seen)")
    a = Raw(suite.imap_port).login("alice", "alicepw")
    st, _ = a.cmd('SELECT "Other Users/bob/Team"')
    assert " OK " in st
    st, lines = a.cmd("FETCH 1 FLAGS")
    assert "\\Seen" not in lines[0]            # bob's \Seen is not alice's
    st, lines = a.cmd("STORE 1 +FLAGS (\\Seen \\Flagged)")
    assert "\\Seen" in lines[0] and "\\Flagged" in lines[0]
    own.store("1", "-FLAGS", "(\\Seen)")
    a.close()
    a = Raw(suite.imap_port).login("alice", "alicepw")
    a.cmd('SELECT "Other Users/bob/Team"')
    st, lines = a.cmd("FETCH 1 FLAGS")
    assert "\\Seen" in lines[0] and "\\Flagged" in lines[0]
    typ, data = own.fetch("1", "FLAGS")
    assert b"\\Seen" not in data[0] and b"\\Flagged" in data[0]   # \Flagged is shared
    a.close()


def test_per_user_seen_change_reaches_other_session_of_same_user(suite):
    own = suite.imap("bob", "bobpw")
    own.create("Team2")
    own.setacl("Team2", "alice", "lrs")
    own.append("Team2", None, None, msg("shared").encode())
    a1 = Raw(suite.imap_port).login("alice", "alicepw")
    a2 = Raw(suite.imap_port).login("alice", "alicepw")
    a1.cmd('SELECT "Other Users/bob/Team2"')
    a2.cmd('SELECT "Other Users/bob/Team2"')
    a2.send("I IDLE\r\n")
    assert a2.line().startswith("+")
    a1.cmd("STORE 1 +FLAGS.SILENT (\\Seen)")
    got = read_until(a2, lambda l: l.startswith("* 1 FETCH (FLAGS (\\Seen"), 5)
    assert got and got[-1].startswith("* 1 FETCH (FLAGS (\\Seen")
    a2.send("DONE\r\n")
    a2.until_tagged("I")
    a1.close()
    a2.close()
    own.logout()


def test_idle_under_compress(suite):
    """IDLE pushes and DONE work through COMPRESS=DEFLATE."""
    import zlib
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, _ = r.cmd("COMPRESS DEFLATE")
    assert " OK " in st
    comp, decomp = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15)

    def send(b):
        r.sock.sendall(comp.compress(b) + comp.flush(zlib.Z_SYNC_FLUSH))

    def wait_for(token, timeout=5):
        got = b""
        deadline = time.time() + timeout
        r.sock.settimeout(0.2)
        while token not in got and time.time() < deadline:
            try:
                data = r.sock.recv(65536)
            except OSError:
                continue
            if not data:
                break
            got += decomp.decompress(data)
        return got

    send(b"s SELECT INBOX\r\n")
    assert b"s OK" in wait_for(b"s OK")
    send(b"i IDLE\r\n")
    assert b"+ idling" in wait_for(b"+ idling")
    suite.deliver(["alice@example.com"], msg("compressed push"))
    assert b"* 1 EXISTS" in wait_for(b"* 1 EXISTS")
    send(b"DONE\r\n")
    assert b"i OK" in wait_for(b"i OK")
    r.close()


def test_fetch_of_message_expunged_elsewhere(suite, two):
    """RFC 2180 4.1.2: the expunge is not announced during FETCH; the data of
    the vanished message is not available, which the reply says."""
    a, b = two
    b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    st, lines = a.cmd("FETCH 1:3 (UID)")
    assert not any("EXPUNGE" in l for l in lines)
    assert [l.split()[1] for l in lines] == ["1", "3"]
    assert " NO [EXPUNGEISSUED]" in st
    st, lines = a.cmd("NOOP")
    assert "* 2 EXPUNGE" in lines
