#!/bin/sh
# Builds the libFuzzer harness for the MIME parser with Debian's clang
# (apt-get install -y clang), ASan and UBSan, straight from the lib sources.
# Usage: tests/fuzz/build.sh [OUTDIR]     (default: /tmp/satchel-fuzz)
# Then see tests/fuzz/README for how to run it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:-/tmp/satchel-fuzz}
mkdir -p "$out"
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/lib" \
    "$here/fuzz_message.c" "$top"/lib/message_*.c "$top/lib/buf.c" -lz \
    -o "$out/fuzz_message"
echo "built $out/fuzz_message"
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/lib" "$here/fuzz_imap_search.c" "$top"/imapd/leaflex.c "$top"/imapd/msgview.c \
    "$top"/imapd/seqset.c "$top"/imapd/mutf7.c "$top"/imapd/fetch.c "$top"/imapd/searchtext.c \
    "$top"/imapd/search.c "$top"/imapd/sortkeys.c "$top"/imapd/sort.c "$top"/imapd/thread.c \
    "$top"/lib/message_*.c "$top/lib/buf.c" -lz -o "$out/fuzz_imap_search"
echo "built $out/fuzz_imap_search"
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/lib" -I"$top/imapd" \
    "$here/fuzz_imap_parse.c" "$top/imapd/parse.c" "$top/lib/buf.c" "$top/lib/prot.c" \
    "$top/lib/config.c" "$top/lib/log.c" -lz \
    -o "$out/fuzz_imap_parse"
echo "built $out/fuzz_imap_parse"
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$top/lib" -I"$top/lmtpd" "$here/fuzz_lmtp.c" "$top/lmtpd/lmtp_parse.c" "$top/lib/buf.c" \
    -o "$out/fuzz_lmtp"
echo "built $out/fuzz_lmtp"
