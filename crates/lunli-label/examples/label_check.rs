//! `lunli label check PATH... --format json` without the rest of lunli: the same library call
//! and the same JSON report, for benchmarks (`bench/labels.sh`) that want a release build of
//! only what the check needs.
//!
//!     cargo run --release -p lunli-label --example label_check -- [--jobs N] PATH...

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut jobs = std::thread::available_parallelism().map_or(1, usize::from);
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--jobs" {
            jobs = args.next().ok_or("--jobs needs a number")?.parse()?;
        } else {
            paths.push(PathBuf::from(arg));
        }
    }
    if paths.is_empty() {
        return Err("usage: label_check [--jobs N] PATH...".into());
    }
    let report = lunli_label::check_paths(&paths, jobs, &lunli_label::Progress::default())?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
