"""The man pages keep up with the code: every option of
lib/config_options.def is documented in man/satchel.conf.5 with its type and
default, and man/satchelctl.8 carries satchelctl's --help text word for word
and describes every subcommand."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import SRC, binary

DEF = os.path.join(SRC, "lib", "config_options.def")
CONF_MAN = os.path.join(SRC, "man", "satchel.conf.5")
CTL_MAN = os.path.join(SRC, "man", "satchelctl.8")
TYPES = {"STRING": "string", "INT": "integer", "BOOL": "yes/no", "SIZE": "size", "DURATION": "duration"}


def unroff(text):
    """Undo the escapes used in our pages: \\- is '-', \\e is a backslash."""
    return text.replace("\\-", "-").replace("\\e", "\\")


def options():
    pat = re.compile(r'^OPT\((\w+), "([^"]+)", (\w+), "([^"]*)", "((?:[^"\\]|\\.)*)", (NULL|"[^"]*")\)', re.M)
    with open(DEF) as f:
        found = pat.findall(f.read())
    assert len(found) > 30, "could not parse config_options.def"
    return found


def help_text():
    r = subprocess.run([binary("satchelctl"), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    return r.stdout


def test_every_option_documented_with_type_and_default():
    with open(CONF_MAN) as f:
        page = unroff(f.read())
    for _, key, typ, default, _desc, vals in options():
        if typ == "ENUM":
            want_type = "one of " + ", ".join(vals.strip('"').split("|"))
        else:
            want_type = TYPES[typ]
        want = f'.BR {key} " ({want_type}, default: {default or "empty"})"'
        assert want in page, f"{key}: man/satchel.conf.5 lacks the line {want!r}"
    assert ".BI partition- NAME" in page


def test_no_undocumented_options_in_page():
    with open(CONF_MAN) as f:
        page = unroff(f.read())
    documented = set(re.findall(r'^\.BR (\w+) " \(', page, re.M))
    assert documented == {key for _, key, *_ in options()}


def test_satchelctl_page_has_help_text_verbatim():
    with open(CTL_MAN) as f:
        page = f.read()
    block = re.search(r"^\.\\\" BEGIN USAGE.*?\n\.nf\n(.*?)\n\.fi\n\.\\\" END USAGE", page, re.S | re.M)
    assert block, "man/satchelctl.8 lacks the BEGIN USAGE/END USAGE block"
    assert unroff(block.group(1)) + "\n" == help_text()


def test_every_subcommand_described():
    with open(CTL_MAN) as f:
        page = re.sub(r"\\f[BIRP]", "", unroff(f.read()))   # font changes are not words
    # the words of each help line up to the first argument in capitals
    commands = []
    for line in help_text().splitlines():
        m = re.match(r"^  ([a-z]+(?: [a-z]+)?)(?: |$)", line)
        if m and m.group(1) != "help":
            commands.append(m.group(1))
    assert len(commands) >= 20
    for cmd in commands:
        # a .TP entry whose tag line starts with the command's words, in any font markup
        words = r"\W+".join(map(re.escape, cmd.split()))
        entries = [e for e in page.split(".TP\n")[1:] if re.match(r"^(?:\.[A-Z]+\s+)?\W*" + words + r"\b", e)]
        assert entries, f"man/satchelctl.8 does not describe '{cmd}'"


MAN_DIR = os.path.join(SRC, "man")
PAGES = sorted(os.path.join(MAN_DIR, f) for f in os.listdir(MAN_DIR) if re.search(r"\.[58]$", f))
PROGRAMS = ["master", "imapd", "imapd-session", "lmtpd", "satchelctl"]


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_program_has_a_page(program):
    assert os.path.exists(os.path.join(MAN_DIR, program + ".8")), f"man/{program}.8 is missing"


@pytest.mark.skipif(not shutil.which("groff"), reason="groff not installed")
@pytest.mark.parametrize("page", PAGES, ids=os.path.basename)
def test_pages_render_without_warnings(page):
    r = subprocess.run(["groff", "-man", "-ww", "-z", page], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr
