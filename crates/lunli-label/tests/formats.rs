//! Real files of every format, made here: the label is found where each format keeps it,
//! `write` adds one that `check` accepts without touching the content, and broken files of
//! every format are reported, never a panic.

use std::io::Write as _;
use std::path::Path;

use lunli_label::{
    Aigc, Existing, ExplicitState, Format, ImplicitState, LabelCheck, Status, check_bytes, check_file, write,
};

fn aigc() -> Aigc {
    Aigc::generated("acme", "dec-42", "chat")
}

fn png() -> Vec<u8> {
    let (w, h) = (8u32, 6u32);
    let mut raw = Vec::new();
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.extend_from_slice(&[(x * 30) as u8, (y * 40) as u8, 128]);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&raw).expect("test fixture");
    let idat = z.finish().expect("test fixture");
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", ihdr), (b"IDAT", idat), (b"IEND", Vec::new())] {
        out.extend_from_slice(&png_chunk(kind, &data));
    }
    out
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
    out
}

fn pixels(w: u16, h: u16) -> Vec<u8> {
    (0..u32::from(w) * u32::from(h)).flat_map(|i| [(i * 7) as u8, (i * 3) as u8, 200]).collect()
}

fn jpeg() -> Vec<u8> {
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 80)
        .encode(&pixels(16, 12), 16, 12, jpeg_encoder::ColorType::Rgb)
        .expect("test fixture");
    out
}

fn webp() -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(&pixels(16, 12), 16, 12, image_webp::ColorType::Rgb8)
        .expect("test fixture");
    out
}

fn wav() -> Vec<u8> {
    let samples: Vec<u8> = (0..800u32).flat_map(|i| (((i * 97) % 2000) as i16 - 1000).to_le_bytes()).collect();
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes()); // PCM
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&16000u32.to_le_bytes());
    fmt.extend_from_slice(&2u16.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let mut body = b"WAVE".to_vec();
    for (id, data) in [(b"fmt ", fmt), (b"data", samples)] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&data);
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

/// Three MPEG-1 Layer III frames (128 kbit/s, 44.1 kHz: 417 bytes each) of silence.
fn mp3_frames() -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        out.extend_from_slice(&[0; 413]);
    }
    out
}

fn id3_txxx(description: &str, value: &str) -> Vec<u8> {
    let mut data = vec![3];
    data.extend_from_slice(description.as_bytes());
    data.push(0);
    data.extend_from_slice(value.as_bytes());
    let mut frame = b"TXXX".to_vec();
    frame.extend_from_slice(&synchsafe(data.len() as u32));
    frame.extend_from_slice(&[0, 0]);
    frame.extend_from_slice(&data);
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&synchsafe(frame.len() as u32 + 16));
    tag.extend_from_slice(&frame);
    tag.extend_from_slice(&[0; 16]); // padding
    tag
}

fn synchsafe(n: u32) -> [u8; 4] {
    [(n >> 21) as u8 & 0x7f, (n >> 14) as u8 & 0x7f, (n >> 7) as u8 & 0x7f, n as u8 & 0x7f]
}

