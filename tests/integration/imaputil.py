"""Helpers for the imapd integration tests: a raw line-level IMAP client for
what imaplib cannot do (literals by hand, pipelining, disconnecting
mid-command), and small message builders."""
import email.utils
import socket
import time


def msg(subject="test", body="hello\r\n", frm="sender@example.com", to="alice@example.com", extra=""):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Date: {email.utils.formatdate()}\r\n"
            f"Message-ID: <{time.time_ns()}.{subject.replace(' ', '_')}@example.com>\r\n"
            f"{extra}\r\n{body}")


class Raw:
    """One IMAP connection driven line by line."""

    def __init__(self, port, timeout=15):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.greeting = self.line()
        self.n = 0

    def line(self, timeout=None):
        """One line without CRLF; TimeoutError when none arrives in time."""
        deadline = time.time() + (timeout if timeout is not None else self.timeout)
        while b"\n" not in self.buf:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no line from the server")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no line from the server")
            if not data:
                raise EOFError("server closed the connection")
            self.buf += data
        data, self.buf = self.buf.split(b"\n", 1)
        return data.decode("utf-8", "replace").rstrip("\r")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def until_tagged(self, tag):
        """Lines up to and including the tagged reply (literals kept inline)."""
        out = []
        while True:
            l = self.line()
            out.append(l)
            if l.startswith(tag + " "):
                return out

    def cmd(self, text):
        self.n += 1
        tag = f"T{self.n}"
        self.send(f"{tag} {text}\r\n")
        lines = self.until_tagged(tag)
        return lines[-1], lines[:-1]

    def login(self, user, pw):
        st, _ = self.cmd(f'LOGIN {user} "{pw}"')
        assert " OK " in st, st
        return self

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def status_of(tagged):
    return tagged.split(" ", 2)[1]
