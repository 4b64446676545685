"""Mailbox commands: CREATE (intermediate levels, CREATE-SPECIAL-USE),
DELETE (RFC 3501 rules for children), RENAME (hierarchies, INBOX), LIST
(patterns, CHILDREN, LIST-EXTENDED, LIST-STATUS, SPECIAL-USE), LSUB,
SUBSCRIBE, STATUS, and modified UTF-7 names."""
import imaplib
import re

import pytest

from imaputil import Raw, msg


def names(c, ref="", pat="*"):
    typ, data = c.list(f'"{ref}"', f'"{pat}"')
    assert typ == "OK"
    out = {}
    for d in data:
        if d is None:
            continue
        m = re.match(rb'\((.*?)\) "/" (.*)', d)
        name = m.group(2).decode()
        if name.startswith('"'):
            name = name[1:-1]
        out[name] = m.group(1).decode().split()
    return out


def test_create_list_children_and_patterns(suite):
    c = suite.imap("alice", "alicepw")
    assert c.create("Work/Projects/2026")[0] == "OK"
    assert c.create("Archive")[0] == "OK"
    got = names(c)
    assert set(got) == {"INBOX", "Work", "Work/Projects", "Work/Projects/2026", "Archive"}
    assert "\\HasChildren" in got["Work"] and "\\HasNoChildren" in got["Archive"]
    # '%' stops at the separator.
    assert set(names(c, "", "%")) == {"INBOX", "Work", "Archive"}
    assert set(names(c, "", "Work/%")) == {"Work/Projects"}
    assert set(names(c, "Work/", "*")) == {"Work/Projects", "Work/Projects/2026"}
    # INBOX is case-insensitive.
    assert set(names(c, "", "inbox")) == {"INBOX"}
    assert c.select("iNbOx")[0] == "OK"
    # Creating an existing mailbox, or INBOX, fails.
    typ, data = c.create("Archive")
    assert typ == "NO" and b"ALREADYEXISTS" in data[0]
    assert c.create("inbox")[0] == "NO"
    # LIST "" "" gives the delimiter.
    typ, data = c.list('""', '""')
    assert data == [b'(\\Noselect) "/" ""']
    c.logout()


def test_delete_with_children_keeps_children(suite):
    c = suite.imap("alice", "alicepw")
    c.create("Parent/Child")
    assert c.delete("Parent")[0] == "OK"
    got = names(c)
    assert "Parent/Child" in got
    assert "\\Noselect" in got.get("Parent", ["\\Noselect"]) or "Parent" not in got
    # Deleting a non-existent hierarchy level is an error.
    assert c.delete("Parent")[0] == "NO"
    assert c.delete("INBOX")[0] == "NO"
    assert c.delete("Nope")[0] == "NO"
    assert c.delete("Parent/Child")[0] == "OK"
    assert "Parent/Child" not in names(c)
    c.logout()


def test_rename_hierarchy_keeps_messages_and_uidvalidity(suite):
    c = suite.imap("alice", "alicepw")
    c.create("A/B/C")
    c.append("A/B", None, None, msg("in b").encode())
    c.append("A/B/C", None, None, msg("in c").encode())
    typ, st = c.status("A/B/C", "(UIDVALIDITY MESSAGES)")
    before = st[0]
    c.subscribe("A/B/C")
    assert c.rename("A", "Z/Y")[0] == "OK"
    got = names(c)
    assert {"Z", "Z/Y", "Z/Y/B", "Z/Y/B/C"} <= set(got)
    assert not any(n.startswith("A") for n in got)
    typ, st = c.status("Z/Y/B/C", "(UIDVALIDITY MESSAGES)")
    assert st[0].split(b" ", 1)[1] == before.split(b" ", 1)[1]
    typ, subs = c.lsub('""', "*")
    assert any(b"Z/Y/B/C" in s for s in subs)
    # Into its own subtree, onto an existing name, from a missing name: refused.
    assert c.rename("Z", "Z/Y/B/C/D")[0] == "NO"
    c.create("Other")
    assert c.rename("Other", "Z")[0] == "NO"
    assert c.rename("Missing", "X")[0] == "NO"
    c.logout()


def test_rename_inbox_moves_messages_and_leaves_inbox_empty(suite):
    for i in range(3):
        suite.deliver(["alice@example.com"], msg(f"m{i}"))
    c = suite.imap("alice", "alicepw")
    assert c.rename("INBOX", "Old")[0] == "OK"
    assert c.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    assert c.status("Old", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 3)")
    c.select("Old")
    typ, data = c.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    subjects = sorted(d[1].strip() for d in data if isinstance(d, tuple))
    assert subjects == [b"Subject: m0", b"Subject: m1", b"Subject: m2"]
    c.logout()


