"""STORE, COPY, MOVE, EXPUNGE and their UID forms; UIDPLUS response codes;
keywords; sequence-number rules."""
import re

import pytest

from imaputil import Raw, msg


@pytest.fixture
def five(suite):
    for i in range(5):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    r = Raw(suite.imap_port).login("alice", "alicepw")
    r.cmd("SELECT INBOX")
    return r


def test_store_forms(five):
    r = five
    st, lines = r.cmd("STORE 1 +FLAGS (\\Flagged \\Seen)")
    assert lines == ["* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))"]
    st, lines = r.cmd("STORE 1 -FLAGS (\\Seen)")
    assert lines == ["* 1 FETCH (FLAGS (\\Flagged \\Recent))"]
    st, lines = r.cmd("STORE 1:2 FLAGS (\\Answered)")
    assert lines == ["* 1 FETCH (FLAGS (\\Answered \\Recent))", "* 2 FETCH (FLAGS (\\Answered \\Recent))"]
    st, lines = r.cmd("STORE 3 +FLAGS.SILENT (\\Draft)")
    assert " OK " in st and lines == []
    st, lines = r.cmd("UID STORE 4 +FLAGS ($Important Work)")
    assert "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Important Work)" in lines
    assert "* 4 FETCH (FLAGS ($Important Work \\Recent) UID 4)" in lines
    st, lines = r.cmd("UID STORE 4 -FLAGS (work)")       # keywords are case-insensitive
    assert lines == ["* 4 FETCH (FLAGS ($Important \\Recent) UID 4)"]
    st, lines = r.cmd("FETCH 1:5 FLAGS")
    assert lines[2] == "* 3 FETCH (FLAGS (\\Draft \\Recent))"
    st, _ = r.cmd("STORE 1 +FLAGS (\\Bogus)")
    assert " BAD " in st
    st, _ = r.cmd("STORE 9 +FLAGS (\\Seen)")
    assert " BAD " in st and "Invalid sequence number" in st
    st, lines = r.cmd("UID STORE 99 +FLAGS (\\Seen)")        # no such UID: nothing, OK
    assert " OK " in st and lines == []


def test_copy_with_copyuid(five):
    r = five
    r.cmd("CREATE Dest")
    st, _ = r.cmd("COPY 2:4 Dest")
    m = re.search(r"\[COPYUID (\d+) (\S+) (\S+)\]", st)
    assert m and m.group(2) == "2:4" and m.group(3) == "1:3"
    st, _ = r.cmd("UID COPY 5,1 Dest")
    m = re.search(r"\[COPYUID (\d+) (\S+) (\S+)\]", st)
    assert m.group(2) == "1,5" and m.group(3) == "4:5"
    st, lines = r.cmd("STATUS Dest (MESSAGES)")
    assert "MESSAGES 5" in lines[0]
    st, _ = r.cmd("COPY 1 Missing")
    assert "[TRYCREATE]" in st
    st, lines = r.cmd("STATUS INBOX (MESSAGES)")
    assert "MESSAGES 5" in lines[0]
    # The copy has the same content.
    r.cmd("SELECT Dest")
    st, lines = r.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert "Subject: m1" in "\n".join(lines)


def test_move_expunges_source(five):
    r = five
    r.cmd("CREATE Dest")
    st, lines = r.cmd("MOVE 2:3 Dest")
    assert " OK " in st
    assert lines[0].startswith("* OK [COPYUID ") and " 2:3 1:2]" in lines[0]
    assert "* 3 EXPUNGE" in lines and "* 2 EXPUNGE" in lines
    st, lines = r.cmd("FETCH 1:* UID")
    assert [re.search(r"UID (\d+)", l).group(1) for l in lines] == ["1", "4", "5"]
    st, lines = r.cmd("UID MOVE 5 Dest")
    assert "* 3 EXPUNGE" in lines
    st, lines = r.cmd("STATUS Dest (MESSAGES)")
    assert "MESSAGES 3" in lines[0]


def test_expunge_and_uid_expunge(five):
    r = five
    r.cmd("STORE 1,3,5 +FLAGS.SILENT (\\Deleted)")
    st, lines = r.cmd("UID EXPUNGE 1:3")
    assert lines == ["* 3 EXPUNGE", "* 1 EXPUNGE"]
    st, lines = r.cmd("EXPUNGE")
    assert lines == ["* 3 EXPUNGE"]
    st, lines = r.cmd("FETCH 1:* UID")
    assert [re.search(r"UID (\d+)", l).group(1) for l in lines] == ["2", "4"]
    st, lines = r.cmd("EXPUNGE")
    assert " OK " in st and lines == []


def test_searchres_dollar(five):
    r = five
    r.cmd("STORE 2,4 +FLAGS.SILENT (\\Flagged)")
    st, lines = r.cmd("UID SEARCH RETURN (SAVE) FLAGGED")
    assert " OK " in st and lines == []
    st, lines = r.cmd("FETCH $ (UID)")
    assert [re.search(r"UID (\d+)", l).group(1) for l in lines] == ["2", "4"]
    r.cmd("CREATE Saved")
    st, _ = r.cmd("UID COPY $ Saved")
    assert "[COPYUID" in st and " 2,4 1:2]" in st
