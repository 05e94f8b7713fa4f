//! The transparency-dev/merkle test vectors (RFC 6962 / RFC 9162), from the shared data
//! directory beside the repository: every case with `wantErr: false` must verify and every case
//! with `wantErr: true` must be rejected; proofs built from the reference leaves must equal the
//! vectors' proofs, and roots built from them must equal the vectors' roots.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use lunli_ledger::proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use lunli_ledger::{CompactTree, Hash, leaf_hash, tree};
use serde::Deserialize;

/// The eight reference leaves of Certificate Transparency's test data (SOURCE.md), in order.
const REFERENCE_LEAVES: [&str; 8] =
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];

/// Roots of the first 1..=8 reference leaves, from RFC 6962's reference test data.
const REFERENCE_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionCase {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyCase {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn vectors_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/merkle-vectors");
    assert!(
        dir.is_dir(),
        "the Merkle test vectors are missing: expected the directory {} (the repository is cloned with \
         `shared/` beside it; see shared/data/merkle-vectors/SOURCE.md). These tests must not be skipped.",
        dir.display()
    );
    dir
}

/// Every `.json` file under `dir`, recursively, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let listing = fs::read_dir(&next).unwrap_or_else(|err| panic!("cannot list {}: {err}", next.display()));
        for item in listing {
            let path = item.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "json") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn read_case<T: for<'de> Deserialize<'de>>(path: &Path) -> T {
    let text = fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{} is not a test case: {err}", path.display()))
}

/// Base64 to bytes; every vector value is valid base64, including the empty string.
fn bytes(text: &str) -> Vec<u8> {
    BASE64.decode(text).unwrap_or_else(|err| panic!("{text:?} is not base64: {err}"))
}

/// A leaf or proof hash must be 32 bytes to be hashed; a vector value of another length can
/// only be rejected, and is (as `Err`), exactly as by the reference implementation.
fn hash(text: &str) -> Result<Hash, String> {
    Hash::try_from(bytes(text).as_slice()).map_err(|err| err.to_string())
}

fn hashes(texts: &Option<Vec<String>>) -> Result<Vec<Hash>, String> {
    texts.iter().flatten().map(|text| hash(text)).collect()
}

fn reference_leaf_hashes() -> Vec<Hash> {
    REFERENCE_LEAVES.iter().map(|leaf| leaf_hash(&hex::decode(leaf).unwrap())).collect()
}

/// Cases in the numbered folders are built from the reference leaves.
fn uses_reference_leaves(path: &Path, kind: &str) -> bool {
    let relative = path.strip_prefix(vectors_dir().join(kind)).unwrap();
    relative.components().next().is_some_and(|first| first.as_os_str().to_string_lossy().parse::<u32>().is_ok())
}

fn relative(path: &Path) -> String {
    path.strip_prefix(vectors_dir()).unwrap_or(path).display().to_string()
}

#[test]
fn every_inclusion_vector_is_judged_as_expected() {
    let files = json_files(&vectors_dir().join("inclusion"));
    assert!(files.len() >= 90, "only {} inclusion vectors found", files.len());
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let case: InclusionCase = read_case(path);
        let verdict = hash(&case.leaf_hash).and_then(|leaf| {
            let proof = hashes(&case.proof)?;
            verify_inclusion(case.leaf_idx, case.tree_size, &leaf, &proof, bytes(&case.root))
                .map_err(|err| err.to_string())
        });
        match (&verdict, case.want_err) {
            (Ok(()), false) => accepted += 1,
            (Err(_), true) => rejected += 1,
            (Ok(()), true) => failures.push(format!("{} ({}): accepted, want rejected", relative(path), case.desc)),
            (Err(err), false) => {
                failures.push(format!("{} ({}): rejected ({err}), want accepted", relative(path), case.desc))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inclusion vectors misjudged:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(accepted >= 5 && rejected >= 80, "accepted {accepted}, rejected {rejected}");
}

#[test]
fn every_consistency_vector_is_judged_as_expected() {
    let files = json_files(&vectors_dir().join("consistency"));
    assert!(files.len() >= 90, "only {} consistency vectors found", files.len());
    let mut failures = Vec::new();
    let (mut accepted, mut rejected) = (0, 0);
    for path in &files {
        let case: ConsistencyCase = read_case(path);
        let verdict = hashes(&case.proof).and_then(|proof| {
            verify_consistency(case.size1, case.size2, &proof, bytes(&case.root1), bytes(&case.root2))
                .map_err(|err| err.to_string())
        });
        match (&verdict, case.want_err) {
            (Ok(()), false) => accepted += 1,
            (Err(_), true) => rejected += 1,
            (Ok(()), true) => failures.push(format!("{} ({}): accepted, want rejected", relative(path), case.desc)),
            (Err(err), false) => {
                failures.push(format!("{} ({}): rejected ({err}), want accepted", relative(path), case.desc))
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} consistency vectors misjudged:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    assert!(accepted >= 5 && rejected >= 80, "accepted {accepted}, rejected {rejected}");
}

#[test]
fn tree_builders_reproduce_the_reference_roots_for_every_size() {
    let leaves = reference_leaf_hashes();
    let mut compact = CompactTree::new();
    for (size, expected) in (1..=8).zip(REFERENCE_ROOTS) {
        compact.push(leaves[size - 1]);
        let expected = Hash::from_hex(expected).unwrap();
        assert_eq!(tree::root(&leaves[..size]), expected, "recursive root of size {size}");
        assert_eq!(compact.root(), expected, "compact root of size {size}");
    }
    assert_eq!(
        compact.root().to_base64(),
        "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=",
        "SOURCE.md's root of all eight"
    );
}

#[test]
fn happy_path_vectors_match_what_we_build_from_the_reference_leaves() {
    let leaves = reference_leaf_hashes();
    let mut checked = 0;
    for path in json_files(&vectors_dir().join("inclusion")) {
        let case: InclusionCase = read_case(&path);
        if case.want_err || !uses_reference_leaves(&path, "inclusion") {
            continue;
        }
        let size = case.tree_size as usize;
        assert_eq!(tree::root(&leaves[..size]).to_base64(), case.root, "{}", relative(&path));
        assert_eq!(leaves[case.leaf_idx as usize].to_base64(), case.leaf_hash, "{}", relative(&path));
        let built = inclusion_proof(leaves.as_slice(), case.leaf_idx, case.tree_size).unwrap();
        assert_eq!(Ok(built), hashes(&case.proof), "{}", relative(&path));
        checked += 1;
    }
    for path in json_files(&vectors_dir().join("consistency")) {
        let case: ConsistencyCase = read_case(&path);
        if case.want_err || !uses_reference_leaves(&path, "consistency") {
            continue;
        }
        assert_eq!(tree::root(&leaves[..case.size1 as usize]).to_base64(), case.root1, "{}", relative(&path));
        assert_eq!(tree::root(&leaves[..case.size2 as usize]).to_base64(), case.root2, "{}", relative(&path));
        let built = consistency_proof(leaves.as_slice(), case.size1, case.size2).unwrap();
        assert_eq!(Ok(built), hashes(&case.proof), "{}", relative(&path));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} happy-path vectors built from the reference leaves");
}
