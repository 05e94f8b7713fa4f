//! `lunli ledger …` as an auditor runs it: the real binary over a temporary data directory.
//! Every governance command leaves the ledger covered by a signed head; verification, proofs,
//! export and offline verification; and the exit code 7 when the ledger was tampered with.

use std::path::Path;

use assert_cmd::Command;
use lunli_ledger::{Bundle, Hash};
use serde_json::Value;

fn lunli(data_dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("lunli").expect("the lunli binary is built");
    cmd.env_remove("LUNLI_LANG")
        .env_remove("LUNLI_FORMAT")
        .env_remove("LUNLI_CATALOGUE")
        .env("LANG", "C")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env("COLUMNS", "100")
        .env("LUNLI_DATA_DIR", data_dir)
        .env("LUNLI_ACTOR", "admin");
    cmd
}

fn run(data_dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = lunli(data_dir).args(args).output().expect("lunli runs");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8");
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(data_dir, args);
    assert_eq!(code, 0, "lunli {args:?} failed: {stderr}");
    stdout
}

fn json(data_dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok(data_dir, &all)).expect("JSON output")
}

/// Three governance writes, each its own process.
fn three_people(data_dir: &Path) {
    for id in ["wang-fang", "li-wei", "zhao-min"] {
        ok(data_dir, &["person", "add", id, "--name", id, "--role", "owner"]);
    }
}

fn hash(value: &Value) -> Hash {
    Hash::from_hex(value.as_str().expect("a hex string")).expect("a hash")
}

#[test]
fn every_write_is_covered_by_a_signed_head_that_verifies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, _, stderr) = run(dir.path(), &["ledger", "head"]);
    assert_eq!(code, 4, "no head yet: {stderr}");
    three_people(dir.path());
    let head = json(dir.path(), &["ledger", "head"]);
    assert_eq!(head["size"], 3);
    assert_eq!(head["ledger_size"], 3);
    assert_eq!(head["signature"].as_str().map(str::len), Some(128));
    assert_eq!(head["key_fingerprint"].as_str().map(str::len), Some(64));
    assert!(dir.path().join("ledger-key.pem").exists() && dir.path().join("ledger-key.pub.pem").exists());

    let text = ok(dir.path(), &["ledger", "verify", "--lang", "en"]);
    assert!(text.starts_with("Ledger OK: 3 entries"), "{text}");
    assert!(text.contains("3 signed heads checked"), "{text}");
    let zh = ok(dir.path(), &["ledger", "verify", "--lang", "zh"]);
    assert!(zh.contains("账本核验通过：3 条记录"), "{zh}");
    let report = json(dir.path(), &["ledger", "verify"]);
    assert_eq!((report["ok"].as_bool(), report["size"].as_u64()), (Some(true), Some(3)));
    assert_eq!(report["root"], head["root"]);

    // Nothing grew, so signing again changes nothing; the public key is there for auditors.
    let again = json(dir.path(), &["ledger", "head", "--sign"]);
    assert_eq!((again["size"].as_u64(), again["signed_now"].as_bool()), (Some(3), Some(false)));
    let pem = ok(dir.path(), &["ledger", "export-key"]);
    let file = std::fs::read_to_string(dir.path().join("ledger-key.pub.pem")).expect("public key file");
    assert_eq!(pem.trim_end(), file.trim_end());
}

#[test]
fn proofs_are_printed_verified_and_check_out_independently() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_people(dir.path());
    let proof = json(dir.path(), &["ledger", "proof", "--index", "1"]);
    assert_eq!((proof["index"].as_u64(), proof["size"].as_u64()), (Some(1), Some(3)));
    let path: Vec<Hash> = proof["path"].as_array().expect("path").iter().map(hash).collect();
    lunli_ledger::proof::verify_inclusion(1, 3, &hash(&proof["leaf_hash"]), &path, hash(&proof["root"]))
        .expect("the inclusion proof verifies on its own");
    assert_eq!(proof["entry"]["subject"], "person:li-wei");
    let text = ok(dir.path(), &["ledger", "proof", "--index", "0", "--size", "2", "--lang", "en"]);
    assert!(text.contains("Inclusion proof") && text.contains("Verified"), "{text}");

    let proof = json(dir.path(), &["ledger", "proof", "--from", "1", "--to", "3"]);
    let path: Vec<Hash> = proof["path"].as_array().expect("path").iter().map(hash).collect();
    lunli_ledger::proof::verify_consistency(1, 3, &path, hash(&proof["root1"]), hash(&proof["root2"]))
        .expect("the consistency proof verifies on its own");

    assert_eq!(run(dir.path(), &["ledger", "proof", "--index", "9"]).0, 4, "no such entry");
    assert_eq!(run(dir.path(), &["ledger", "proof", "--from", "3", "--to", "1"]).0, 3, "sizes reversed");
}