/// A 1×1 GIF89a with an XMP application extension holding `xmp`, before the image.
fn gif(xmp: Option<&str>) -> Vec<u8> {
    let mut out = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff".to_vec();
    if let Some(xmp) = xmp {
        out.extend_from_slice(b"\x21\xff\x0bXMP DataXMP");
        out.extend_from_slice(xmp.as_bytes());
        // The XMP specification's magic trailer: 0x01, 0xFF … 0x00, then the block terminator.
        out.push(1);
        out.extend((0..=255u8).rev());
        out.push(0);
    }
    out.extend_from_slice(b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b");
    out
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// ftyp, moov with udta/meta/keys+ilst holding `AIGC` (as ffmpeg writes with use_metadata_tags),
/// then an mdat of `media` bytes.
fn mp4(value: Option<&str>, media: usize) -> Vec<u8> {
    let mut out = mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41");
    let mut moov = mp4_box(b"mvhd", &[0; 100]);
    if let Some(value) = value {
        let hdlr = mp4_box(b"hdlr", b"\0\0\0\0\0\0\0\0mdta\0\0\0\0\0\0\0\0\0\0\0\0\0");
        let mut keys = vec![0, 0, 0, 0, 0, 0, 0, 1];
        keys.extend_from_slice(&12u32.to_be_bytes());
        keys.extend_from_slice(b"mdtaAIGC");
        let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0];
        data.extend_from_slice(value.as_bytes());
        let item = mp4_box(&1u32.to_be_bytes(), &mp4_box(b"data", &data));
        let meta = [hdlr, mp4_box(b"keys", &keys), mp4_box(b"ilst", &item)].concat();
        moov.extend(mp4_box(b"udta", &mp4_box(b"meta", &[vec![0, 0, 0, 0], meta].concat())));
    }
    out.extend(mp4_box(b"moov", &moov));
    out.extend(mp4_box(b"mdat", &vec![0; media]));
    out
}

fn flac(comment: Option<&str>) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    let last = if comment.is_some() { 0 } else { 0x80 };
    out.extend_from_slice(&[last, 0, 0, 34]);
    out.extend_from_slice(&[0x10, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x0a, 0xc4, 0x40, 0xf0, 0, 0, 0, 0]);
    out.extend_from_slice(&[0; 16]);
    if let Some(comment) = comment {
        let mut block = 4u32.to_le_bytes().to_vec();
        block.extend_from_slice(b"test");
        block.extend_from_slice(&1u32.to_le_bytes());
        block.extend_from_slice(&(comment.len() as u32).to_le_bytes());
        block.extend_from_slice(comment.as_bytes());
        out.extend_from_slice(&[0x84, 0, 0, block.len() as u8]);
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0xFF, 0xF8, 0x69, 0x08, 0, 0, 0, 0]); // a frame header's start
    out
}

/// A one-page PDF with a classic cross-reference table whose offsets are right.
fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
        "<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 100 Td (Hi) Tj ET\nendstream",
    ];
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R /ID [<ab> <ab>] >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

fn checked(name: &str, bytes: &[u8]) -> LabelCheck {
    check_bytes(name, bytes).unwrap_or_else(|| panic!("{name} is a format lunli reads"))
}

fn assert_labelled(check: &LabelCheck, location: &str) {
    assert_eq!(check.status, Status::Conforming, "{check:#?}");
    assert_eq!(check.implicit.state, ImplicitState::Present);
    assert_eq!(check.implicit.fields, aigc().fields());
    assert!(check.implicit.location.as_deref().is_some_and(|l| l.starts_with(location)), "{check:#?}");
}

fn labelled_by_write(dir: &Path, name: &str, original: &[u8]) -> (LabelCheck, Vec<u8>) {
    let input = dir.join(name);
    let output = dir.join(format!("labelled-{name}"));
    std::fs::write(&input, original).expect("test fixture");
    assert_eq!(check_file(&input).expect("test fixture").status, Status::MissingImplicit, "{name} starts unlabelled");
    write(&input, &output, &aigc(), Existing::Refuse).unwrap_or_else(|e| panic!("{name}: {e}"));
    (check_file(&output).expect("test fixture"), std::fs::read(&output).expect("test fixture"))
}

/// The bytes from the first occurrence of `marker` on.
fn from_marker<'a>(bytes: &'a [u8], marker: &[u8]) -> &'a [u8] {
    let at = bytes.windows(marker.len()).position(|w| w == marker).expect("marker");
    &bytes[at..]
}

