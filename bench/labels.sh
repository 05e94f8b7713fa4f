#!/usr/bin/env bash
# Label check speed: 10,000 mixed files (PNG, WAV, MP3, MP4, GIF, FLAC, PDF, text, HTML; every
# third one labelled) and one 2 GB MP4 whose mdat is a sparse run of zeros. Prints files/s and
# the megabytes the check read against the megabytes of the files (from its JSON summary,
# counted by the library as it reads).
#
#   bash bench/labels.sh [CHECKER] [N_FILES]
#
# CHECKER is a `lunli` binary (run as `lunli label check … --format json`) or, by default, the
# release build of lunli-label's example, which makes the same library call and prints the same
# JSON without building the whole CLI in release:
#
#   cargo build --release -p lunli-label --example label_check
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-target}"
checker="${1:-$target/release/examples/label_check}"
n="${2:-10000}"
if [ "$(basename "$checker")" = lunli ]; then
    check() { "$checker" label check "$@" --format json; }
else
    check() { "$checker" "$@"; }
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work/files" "$n" <<'PY'
import json, os, struct, sys, zlib
root, n = sys.argv[1], int(sys.argv[2])
label = json.dumps({"Label": "1", "ContentProducer": "acme", "ProduceID": "d-1", "ReservedCode1": "",
                    "ContentPropagator": "", "PropagateID": "", "ReservedCode2": ""}, separators=(",", ":"))
xmp = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>'
       + label.replace('"', '&quot;') + '</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>').encode()
def chunk(k, d): return struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d))
def png(i, lab):
    w = h = 64
    raw = b"".join(b"\0" + bytes((x * i + y) & 255 for x in range(w * 3)) for y in range(h))
    extra = chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + xmp) if lab else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + extra + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
def wav(i, lab):
    data = os.urandom(32000)
    body = b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16) + b"data" + struct.pack("<I", len(data)) + data
    if lab: body += b"_PMX" + struct.pack("<I", len(xmp)) + xmp + (b"\0" if len(xmp) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body
def mp3(i, lab):
    frames = (b"\xff\xfb\x90\x00" + bytes(413)) * 60
    if not lab: return frames
    d = b"\x03AIGC\x00" + label.encode()
    def ss(n): return bytes(((n >> 21) & 127, (n >> 14) & 127, (n >> 7) & 127, n & 127))
    frame = b"TXXX" + ss(len(d)) + b"\0\0" + d
    return b"ID3\x04\x00\x00" + ss(len(frame)) + frame + frames
def box(k, d): return struct.pack(">I", len(d) + 8) + k + d
def mp4(i, lab):
    moov = box(b"mvhd", bytes(100))
    uuid = box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + xmp) if lab else b""
    return box(b"ftyp", b"isom\0\0\2\0isom") + box(b"moov", moov) + uuid + box(b"mdat", os.urandom(50000))
def text(i, lab):
    body = "正文。" * 400
    return (("本内容由人工智能生成\n" if lab else "") + body).encode()
def html(i, lab):
    return ("<html><body><p>" + ("AI生成" if lab else "") + "</p><p>" + "段落。" * 500 + "</p></body></html>").encode()
def pdf(i, lab):
    # A one-page PDF with a classic cross-reference table whose offsets are right.
    objs = [b"<< /Type /Catalog /Pages 2 0 R" + (b" /Metadata 5 0 R" if lab else b"") + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>"]
    content = os.urandom(20000)
    objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    if lab:
        packet = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>' + xmp + b'<?xpacket end="w"?>'
        objs.append(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(packet) + packet + b"\nendstream")
    out, offsets = b"%PDF-1.4\n", []
    for k, body in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (k + 1) + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f\r\n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n\r\n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
def gif(i, lab):
    head = b"GIF89a\x40\x00\x40\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    ext = (b"\x21\xff\x0bXMP DataXMP" + xmp + bytes([1]) + bytes(range(255, -1, -1)) + b"\0") if lab else b""
    data = os.urandom(4000)
    blocks = b"".join(bytes([len(data[k:k + 255])]) + data[k:k + 255] for k in range(0, len(data), 255))
    return head + ext + b"\x2c\0\0\0\0\x40\0\x40\0\0\x02" + blocks + b"\0\x3b"
def flac(i, lab):
    info = b"\x00\x00\x00\x22" + bytes(34)
    if lab:
        c = b"AIGC=" + label.encode()
        body = struct.pack("<I", 5) + b"bench" + struct.pack("<I", 1) + struct.pack("<I", len(c)) + c
        info = b"\x00" + info[1:] + b"\x84" + struct.pack(">I", len(body))[1:] + body
    else:
        info = b"\x80" + info[1:]
    return b"fLaC" + info + b"\xff\xf8" + os.urandom(30000)
kinds = [("png", png), ("wav", wav), ("mp3", mp3), ("mp4", mp4), ("txt", text), ("html", html), ("pdf", pdf),
         ("gif", gif), ("flac", flac)]
for i in range(n):
    ext, make = kinds[i % len(kinds)]
    d = os.path.join(root, f"d{i % 100:02d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05d}.{ext}"), "wb") as f:
        f.write(make(i, i % 3 == 0))
# One 2 GB video: ftyp, moov with the label, and an mdat with a 64-bit size over a sparse hole.
big = os.path.join(os.path.dirname(root), "big.mp4")
with open(big, "wb") as f:
    f.write(box(b"ftyp", b"isom\0\0\2\0isom") + box(b"moov", box(b"mvhd", bytes(100))) +
            box(b"uuid", bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC") + xmp))
    size = 2 * 1024**3
    f.write(struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", size - f.tell()))
    f.truncate(size)
PY

summary() {
    python3 -c 'import json,sys; r=json.load(sys.stdin); s=r["summary"]; print(s["files"], s["bytes_read"], s["bytes_total"], s["conforming"], s["unreadable"])'
}
mb() { python3 -c "print(f'{$1/1e6:.2f}')"; }

start=$(date +%s.%N)
read -r files read total ok bad < <(check "$work/files" | summary)
end=$(date +%s.%N)
secs=$(python3 -c "print(f'{$end-$start:.2f}')")
echo "10k mixed: $files files in ${secs}s ($(python3 -c "print(int($files/($end-$start)))") files/s), $ok conforming, $bad unreadable"
echo "10k mixed: read $(mb "$read") MB of $(mb "$total") MB ($(python3 -c "print(f'{100*$read/$total:.2f}')")%)"

start=$(date +%s.%N)
read -r files read total ok bad < <(check "$work/big.mp4" | summary)
end=$(date +%s.%N)
echo "2 GB MP4: $(python3 -c "print(f'{$end-$start:.3f}')")s, read $read bytes of $(mb "$total") MB, conforming: $ok"