def test_subscribe_lsub_and_list_subscribed(suite):
    c = suite.imap("alice", "alicepw")
    c.create("S1")
    c.create("S2/Deep")
    assert c.subscribe("S1")[0] == "OK"
    assert c.subscribe("S2/Deep")[0] == "OK"
    assert c.subscribe("Ghost")[0] == "OK"       # subscribing to a missing name is allowed
    typ, data = c.lsub('""', "*")
    got = {d.split(b'"/" ')[1].strip(b'"') for d in data}
    assert got == {b"S1", b"S2/Deep", b"Ghost"}
    typ, data = c.lsub('""', "%")
    flat = b" ".join(data)
    assert b"S2" in flat and b"\\Noselect" in flat
    typ, data = c._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"')
    _, data = c._untagged_response(typ, data, "LIST")
    flat = b"\n".join(data)
    assert b'(\\NonExistent \\HasNoChildren \\Subscribed) "/" Ghost' in flat
    assert b"\\Subscribed" in flat and b"S1" in flat
    assert c.unsubscribe("S1")[0] == "OK"
    typ, data = c.lsub('""', "*")
    assert not any(d.endswith(b" S1") for d in data)
    c.logout()


def test_list_extended_recursivematch_and_return_options(suite):
    c = suite.imap("alice", "alicepw")
    c.create("Top/Sub")
    c.subscribe("Top/Sub")
    typ, data = c._simple_command("LIST", "(SUBSCRIBED RECURSIVEMATCH)", '""', '"%"')
    _, data = c._untagged_response(typ, data, "LIST")
    flat = b"\n".join(data)
    assert b'"Top" ("CHILDINFO" ("SUBSCRIBED"))' in flat or b'Top ("CHILDINFO" ("SUBSCRIBED"))' in flat
    typ, data = c._simple_command("LIST", '""', '("INBOX" "Top/*")', "RETURN", "(CHILDREN SUBSCRIBED)")
    _, data = c._untagged_response(typ, data, "LIST")
    flat = b"\n".join(data)
    assert b"INBOX" in flat and b"Top/Sub" in flat and b"\\Subscribed" in flat
    with pytest.raises(imaplib.IMAP4.error, match="RECURSIVEMATCH"):
        c._simple_command("LIST", "(RECURSIVEMATCH)", '""', '"*"')
    c.logout()


def test_list_status(suite):
    suite.deliver(["alice@example.com"], msg("one"))
    suite.deliver(["alice@example.com"], msg("two"))
    c = suite.imap("alice", "alicepw")
    typ, data = c._simple_command("LIST", '""', '"INBOX"', "RETURN", "(STATUS (MESSAGES UNSEEN UIDNEXT))")
    assert typ == "OK"
    _, st = c._untagged_response(typ, data, "STATUS")
    m = re.match(rb"INBOX \((.*)\)$", st[0])
    items = m.group(1).split()
    assert dict(zip(items[::2], items[1::2])) == {b"MESSAGES": b"2", b"UNSEEN": b"2", b"UIDNEXT": b"3"}
    c.logout()


def test_special_use_create_and_list(suite):
    c = suite.imap("alice", "alicepw")
    typ, _ = c._simple_command("CREATE", '"Sent Mail"', "(USE (\\Sent))")
    assert typ == "OK"
    typ, data = c._simple_command("CREATE", "Junk", "(USE (\\Bogus))")
    assert typ == "NO"
    typ, data = c._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"')
    _, data = c._untagged_response(typ, data, "LIST")
    assert len(data) == 1 and b"\\Sent" in data[0] and b"Sent Mail" in data[0]
    got = names(c)
    assert "\\Sent" in got["Sent Mail"]
    c.logout()


def test_status_items(suite):
    suite.deliver(["alice@example.com"], msg("s1", body="x" * 100))
    suite.deliver(["alice@example.com"], msg("s2"))
    c = suite.imap("alice", "alicepw")
    c.select("INBOX")
    c.store("1", "+FLAGS", "(\\Seen \\Deleted)")
    typ, data = c.status("INBOX", "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ APPENDLIMIT MAILBOXID RECENT)")
    assert typ == "OK"
    s = data[0].decode()
    assert "MESSAGES 2" in s and "UIDNEXT 3" in s and "UNSEEN 1" in s and "DELETED 1" in s
    size = int(re.search(r"SIZE (\d+)", s).group(1))
    assert size > 100
    assert re.search(r"MAILBOXID \(\w+\)", s) and re.search(r"HIGHESTMODSEQ \d+", s)
    assert c.status("Nope", "(MESSAGES)")[0] == "NO"
    with pytest.raises(imaplib.IMAP4.error, match="Unknown STATUS item"):
        c.status("INBOX", "(BOGUS)")
    c.logout()