#[test]
fn write_then_check_is_conforming_and_the_content_is_untouched() {
    let dir = tempfile::tempdir().expect("test fixture");

    let original = png();
    let (check, out) = labelled_by_write(dir.path(), "a.png", &original);
    assert_labelled(&check, "PNG iTXt XML:com.adobe.xmp");
    assert_eq!(from_marker(&out, b"IDAT"), from_marker(&original, b"IDAT"), "image data and IEND unchanged");

    let original = jpeg();
    let (check, out) = labelled_by_write(dir.path(), "a.jpg", &original);
    assert_labelled(&check, "JPEG APP1 XMP");
    assert_eq!(from_marker(&out, &[0xFF, 0xDA]), from_marker(&original, &[0xFF, 0xDA]), "the scan unchanged");

    let original = webp();
    let (check, out) = labelled_by_write(dir.path(), "a.webp", &original);
    assert_labelled(&check, "WebP XMP  chunk");
    assert!(out.windows(original.len() - 12).any(|w| w == &original[12..]), "the VP8L chunk unchanged");
    assert_eq!(&out[12..16], b"VP8X");
    assert_eq!(u32::from_le_bytes(out[4..8].try_into().expect("test fixture")) as usize, out.len() - 8, "RIFF size");

    let original = wav();
    let (check, out) = labelled_by_write(dir.path(), "a.wav", &original);
    assert_labelled(&check, "WAV _PMX chunk");
    assert_eq!(&out[12..original.len()], &original[12..], "fmt and data chunks unchanged");
    assert_eq!(u32::from_le_bytes(out[4..8].try_into().expect("test fixture")) as usize, out.len() - 8, "RIFF size");

    let original = mp3_frames();
    let (check, out) = labelled_by_write(dir.path(), "a.mp3", &original);
    assert_labelled(&check, "ID3v2.4 TXXX AIGC");
    assert!(out.ends_with(&original), "audio frames unchanged");

    // An MP3 with a tag already (here an unrelated TXXX) keeps its frames and gains the label.
    let tagged = [id3_txxx("comment", "hello"), mp3_frames()].concat();
    let (check, out) = labelled_by_write(dir.path(), "b.mp3", &tagged);
    assert_labelled(&check, "ID3v2.4 TXXX AIGC");
    assert!(out.ends_with(&mp3_frames()));
    assert!(out.windows(5).any(|w| w == b"hello"));

    let original = pdf();
    let (check, out) = labelled_by_write(dir.path(), "a.pdf", &original);
    assert_labelled(&check, "PDF metadata stream XMP");
    assert!(out.starts_with(&original), "an incremental update keeps every original byte");
    assert!(String::from_utf8_lossy(&out).contains("/Prev"));
}

#[test]
fn a_labelled_file_is_not_labelled_twice_and_other_formats_are_refused() {
    let dir = tempfile::tempdir().expect("test fixture");
    let (_, out) = labelled_by_write(dir.path(), "a.png", &png());
    let again = dir.path().join("again.png");
    std::fs::write(&again, out).expect("test fixture");
    let err = write(&again, &dir.path().join("x.png"), &aigc(), Existing::Refuse).expect_err("refused");
    assert!(err.to_string().contains("already carries an implicit label (PNG iTXt"), "{err}");

    let text_path = dir.path().join("a.txt");
    std::fs::write(&text_path, "本内容由人工智能生成").expect("test fixture");
    let err = write(&text_path, &dir.path().join("b.txt"), &aigc(), Existing::Refuse).expect_err("refused");
    assert!(err.to_string().contains("text is not one of them"), "{err}");

    let bad = Aigc { label: "7".into(), ..aigc() };
    let err = write(&dir.path().join("a.png"), &dir.path().join("c.png"), &bad, Existing::Refuse).expect_err("refused");
    assert!(err.to_string().contains("Label is \"7\""), "{err}");
}

