//! `lunli label check|write` end to end: the gateway's own `labels.implicit` block written into a
//! real PNG and WAV made here and accepted by `check`; `--strict` exits 5 on a tree with an
//! unlabelled file; `--system` lands as evidence on C-16-05.

mod common;

use std::io::Write as _;

use common::{Data, write};
use lunli_governance::runtime::{ContentKind, DecisionRequest, Impact, SystemPolicy, decide};

fn png() -> Vec<u8> {
    let mut z = flate2_free_idat();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let ihdr = [0, 0, 0, 2, 0, 0, 0, 2, 8, 0, 0, 0, 0];
    for (kind, data) in [(&b"IHDR"[..], &ihdr[..]), (b"IDAT", &z[..]), (b"IEND", &[][..])] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc32(&[kind, data].concat()).to_be_bytes());
    }
    z.clear();
    out
}

/// A 2×2 greyscale image's IDAT: a zlib stream of stored (uncompressed) blocks.
fn flate2_free_idat() -> Vec<u8> {
    let raw = [0u8, 10, 20, 0, 30, 40];
    let mut out = vec![0x78, 0x01, 0x01, raw.len() as u8, 0, !(raw.len() as u8), 0xFF];
    out.extend_from_slice(&raw);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn wav() -> Vec<u8> {
    let mut body = b"WAVEfmt ".to_vec();
    body.extend_from_slice(&16u32.to_le_bytes());
    body.extend_from_slice(&[1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0]);
    body.extend_from_slice(b"data");
    body.extend_from_slice(&8u32.to_le_bytes());
    body.extend_from_slice(&[1, 0, 2, 0, 3, 0, 4, 0]);
    [b"RIFF".to_vec(), (body.len() as u32).to_le_bytes().to_vec(), body].concat()
}

/// A decision the gateway's rules make for generated images, as the gateway returns it.
fn decision_json() -> serde_json::Value {
    let policy = SystemPolicy {
        id: "image-gen".into(),
        name: "Image generator".into(),
        tier: None,
        approved: true,
        purposes: vec![],
        functions: vec![],
        limitations: vec![],
        review_below_confidence: 0.5,
        review_at_impact: Impact::High,
        provider: "acme-ai".into(),
    };
    let request = DecisionRequest {
        system: "image-gen".into(),
        subject: "u1".into(),
        purpose: None,
        impact: Some(Impact::Low),
        confidence: Some(0.9),
        channel: None,
        content: Some(ContentKind::Image),
    };
    serde_json::to_value(decide(Some(&policy), &[], None, &request, "dec-7f3a")).expect("JSON")
}

#[test]
fn the_gateways_implicit_label_round_trips_through_write_and_check() {
    let data = Data::new();
    let dir = data.dir.path();
    let decision = decision_json();
    let decision_file = write(dir, "decision.json", &decision.to_string());
    let implicit = &decision["labels"]["implicit"]["AIGC"];
    assert_eq!(implicit["ProduceID"], "dec-7f3a");

    for (name, bytes) in [("gen.png", png()), ("gen.wav", wav())] {
        let input = dir.join(name);
        std::fs::File::create(&input).and_then(|mut f| f.write_all(&bytes)).expect("write");
        let output = dir.join(format!("labelled-{name}"));
        let written = data.json(
            "ci",
            &[
                "label",
                "write",
                &input.display().to_string(),
                "-o",
                &output.display().to_string(),
                "--from-decision",
                &decision_file,
            ],
        );
        assert_eq!(&written["label"], implicit, "write writes exactly the gateway's block");
        let report = data.json("ci", &["label", "check", &output.display().to_string()]);
        assert_eq!(report["version"], 1);
        assert_eq!(report["passed"], true, "{report:#}");
        assert_eq!(&report["files"][0]["implicit"]["fields"], implicit, "check reads back the gateway's block");
        let labelled = std::fs::read(&output).expect("read");
        assert!(report["summary"]["bytes_read"].as_u64().expect("bytes") <= labelled.len() as u64);
    }

    // The flags give the same label as the gateway's block for the same producer and id.
    let out = dir.join("flags.png");
    data.ok(
        "ci",
        &[
            "label",
            "write",
            &dir.join("gen.png").display().to_string(),
            "-o",
            &out.display().to_string(),
            "--producer",
            "acme-ai",
            "--produce-id",
            "dec-7f3a",
            "--system-id",
            "image-gen",
        ],
    );
    let report = data.json("ci", &["label", "check", &out.display().to_string()]);
    assert_eq!(&report["files"][0]["implicit"]["fields"], implicit);
}

#[test]
fn strict_fails_a_tree_with_an_unlabelled_file_and_system_records_evidence() {
    let data = Data::new();
    let tree = data.dir.path().join("out");
    std::fs::create_dir_all(tree.join("img")).expect("mkdir");
    std::fs::write(tree.join("img/plain.png"), png()).expect("png");
    std::fs::write(tree.join("answer.txt"), "明天晴。\n（本回答由人工智能生成）").expect("txt");
    std::fs::write(tree.join("notes.bin"), [0u8, 1, 2]).expect("bin");
    let tree = tree.display().to_string();

    let output = data.lunli("ci").args(["label", "check", &tree, "--strict"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(5), "{}", String::from_utf8_lossy(&output.stderr));
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("plain.") && table.contains("missing implicit label"), "{table}");
    assert!(table.contains("2 files: 1 conforming, 1 missing the implicit label"), "{table}");
    assert!(table.contains("1 of other formats skipped"), "{table}");

    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let report = data.json("li-wei", &["label", "check", &tree, "--system", "credit-scoring"]);
    assert_eq!(report["evidence"][0]["control"], "C-16-05");
    let assessment = data.json("admin", &["assess", "credit-scoring"]);
    let controls = assessment["controls"].as_array().expect("controls");
    let state = controls.iter().find(|c| c["control"] == "C-16-05").expect("C-16-05 in the assessment");
    let item = &state["evidence"][0]["item"];
    assert_eq!((item["audit"].as_str(), item["passed"].as_bool()), (Some("label"), Some(false)));
    assert_eq!(item["summary"]["summary"]["missing_implicit"], 1);
    assert!(item["summary"]["failing"][0]["path"].as_str().is_some_and(|p| p.ends_with("plain.png")));

    // The system report shows the counts, typed, in both languages.
    let json = data.dir.path().join("report.json").display().to_string();
    data.ok("chen-jie", &["report", "credit-scoring", "--out", &json]);
    let document: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("written")).expect("JSON");
    let audits = document["report"]["audits"].as_array().expect("audits");
    let label = audits.iter().find(|a| a["audit"] == "label").expect("the label check in the report");
    assert_eq!(label["labels"]["missing_implicit"], 1, "{label:#}");
    assert_eq!((label["labels"]["files"].as_u64(), label["labels"]["skipped"].as_u64()), (Some(2), Some(1)));
    let html = data.dir.path().join("report.html").display().to_string();
    data.ok("chen-jie", &["--lang", "both", "report", "credit-scoring", "--out", &html]);
    let page = std::fs::read_to_string(&html).expect("report");
    assert!(page.contains("缺少隐式标识") && page.contains("missing implicit label"), "counts in both languages");

    let bad = data
        .lunli("ci")
        .args(["label", "write", &format!("{tree}/answer.txt"), "-o", "x.txt", "--producer", "a", "--produce-id", "1"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("text is not one of them"));
}

#[test]
fn replace_swaps_a_label_and_reports_the_old_values() {
    let data = Data::new();
    let dir = data.dir.path();
    let input = dir.join("gen.png");
    std::fs::write(&input, png()).expect("png");
    let (input, labelled) = (input.display().to_string(), dir.join("labelled.png").display().to_string());
    let flags = |id: &'static str| ["--producer", "acme-ai", "--produce-id", id];
    data.ok("ci", &[&["label", "write", &input, "-o", &labelled][..], &flags("dec-1")].concat());

    let again = data
        .lunli("ci")
        .args([&["label", "write", &labelled, "-o", &labelled][..], &flags("dec-2")].concat())
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(3), "a labelled file is refused without --replace");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--replace"), "the refusal names the way out");

    let written =
        data.json("ci", &[&["label", "write", &labelled, "-o", &labelled, "--replace"][..], &flags("dec-2")].concat());
    assert_eq!(written["written"]["replaced"]["fields"]["ProduceID"], "dec-1", "{written:#}");
    assert_eq!(written["written"]["replaced"]["conforming"], true);
    let report = data.json("ci", &["label", "check", &labelled]);
    assert_eq!(report["files"][0]["implicit"]["fields"]["ProduceID"], "dec-2", "{report:#}");
    assert_eq!(report["passed"], true);

    let table = data
        .lunli("ci")
        .args([&["label", "write", &labelled, "-o", &labelled, "--replace"][..], &flags("dec-3")].concat())
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("Replaced a conforming implicit label"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );
}
