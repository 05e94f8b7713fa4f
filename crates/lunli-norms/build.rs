//! Embeds every file of the workspace's `catalogue/` directory into the library, so that the
//! binary carries the norms with it and a new catalogue file needs no code change.

// A build script reports failure by panicking, with the message cargo shows.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest.join("../../catalogue");
    let root = root.canonicalize().expect("the catalogue/ directory exists beside crates/");
    println!("cargo:rerun-if-changed={}", root.display());
    // Every directory is watched below (a new file in it re-runs this script); the probe bank is
    // named as well, since `lunli probe` reads nothing else.
    println!("cargo:rerun-if-changed={}", root.join("probes").display());

    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();

    let mut code =
        String::from("/// Catalogue files compiled into the binary: (path relative to `catalogue/`, contents).\n");
    code.push_str("pub(crate) static EMBEDDED: &[(&str, &str)] = &[\n");
    for (relative, absolute) in &files {
        println!("cargo:rerun-if-changed={}", absolute.display());
        writeln!(code, "    ({relative:?}, include_str!({:?})),", absolute.display().to_string())
            .expect("writing to a String cannot fail");
    }
    code.push_str("];\n");

    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("embedded.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).expect("catalogue directory is readable");
    for entry in entries {
        let path = entry.expect("catalogue entry is readable").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "toml") {
            let relative =
                path.strip_prefix(root).expect("walked paths are under the root").to_string_lossy().replace('\\', "/");
            files.push((relative, path));
        }
    }
}
