"""SELECT / EXAMINE / CLOSE / UNSELECT / CHECK / NOOP: the untagged data a
client relies on, read-only vs read-write, \\Recent, IMAP4rev2 form."""
import re

from imaputil import Raw, msg


def select_lines(r, cmd="SELECT INBOX"):
    st, lines = r.cmd(cmd)
    return st, "\n".join(lines)


def test_select_reports_mailbox_state(suite):
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(r)
    assert "[READ-WRITE]" in st
    assert "* 3 EXISTS" in out
    assert "* 3 RECENT" in out
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)" in out
    assert "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)]" in out
    assert "* OK [UNSEEN 1]" in out
    uidvalidity = int(re.search(r"UIDVALIDITY (\d+)", out).group(1))
    assert uidvalidity > 0
    assert "* OK [UIDNEXT 4]" in out
    assert re.search(r"\[HIGHESTMODSEQ \d+\]", out)
    assert re.search(r"\[MAILBOXID \(\w+\)\]", out)
    r.close()
    # \Recent is given to one session only.
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(r)
    assert "* 0 RECENT" in out
    # The same UIDVALIDITY every time.
    assert f"UIDVALIDITY {uidvalidity}]" in out
    r.close()


def test_examine_is_read_only(suite):
    suite.deliver(["alice@example.com"], msg("x"))
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(r, "EXAMINE INBOX")
    assert "[READ-ONLY]" in st
    assert "PERMANENTFLAGS ()" in out
    st, _ = r.cmd("STORE 1 +FLAGS (\\Seen)")
    assert " NO " in st
    st, lines = r.cmd("FETCH 1 BODY[]")
    assert " OK " in st
    st, lines = r.cmd("FETCH 1 FLAGS")
    assert "\\Seen" not in lines[0]     # EXAMINE never sets \Seen
    r.close()


def test_select_missing_mailbox_leaves_unselected(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    st, _ = r.cmd("SELECT Nope")
    assert " NO " in st
    st, _ = r.cmd("FETCH 1:* FLAGS")
    assert " BAD " in st and "No mailbox selected" in st
    r.close()


def test_close_expunges_and_unselect_does_not(suite):
    for i in range(4):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    st, lines = r.cmd("UNSELECT")
    assert " OK " in st and not any("EXPUNGE" in l for l in lines)
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 4" in lines[0]
    r.cmd("SELECT INBOX")
    r.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    st, lines = r.cmd("CLOSE")
    assert " OK " in st and not any("EXPUNGE" in l for l in lines)
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 2" in lines[0]
    # CLOSE on a read-only mailbox expunges nothing.
    r.cmd("SELECT INBOX")
    r.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    r.cmd("EXAMINE INBOX")
    r.cmd("CLOSE")
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 2" in lines[0]
    r.close()


def test_imap4rev2_select(suite):
    suite.deliver(["alice@example.com"], msg("x"))
    r = Raw(suite.imap_port).login("alice", "alicepw")
    st, lines = r.cmd("ENABLE IMAP4rev2")
    assert lines == ["* ENABLED IMAP4rev2"]
    st, out = select_lines(r)
    assert "RECENT" not in out and "[UNSEEN" not in out
    assert '* LIST () "/" INBOX' in out
    st, out = select_lines(r, "EXAMINE INBOX")
    assert "* OK [CLOSED]" in out
    # rev2: SEARCH answers with ESEARCH
    st, lines = r.cmd("SEARCH ALL")
    assert lines == [f'* ESEARCH (TAG "T{r.n}") ALL 1']
    r.close()


def test_noop_and_check(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    suite.deliver(["alice@example.com"], msg("new"))
    st, lines = r.cmd("NOOP")
    assert "* 1 EXISTS" in lines and "* 1 RECENT" in lines
    suite.deliver(["alice@example.com"], msg("new2"))
    st, lines = r.cmd("CHECK")
    assert " OK " in st and "* 2 EXISTS" in lines
    r.close()