#[test]
fn an_export_verifies_offline_without_any_data_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_people(dir.path());
    let bundle_path = dir.path().join("bundle.json");
    let bundle_arg = bundle_path.to_str().expect("UTF-8 path");
    let text = ok(dir.path(), &["ledger", "export", "--out", bundle_arg, "--lang", "en"]);
    assert!(text.contains("Exported 3 entries and 3 signed heads"), "{text}");
    let key_path = dir.path().join("ledger-key.pub.pem");
    let key_arg = key_path.to_str().expect("UTF-8 path");

    // The auditor has only the bundle and the key: the data directory named does not exist and
    // must not be created.
    let nowhere = dir.path().join("no-such-dir");
    let offline = ["ledger", "verify", "--bundle", bundle_arg, "--public-key", key_arg, "--lang", "en"];
    let text = ok(&nowhere, &offline);
    assert!(text.starts_with("Ledger OK: 3 entries"), "{text}");
    assert!(!nowhere.exists(), "offline verification created the data directory");

    // A tampered bundle is rejected with exit 7, naming the entry.
    let mut bundle: Value = serde_json::from_slice(&std::fs::read(&bundle_path).expect("bundle")).expect("JSON");
    bundle["entries"][1]["payload"]["name"] = Value::from("someone else");
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, serde_json::to_vec(&bundle).expect("JSON")).expect("write");
    let args =
        ["ledger", "verify", "--bundle", tampered.to_str().expect("UTF-8"), "--public-key", key_arg, "--lang", "en"];
    let (code, stdout, stderr) = run(&nowhere, &args);
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(stdout.contains("First bad index: 1"), "{stdout}");
    assert!(stderr.contains("entry 1 was modified"), "{stderr}");
    assert!(!nowhere.exists());

    // A bundle whose heads come after its entries (as lunli_ledger::Bundle writes it) verifies too.
    let bundle: Bundle = serde_json::from_slice(&std::fs::read(&bundle_path).expect("bundle")).expect("a bundle");
    let reordered = dir.path().join("reordered.json");
    std::fs::write(&reordered, serde_json::to_vec(&bundle).expect("JSON")).expect("write");
    let args = ["ledger", "verify", "--bundle", reordered.to_str().expect("UTF-8"), "--public-key", key_arg];
    ok(&nowhere, &args);

    // Another key is not the one the heads were signed with.
    let other = dir.path().join("other.pub.pem");
    let key = lunli_ledger::key::generate_signing_key().expect("key");
    lunli_ledger::key::write_verifying_key(&other, &key.verifying_key()).expect("write key");
    let args = ["ledger", "verify", "--bundle", bundle_arg, "--public-key", other.to_str().expect("UTF-8")];
    assert_eq!(run(&nowhere, &args).0, 7);
    // Not a bundle at all is invalid input.
    let args = ["ledger", "verify", "--bundle", key_arg, "--public-key", key_arg];
    assert_eq!(run(&nowhere, &args).0, 3);
}

#[test]
fn a_tampered_database_fails_verification_with_exit_7() {
    let dir = tempfile::tempdir().expect("tempdir");
    three_people(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join("lunli.db")).expect("open the database");
    conn.execute("DELETE FROM ledger_entries WHERE idx = 1", []).expect("delete a row");
    drop(conn);
    let (code, stdout, stderr) = run(dir.path(), &["ledger", "verify", "--lang", "en"]);
    assert_eq!(code, 7, "{stdout}{stderr}");
    assert!(stdout.contains("Ledger verification FAILED") && stdout.contains("First bad index: 1"), "{stdout}");
    assert!(stderr.contains("entry 1 is missing"), "{stderr}");
    let report = run(dir.path(), &["ledger", "verify", "--format", "json"]);
    assert_eq!(report.0, 7);
    let report: Value = serde_json::from_str(&report.1).expect("JSON");
    assert_eq!((report["ok"].as_bool(), report["first_bad_index"].as_u64()), (Some(false), Some(1)));
    assert_eq!(report["problem"]["kind"], "missing");

    // Later writes and heads do not launder the deletion: a new head extends the history the
    // earlier heads signed (from the compact tree stored with them), not the altered one.
    ok(dir.path(), &["person", "add", "qian-li", "--name", "Qian Li"]);
    let (code, stdout, _) = run(dir.path(), &["ledger", "verify", "--lang", "en"]);
    assert_eq!(code, 7);
    assert!(stdout.contains("First bad index: 1"), "{stdout}");
}
