"""LIST of other users' mailboxes comes from the store's ACL grant index:
a mailbox appears under "Other Users/" for exactly the users its ACL names
(or everyone, for "anyone"), follows renames, and disappears when the
grant or the mailbox goes.  Admins see every user's mailboxes."""


def listed(c, pattern="*"):
    typ, data = c.list('""', pattern)
    assert typ == "OK"
    names = []
    for line in data:
        if line is None:
            continue
        text = line.decode() if isinstance(line, bytes) else line
        names.append(text.rsplit(' "/" ', 1)[1].strip('"'))
    return names


def test_shared_mailboxes_follow_the_acl(suite):
    a = suite.imap("alice", "alicepw")
    b = suite.imap("bob", "bobpw")
    for name in ("Projects", "Private", "Projects/Sub"):
        assert a.create(name)[0] == "OK"
    assert not [n for n in listed(b) if n.startswith("Other Users/")]
    assert a.setacl("Projects", "bob", "lr")[0] == "OK"
    others = [n for n in listed(b) if n.startswith("Other Users/")]
    assert "Other Users/alice/Projects" in others
    assert "Other Users/alice/Private" not in others
    assert "Other Users/alice/Projects/Sub" not in others   # its own ACL does not name bob
    # A rename takes the grant along.
    assert a.rename("Projects", "Work")[0] == "OK"
    others = [n for n in listed(b) if n.startswith("Other Users/")]
    assert "Other Users/alice/Work" in others and "Other Users/alice/Projects" not in others
    assert b.select('"Other Users/alice/Work"', readonly=True)[0] == "OK"
    b.close()
    # Revoked: gone from LIST.
    assert a.deleteacl("Work", "bob")[0] == "OK"
    assert not [n for n in listed(b) if n.startswith("Other Users/alice/Work")]
    # "anyone" reaches every user; deleting the mailbox removes it.
    assert a.setacl("Private", "anyone", "lr")[0] == "OK"
    assert "Other Users/alice/Private" in listed(b)
    assert "Other Users/alice/Private" in listed(b, '"Other Users/%/%"')
    assert a.delete("Private")[0] == "OK"
    assert "Other Users/alice/Private" not in listed(b)
    a.logout()
    b.logout()


def test_admin_lists_every_user(suite):
    a = suite.imap("alice", "alicepw")
    assert a.create("Hidden")[0] == "OK"
    a.logout()
    adm = suite.imap("admin", "adminpw")
    assert "Other Users/alice/Hidden" in listed(adm)
    adm.logout()