def test_modified_utf7_names(suite):
    r = Raw(suite.imap_port).login("alice", "alicepw")
    # "Entwürfe" in modified UTF-7
    st, _ = r.cmd('CREATE "Entw&APw-rfe"')
    assert " OK " in st, st
    st, lines = r.cmd('LIST "" "Entw*"')
    assert lines == ['* LIST (\\HasNoChildren) "/" Entw&APw-rfe']
    # Invalid modified UTF-7 is refused, the session goes on.
    st, _ = r.cmd('CREATE "Bad&Jjo"')
    assert " NO " in st or " BAD " in st
    st, _ = r.cmd('CREATE "Bad&AGE-"')   # encodes ASCII 'a': not allowed
    assert " NO " in st or " BAD " in st
    # With UTF8=ACCEPT the same mailbox shows in UTF-8.
    r.cmd("ENABLE UTF8=ACCEPT")
    st, lines = r.cmd('LIST "" "Entw*"')
    assert "Entwürfe" in "\n".join(lines)
    r.close()


def test_other_users_namespace_needs_rights(suite):
    b = suite.imap("bob", "bobpw")
    b.create("Shared")
    a = suite.imap("alice", "alicepw")
    assert "Other Users/bob/Shared" not in names(a)
    assert a.select('"Other Users/bob/Shared"')[0] == "NO"
    assert b.setacl("Shared", "alice", "lr")[0] == "OK"
    got = names(a)
    assert "Other Users/bob/Shared" in got
    assert a.select('"Other Users/bob/Shared"', readonly=True)[0] == "OK"
    a.logout()
    b.logout()


def test_children_of_inbox(suite):
    c = suite.imap("alice", "alicepw")
    assert c.create("INBOX/Sub")[0] == "OK"
    assert c.create("inbox/Other")[0] == "OK"       # INBOX prefix in any case
    got = names(c)
    assert {"INBOX", "INBOX/Sub", "INBOX/Other"} <= set(got)
    assert "\\HasChildren" in got["INBOX"]
    assert set(names(c, "", "INBOX/%")) == {"INBOX/Sub", "INBOX/Other"}
    c.append("INBOX/Sub", None, None, msg("below inbox").encode())
    assert c.status("INBOX/Sub", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 1)")
    assert c.status("INBOX", "(MESSAGES)")[1][0].endswith(b"(MESSAGES 0)")
    assert c.delete("INBOX/Sub")[0] == "OK"
    assert c.select("INBOX")[0] == "OK"
    c.logout()


def test_shared_folders_namespace(suite):
    adm = suite.imap("admin", "adminpw")
    assert adm.create('"Shared Folders/news"')[0] == "OK"
    assert adm.setacl('"Shared Folders/news"', "anyone", "lrs")[0] == "OK"
    adm.append('"Shared Folders/news"', None, None, msg("announcement").encode())
    adm.logout()
    c = suite.imap("alice", "alicepw")
    got = names(c)
    assert "Shared Folders/news" in got
    top = names(c, "", "%")
    assert set(top) >= {"INBOX", "Shared Folders"}
    assert "\\Noselect" in top["Shared Folders"] and "\\HasChildren" in top["Shared Folders"]
    typ, _ = c.select('"Shared Folders/news"')
    assert typ == "OK"
    typ, data = c.fetch("1", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert b"announcement" in data[0][1]
    # Users cannot create there without the k right.
    assert c.create('"Shared Folders/mine"')[0] == "NO"
    c.logout()


def test_selected_mailbox_renamed_or_deleted_by_another_session(suite):
    a = Raw(suite.imap_port).login("alice", "alicepw")
    b = suite.imap("alice", "alicepw")
    b.create("Moving")
    b.append("Moving", None, None, msg("m").encode())
    a.cmd("SELECT Moving")
    assert b.rename("Moving", "Moved")[0] == "OK"
    st, lines = a.cmd("STORE 1 +FLAGS (\\Flagged)")     # still works: found by unique id
    assert " OK " in st and "\\Flagged" in lines[0]
    assert b.delete("Moved")[0] == "OK"
    st, lines = a.cmd("NOOP")
    assert any(l.startswith("* BYE") for l in lines + [st])
    a.close()
    b.logout()


def test_stdin_mode(suite):
    """imapd -s serves one session on stdin/stdout without master."""
    import subprocess
    from conftest import binary
    r = subprocess.run([binary("imapd"), "-C", suite.conf, "-s"], input=b"a CAPABILITY\r\nb LOGOUT\r\n",
                       capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert out.startswith("* OK [CAPABILITY") and "a OK" in out and "* BYE" in out and "b OK" in out
