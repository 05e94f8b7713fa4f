//! The benchmark driver of `bench/pii.sh` (release build of this crate only).
//!
//! pii_bench gen OUT MB SAMPLE SAMPLE_LINES LABELS   write a corpus of about MB megabytes to OUT;
//!                                                   its first SAMPLE_LINES lines also to SAMPLE,
//!                                                   with their labels (character offsets) as JSON Lines
//! pii_bench prose OUT MB                            write about MB megabytes of ordinary prose
//!                                                   (corpus::prose: a line of identifiers per ~10 KB)
//! pii_bench scan FILE [THREADS]                     scan FILE as `lunli audit pii` does; print MB/s
//!                                                   of wall time and of CPU time (user + system)
//! pii_bench recall SAMPLE LABELS                    recall per entity on the sample, as JSON

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use lunli_pii::{Confidence, Entity, Recogniser, Tally, TextScanner, corpus};

type Fallible = Result<(), Box<dyn std::error::Error>>;

fn main() -> Fallible {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["gen", out, mb, sample, lines, labels] => generate(out, mb.parse()?, sample, lines.parse()?, labels),
        ["prose", out, mb] => generate_prose(out, mb.parse()?),
        ["scan", file] => scan(file, 1),
        ["scan", file, threads] => scan(file, threads.parse()?),
        ["recall", sample, labels] => recall(sample, labels),
        _ => Err("usage: pii_bench gen OUT MB SAMPLE LINES LABELS | scan FILE | recall SAMPLE LABELS".into()),
    }
}

fn chars(text: &str, byte: usize) -> usize {
    text[..byte].chars().count()
}

fn generate(out: &str, mb: u64, sample: &str, sample_lines: usize, labels: &str) -> Fallible {
    let mut out = BufWriter::new(File::create(out)?);
    let mut sample = BufWriter::new(File::create(sample)?);
    let mut labels = BufWriter::new(File::create(labels)?);
    let (mut written, mut seed, mut index) = (0u64, 1u64, 0usize);
    while written < mb << 20 {
        for line in corpus::generate(seed, 10_000) {
            writeln!(out, "{}", line.text)?;
            written += line.text.len() as u64 + 1;
            if index < sample_lines {
                writeln!(sample, "{}", line.text)?;
                for (entity, s, e) in &line.labels {
                    writeln!(
                        labels,
                        r#"{{"line":{index},"entity":"{}","start":{},"end":{}}}"#,
                        entity.as_str(),
                        chars(&line.text, *s),
                        chars(&line.text, *e)
                    )?;
                }
            }
            index += 1;
        }
        seed += 1;
    }
    out.flush()?;
    sample.flush()?;
    labels.flush()?;
    Ok(())
}

fn generate_prose(out: &str, mb: u64) -> Fallible {
    let mut out = BufWriter::new(File::create(out)?);
    let (mut written, mut seed) = (0u64, 1u64);
    while written < mb << 20 {
        for line in corpus::prose(seed, 2_000) {
            writeln!(out, "{}", line.text)?;
            written += line.text.len() as u64 + 1;
        }
        seed += 1;
    }
    out.flush()?;
    Ok(())
}

/// CPU seconds (user + system) this process has used so far, from /proc/self/stat (Linux;
/// none elsewhere). Clock ticks are taken as 100 per second, as on every Linux build in use.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn scan(file: &str, threads: usize) -> Fallible {
    let recogniser = Recogniser::new();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let mut tally = Tally::default();
    let stats = TextScanner::new(&recogniser).minimum(Confidence::Likely).threads(threads).scan(
        File::open(file)?,
        file,
        &mut |piece| {
            for f in piece.findings {
                tally.add(f.entity, f.confidence, f.checksum_failed, piece.value(f), Default::default());
            }
            Ok(())
        },
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().zip(cpu_before).map_or(f64::NAN, |(after, before)| after - before);
    let mb = stats.bytes as f64 / 1e6;
    println!(
        r#"{{"tool":"lunli","bytes":{},"lines":{},"findings":{},"threads":{threads},"seconds":{seconds:.3},"mb_per_s":{:.1},"cpu_seconds":{cpu:.2},"mb_per_cpu_s":{:.1}}}"#,
        stats.bytes,
        stats.lines,
        tally.total(),
        mb / seconds,
        mb / cpu
    );
    Ok(())
}

fn recall(sample: &str, labels: &str) -> Fallible {
    let mut truth: BTreeMap<usize, Vec<(String, usize, usize)>> = BTreeMap::new();
    for line in BufReader::new(File::open(labels)?).lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        let n = |k: &str| v[k].as_u64().unwrap_or(0) as usize;
        truth.entry(n("line")).or_default().push((
            v["entity"].as_str().unwrap_or("").to_string(),
            n("start"),
            n("end"),
        ));
    }
    let recogniser = Recogniser::new();
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut found = Vec::new();
    for (index, line) in BufReader::new(File::open(sample)?).lines().enumerate() {
        let line = line?;
        found.clear();
        recogniser.find(&line, &mut found);
        for (entity, s, e) in truth.get(&index).into_iter().flatten() {
            let hit = found.iter().any(|m| {
                m.confidence >= Confidence::Likely
                    && Entity::from_name(entity) == Some(m.entity)
                    && chars(&line, m.start) < *e
                    && *s < chars(&line, m.end)
            });
            let c = counts.entry(entity.clone()).or_default();
            c.0 += u64::from(hit);
            c.1 += 1;
        }
    }
    let fields: Vec<String> =
        counts.iter().map(|(e, (hit, all))| format!(r#""{e}":{{"found":{hit},"labelled":{all}}}"#)).collect();
    println!("{{{}}}", fields.join(","));
    Ok(())
}
