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


def test_select_counts_come_from_the_mailbox_summary(suite):
    """SELECT answers EXISTS, RECENT, UNSEEN and FLAGS without reading every
    message (the mailbox summary kept by each change): the figures must be
    those the messages give, after seen/unseen changes, keywords and
    expunges made by another session."""
    for i in range(6):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    b = Raw(suite.imap_port).login("alice", "alicepw")
    b.cmd("SELECT INBOX")
    b.cmd("STORE 1:3 +FLAGS.SILENT (\\Seen)")
    b.cmd("STORE 5 +FLAGS.SILENT ($Work)")
    a = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(a, "EXAMINE INBOX")
    assert "* 6 EXISTS" in out and "* OK [UNSEEN 4]" in out
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)" in out
    st, lines = a.cmd("STATUS INBOX (MESSAGES UNSEEN DELETED RECENT)")
    assert lines == ["* STATUS INBOX (MESSAGES 6 RECENT 0 UNSEEN 3 DELETED 0)"]
    # Expunging seen messages before it moves the first unseen message's
    # number; seeing it moves the mark to the next unseen message.
    b.cmd("STORE 1:2 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    b.cmd("STORE 2 +FLAGS.SILENT (\\Seen)")       # was message 4
    st, out = select_lines(a, "EXAMINE INBOX")
    assert "* 4 EXISTS" in out and "* OK [UNSEEN 3]" in out
    st, lines = a.cmd("FETCH 3 (UID FLAGS)")
    assert lines == ["* 3 FETCH (UID 5 FLAGS ($Work))"]
    b.cmd("STORE 4 +FLAGS.SILENT (\\Deleted)")
    st, lines = a.cmd("STATUS INBOX (MESSAGES UNSEEN DELETED)")
    assert "* STATUS INBOX (MESSAGES 4 UNSEEN 2 DELETED 1)" in lines
    # Nothing unseen: no UNSEEN at all.
    b.cmd("STORE 1:* +FLAGS.SILENT (\\Seen)")
    st, out = select_lines(a, "EXAMINE INBOX")
    assert "[UNSEEN" not in out
    # A message marked unseen again below the others becomes the first.
    b.cmd("STORE 1 -FLAGS.SILENT (\\Seen)")
    st, out = select_lines(a, "EXAMINE INBOX")
    assert "* OK [UNSEEN 1]" in out
    a.close()
    b.close()
    assert suite.ctl("verify").returncode == 0


def test_map_read_after_select_sees_changes_made_in_between(suite):
    """The message map is read at the first command that needs it, as of the
    SELECT: what changed in between is announced as any other change."""
    for i in range(4):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    a = Raw(suite.imap_port).login("alice", "alicepw")
    b = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(a)
    assert "* 4 EXISTS" in out
    b.cmd("SELECT INBOX")
    b.cmd("STORE 3 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    b.cmd("UID STORE 4 +FLAGS.SILENT (\\Flagged)")
    suite.deliver(["alice@example.com"], msg("new"))
    # SEARCH may not carry EXPUNGE: numbers still count message 3.
    st, lines = a.cmd("SEARCH FLAGGED")
    assert "* SEARCH 4" in lines and "* 5 EXISTS" in lines
    assert not any("EXPUNGE" in l for l in lines)
    st, lines = a.cmd("NOOP")
    assert "* 3 EXPUNGE" in lines
    st, lines = a.cmd("FETCH 1:* (UID FLAGS)")
    assert [l.split("UID ")[1].split()[0] for l in lines] == ["1", "2", "4", "5"]
    assert "\\Flagged" in lines[2]
    a.close()
    b.close()


def test_selected_session_whose_tombstones_were_purged_is_told_to_reselect(suite):
    """A session that has not read its map since SELECT cannot learn of an
    expunge whose tombstone is already gone: it ends with a clear BYE rather
    than numbering messages wrongly."""
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    a = Raw(suite.imap_port).login("alice", "alicepw")
    a.cmd("SELECT INBOX")
    b = Raw(suite.imap_port).login("alice", "alicepw")
    b.cmd("SELECT INBOX")
    b.cmd("STORE 2 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    b.close()
    assert suite.ctl("expire", "--age", "0").returncode == 0
    a.send("T9 FETCH 1:* UID\r\n")
    line = a.line()
    assert line.startswith("* BYE [UNAVAILABLE]") and "select it again" in line
    # The server goes on: a new session sees the two messages.
    c = Raw(suite.imap_port).login("alice", "alicepw")
    st, out = select_lines(c)
    assert "* 2 EXISTS" in out
    c.close()