#[test]
fn labels_are_found_where_each_format_keeps_them() {
    let json = aigc().to_json();
    let xmp_packet = format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\">\
         <TC260:AIGC>{}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>",
        json.replace('"', "&quot;")
    );

    // PNG tEXt keyed AIGC, with the gateway's {"AIGC": {…}} wrapping.
    let mut p = png();
    let text = [b"AIGC\0".to_vec(), format!("{{\"AIGC\":{json}}}").into_bytes()].concat();
    p.splice(33..33, png_chunk(b"tEXt", &text));
    assert_labelled(&checked("t.png", &p), "PNG tEXt AIGC");

    assert_labelled(&checked("a.gif", &gif(Some(&xmp_packet))), "GIF XMP application extension");
    assert_eq!(checked("b.gif", &gif(None)).status, Status::MissingImplicit);

    assert_labelled(&checked("a.mp3", &[id3_txxx("AIGC", &json), mp3_frames()].concat()), "ID3v2.4 TXXX AIGC");
    assert_labelled(&checked("a.flac", &flac(Some(&format!("AIGC={json}")))), "FLAC Vorbis comment AIGC");
    assert_eq!(checked("b.flac", &flac(None)).status, Status::MissingImplicit);

    let video = checked("a.mp4", &mp4(Some(&json), 4096));
    assert_labelled(&video, "MP4 moov/udta/meta/ilst AIGC");
    assert!(video.bytes_read < 1024, "the mdat is not read: {}", video.bytes_read);
    assert_eq!(checked("b.mov", &mp4(None, 10)).status, Status::MissingImplicit);

    let page = format!(
        "<html><head><meta name=\"AIGC\" content=\"{}\"></head><body><p>本内容由人工智能生成</p><p>正文</p></body></html>",
        json.replace('"', "&quot;")
    );
    let html = checked("a.html", page.as_bytes());
    assert_labelled(&html, "HTML <meta name=\"AIGC\">");
    assert_eq!(html.explicit.state, ExplicitState::Present);
    assert_eq!(html.explicit.position.as_deref(), Some("start"));

    let note = checked("a.txt", "今天的天气预报如下。\n明天晴。\n（本文由AI生成）".as_bytes());
    assert_eq!((note.status, note.implicit.state), (Status::Conforming, ImplicitState::NotApplicable));
    assert_eq!(note.explicit.position.as_deref(), Some("end"));
    let plain = checked("b.md", "---\ntitle: x\n---\n# 天气\n明天晴。".as_bytes());
    assert_eq!(plain.status, Status::MissingExplicit);
    assert_eq!(plain.format, Format::Markdown);

    assert!(check_bytes("notes.bin", b"\x00\x01 not a format").is_none());
}

#[test]
fn malformed_labels_say_which_field_and_why() {
    let mut fields = aigc();
    fields.label = "yes".into();
    fields.produce_id = String::new();
    let mp3 = [id3_txxx("AIGC", &fields.to_json()), mp3_frames()].concat();
    let check = checked("a.mp3", &mp3);
    assert_eq!(check.status, Status::Malformed);
    let problems: Vec<_> =
        check.implicit.problems.iter().map(|p| (p.field.clone().unwrap_or_default(), p.code.clone())).collect();
    assert_eq!(problems, [("Label".to_string(), "label_value".to_string()), ("ProduceID".into(), "empty".into())]);

    // Two labels in one file: the standard keeps one copy.
    let json = aigc().to_json();
    let mut p = png();
    for _ in 0..2 {
        p.splice(33..33, png_chunk(b"tEXt", &[b"AIGC\0".to_vec(), json.clone().into_bytes()].concat()));
    }
    let check = checked("two.png", &p);
    assert_eq!(check.status, Status::Malformed);
    assert_eq!(check.implicit.problems[0].code, "duplicate");
}

