"""The libFuzzer harnesses build with Debian's clang and survive a short run.

Each harness runs for a few seconds from its seed corpus (the message corpus
for the MIME parser); a crash, leak or sanitizer report fails the test.  Long
fuzzing sessions are run by hand, see tests/fuzz/README.
"""
import glob
import os
import shutil
import subprocess

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
HARNESSES = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(SRC, "tests", "fuzz", "fuzz_*.c")))


@pytest.fixture(scope="module")
def fuzzers(tmp_path_factory):
    if not shutil.which("clang"):
        pytest.skip("clang is not installed (./check installs it)")
    out = tmp_path_factory.mktemp("fuzz")
    r = subprocess.run(["sh", os.path.join(SRC, "tests", "fuzz", "build.sh"), str(out)],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


def test_every_harness_is_built(fuzzers):
    assert HARNESSES, "no harness found under tests/fuzz"
    for name in HARNESSES:
        assert os.access(fuzzers / name, os.X_OK), f"build.sh does not build {name}"


@pytest.mark.parametrize("name", HARNESSES)
def test_harness_short_run(fuzzers, tmp_path, name):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if name == "fuzz_message":
        for p in glob.glob(os.path.join(SRC, "tests", "corpus", "*.eml")):
            shutil.copy(p, corpus)
    r = subprocess.run([str(fuzzers / name), "-max_total_time=5", "-max_len=8192", "-timeout=10",
                        "-rss_limit_mb=2048", str(corpus)],
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Done" in r.stderr
