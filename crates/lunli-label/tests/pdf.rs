//! PDFs as qpdf rewrites them — cross-reference streams, the catalog inside a compressed object
//! stream, Flate-compressed metadata: `check` finds the label, `write` appends an incremental
//! update that `qpdf --check` accepts and keeps every original byte, and `write --replace` leaves
//! one label that counts. These tests need `qpdf` on the PATH (.ci/run installs it) and fail
//! without it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use lunli_label::{Aigc, Existing, ImplicitState, Status, check_file, write};

fn aigc() -> Aigc {
    Aigc::generated("acme", "dec-42", "chat")
}

fn qpdf(args: &[&str]) -> String {
    let out = Command::new("qpdf")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("qpdf is needed for these tests (apt-get install qpdf): {e}"));
    // qpdf exits 0 when all is well and 3 on warnings; warnings fail these tests too.
    assert_eq!(
        out.status.code(),
        Some(0),
        "qpdf {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// A one-page PDF with a classic cross-reference table; with `metadata`, a catalog /Metadata
/// stream holding that XMP packet, Flate-compressed.
fn classic(metadata: Option<&str>) -> Vec<u8> {
    let mut objects = vec![
        format!("<< /Type /Catalog /Pages 2 0 R{} >>", if metadata.is_some() { " /Metadata 5 0 R" } else { "" }),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".into(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>".into(),
        "<< /Length 34 >>\nstream\nBT /F1 12 Tf 20 100 Td (Hi) Tj ET\nendstream".into(),
    ];
    let mut binary = Vec::new();
    if let Some(xmp) = metadata {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(xmp.as_bytes()).expect("test fixture");
        binary = z.finish().expect("test fixture");
        objects.push(format!(
            "<< /Type /Metadata /Subtype /XML /Filter /FlateDecode /Length {} >>\nstream\n",
            binary.len()
        ));
    }
    let mut out = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}", i + 1).as_bytes());
        if i == 4 {
            out.extend_from_slice(&binary);
            out.extend_from_slice(b"\nendstream");
        }
        out.extend_from_slice(b"\nendobj\n");
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

fn xmp(aigc: &Aigc) -> String {
    format!(
        "<?xpacket begin=\"\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" dc:format=\"application/pdf\"/>\
         <rdf:Description rdf:about=\"\" xmlns:TC260=\"http://www.tc260.org.cn/ns/AIGC/1.0/\">\
         <TC260:AIGC>{}</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        aigc.to_json().replace('"', "&quot;")
    )
}

/// `bytes` rewritten by qpdf with a cross-reference stream and object streams (the catalog
/// among the compressed objects), streams left as they are.
fn with_object_streams(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let classic = dir.join(format!("classic-{name}"));
    std::fs::write(&classic, bytes).expect("test fixture");
    let out = dir.join(name);
    qpdf(&["--object-streams=generate", "--decode-level=none", path(&classic), path(&out)]);
    let rewritten = std::fs::read(&out).expect("test fixture");
    let text = String::from_utf8_lossy(&rewritten);
    assert!(text.contains("/ObjStm") && text.contains("/XRef"), "qpdf made object and cross-reference streams");
    assert!(!text.contains("/Type /Catalog"), "the catalog is inside a compressed object stream");
    out
}

#[test]
fn labels_in_object_streams_and_compressed_metadata_are_read() {
    let dir = tempfile::tempdir().expect("test fixture");
    let labelled = with_object_streams(dir.path(), "labelled.pdf", &classic(Some(&xmp(&aigc()))));
    let check = check_file(&labelled).expect("a PDF");
    assert_eq!(check.status, Status::Conforming, "{check:#?}");
    assert_eq!(check.implicit.fields, aigc().fields());
    assert_eq!(check.implicit.location.as_deref(), Some("PDF metadata stream XMP → TC260:AIGC"));

    let plain = with_object_streams(dir.path(), "plain.pdf", &classic(None));
    assert_eq!(check_file(&plain).expect("a PDF").status, Status::MissingImplicit);
}

#[test]
fn write_appends_an_update_qpdf_accepts_to_a_pdf_with_cross_reference_streams() {
    let dir = tempfile::tempdir().expect("test fixture");
    let input = with_object_streams(dir.path(), "in.pdf", &classic(None));
    let output = dir.path().join("out.pdf");
    let written = write(&input, &output, &aigc(), Existing::Refuse).unwrap_or_else(|e| panic!("{e}"));
    assert!(written.location.starts_with("PDF metadata stream (object"), "{written:?}");
    let (original, labelled) = (std::fs::read(&input).expect("pdf"), std::fs::read(&output).expect("pdf"));
    assert!(labelled.starts_with(&original), "an incremental update keeps every original byte");
    let update = String::from_utf8_lossy(&labelled[original.len()..]);
    assert!(update.contains("/XRef") && update.contains("/Prev"), "the update's cross-reference is a stream: {update}");
    qpdf(&["--check", path(&output)]);
    let check = check_file(&output).expect("a PDF");
    assert_eq!(check.status, Status::Conforming, "{check:#?}");

    // A compressed packet with other metadata keeps it; the label replaces the old one.
    let newer = Aigc::generated("acme", "dec-43", "chat");
    let compressed = with_object_streams(dir.path(), "meta.pdf", &classic(Some(&xmp(&aigc()))));
    let err = write(&compressed, &output, &newer, Existing::Refuse).expect_err("labelled already");
    assert!(err.to_string().contains("already carries"), "{err}");
    let written = write(&compressed, &output, &newer, Existing::Replace).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(written.replaced.map(|r| r.fields), Some(aigc().fields()));
    qpdf(&["--check", path(&output)]);
    let check = check_file(&output).expect("a PDF");
    assert_eq!((check.status, check.implicit.state), (Status::Conforming, ImplicitState::Present), "{check:#?}");
    assert_eq!(check.implicit.fields, newer.fields(), "the current revision's label counts, the old one is history");
    assert!(String::from_utf8_lossy(&std::fs::read(&output).expect("pdf")).contains("dc:format"));

    // A classic PDF is updated with a classic cross-reference table.
    let classic_in = dir.path().join("classic.pdf");
    std::fs::write(&classic_in, classic(None)).expect("test fixture");
    write(&classic_in, &output, &aigc(), Existing::Refuse).unwrap_or_else(|e| panic!("{e}"));
    qpdf(&["--check", path(&output)]);
    assert_eq!(check_file(&output).expect("a PDF").status, Status::Conforming);
}