/// Every prefix of every format's file and a sprinkling of corrupted bytes: reported, never a
/// panic.
#[test]
fn truncated_and_garbled_files_are_reported_not_panicked_on() {
    let json = aigc().to_json();
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("a.png", png()),
        ("a.jpg", jpeg()),
        ("a.webp", webp()),
        ("a.wav", wav()),
        ("a.gif", gif(Some("<x:xmpmeta/>"))),
        ("a.mp3", [id3_txxx("AIGC", &json), mp3_frames()].concat()),
        ("a.flac", flac(Some(&format!("AIGC={json}")))),
        ("a.mp4", mp4(Some(&json), 64)),
        ("a.pdf", pdf()),
        ("a.html", b"<html><meta name='AIGC' content='{}'><body>AI\xe7\x94\x9f</body>".to_vec()),
    ];
    let mut unreadable = 0;
    for (name, bytes) in &samples {
        for cut in 0..bytes.len() {
            if let Some(check) = check_bytes(name, &bytes[..cut])
                && check.status == Status::Unreadable
            {
                unreadable += 1;
                assert!(check.error.as_deref().is_some_and(|e| !e.is_empty()));
            }
        }
        let mut state = 0x9E37_79B9u32;
        for round in 0..300 {
            let mut garbled = bytes.clone();
            for _ in 0..1 + round % 8 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % garbled.len();
                garbled[at] = (state >> 8) as u8;
            }
            let _ = check_bytes(name, &garbled);
        }
    }
    assert!(unreadable > 100, "truncated files are reported as unreadable ({unreadable})");
}

/// `--replace` where the old label sits somewhere `write` does not write (an MP4 `ilst` item):
/// the copy would hold two labels, so nothing is written and the error says why.
#[test]
fn a_replacement_that_would_leave_two_labels_is_refused() {
    let dir = tempfile::tempdir().expect("test fixture");
    let input = dir.path().join("ilst.mp4");
    std::fs::write(&input, mp4(Some(&aigc().to_json()), 64)).expect("test fixture");
    let output = dir.path().join("out.mp4");
    let err = write(&input, &output, &Aigc::generated("acme", "dec-43", ""), Existing::Replace).expect_err("refused");
    assert!(err.to_string().contains("would not carry exactly the label written"), "{err}");
    assert!(err.to_string().contains("MP4 moov/udta/meta/ilst AIGC"), "the old place is named: {err}");
    assert!(!output.exists(), "nothing is written");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1, "no temporary file is left behind");
}

/// Prefixes and garbled copies of a file of every format `write` writes: it refuses or writes a
/// conforming copy, never panics.
#[test]
fn write_on_damaged_files_errs_or_writes_a_conforming_copy() {
    let dir = tempfile::tempdir().expect("test fixture");
    let output = dir.path().join("out");
    let files = [
        ("a.gif", gif(None)),
        ("a.flac", flac(None)),
        ("a.mp4", mp4(None, 64)),
        ("a.pdf", pdf()),
        ("a.png", png()),
        ("a.jpg", jpeg()),
        ("a.webp", webp()),
        ("a.wav", wav()),
        ("a.mp3", [id3_txxx("comment", "hello"), mp3_frames()].concat()),
    ];
    for (name, bytes) in files {
        let input = dir.path().join(name);
        // Every prefix of the small files, about 300 evenly spaced ones of the larger.
        let cuts = (0..bytes.len()).step_by(1 + bytes.len() / 300).map(|cut| bytes[..cut].to_vec());
        // And 60 copies with a few bytes garbled.
        let mut state = 0x2545_F491u32;
        let garbled = (0..60).map(|round| {
            let mut g = bytes.clone();
            for _ in 0..1 + round % 4 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % g.len();
                g[at] = (state >> 8) as u8;
            }
            g
        });
        for (i, damaged) in cuts.chain(garbled).enumerate() {
            std::fs::write(&input, &damaged).expect("test fixture");
            if write(&input, &output, &aigc(), Existing::Refuse).is_ok() {
                let check = check_file(&output).expect("a format lunli reads");
                assert_eq!(check.status, Status::Conforming, "{name} damaged copy {i}: {check:#?}");
            }
        }
    }
}
