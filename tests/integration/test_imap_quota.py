"""QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA, SETQUOTA by admins only,
STORAGE in KiB and MESSAGE counts, and over-quota APPEND/COPY refused."""
import re

from imaputil import Raw, msg


def test_quota_set_get_and_enforce(suite):
    adm = Raw(suite.imap_port).login("admin", "adminpw")
    st, lines = adm.cmd('SETQUOTA "user/alice" (STORAGE 10 MESSAGE 3)')
    assert " OK " in st, st
    assert lines == ['* QUOTA user/alice (STORAGE 0 10 MESSAGE 0 3)']
    a = Raw(suite.imap_port).login("alice", "alicepw")
    st, _ = a.cmd('SETQUOTA "user/alice" (STORAGE 1000)')
    assert " NO " in st and "NOPERM" in st
    st, lines = a.cmd("GETQUOTAROOT INBOX")
    assert lines[0] == "* QUOTAROOT INBOX user/alice"
    assert lines[1].startswith("* QUOTA user/alice (STORAGE 0 10 MESSAGE 0 3)")
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"q{i}"))
    st, lines = a.cmd('GETQUOTA "user/alice"')
    m = re.match(r"\* QUOTA user/alice \(STORAGE (\d+) 10 MESSAGE 3 3\)", lines[0])
    assert m and int(m.group(1)) >= 1
    # A fourth message is over the MESSAGE limit.
    body = msg("over").encode()
    a.send(b"A1 APPEND INBOX {%d}\r\n" % len(body))
    assert a.line().startswith("+")
    a.send(body + b"\r\n")
    assert "[OVERQUOTA]" in a.until_tagged("A1")[-1]
    a.cmd("CREATE Copies")
    a.cmd("SELECT INBOX")
    st, _ = a.cmd("COPY 1 Copies")
    assert " NO " in st and "[OVERQUOTA]" in st
    # Other users' quota is not visible to alice.
    st, _ = a.cmd('GETQUOTA "user/bob"')
    assert " NO " in st
    # Raising the limit lets the append through.
    adm.cmd('SETQUOTA "user/alice" (STORAGE 1000 MESSAGE 100)')
    a.send(b"A2 APPEND INBOX {%d}\r\n" % len(body))
    assert a.line().startswith("+")
    a.send(body + b"\r\n")
    assert " OK " in a.until_tagged("A2")[-1]
    a.close()
    adm.close()
