//! The demo's content labels (Measures for Labelling AI-Generated Content, Art. 4–5): the
//! meeting-notes assistant's read-aloud summary, once labelled with `lunli label write` and once
//! not, and `lunli label check` on both.

use std::path::Path;

use anyhow::{Context as _, Result};
use lunli_label::{Aigc, Existing, Progress};

use crate::output::Out;

/// Half a second of a 440 Hz tone as 16-bit mono PCM WAV: a generated file to label.
fn tone_wav() -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples: Vec<u8> = (0..RATE / 2)
        .flat_map(|i| {
            let phase = f64::from(i) * 440.0 * std::f64::consts::TAU / f64::from(RATE);
            ((phase.sin() * 8000.0) as i16).to_le_bytes()
        })
        .collect();
    let mut fmt = Vec::new();
    for (value, width) in [(1u32, 2), (1, 2), (RATE, 4), (RATE * 2, 4), (2, 2), (16, 2)] {
        fmt.extend_from_slice(&value.to_le_bytes()[..width]);
    }
    let mut body = b"WAVE".to_vec();
    for (id, data) in [(b"fmt ", fmt), (b"data", samples)] {
        body.extend_from_slice(id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(&data);
    }
    [b"RIFF".to_vec(), (body.len() as u32).to_le_bytes().to_vec(), body].concat()
}

pub(super) fn label_generated_files(dir: &Path, system: &str, out: &mut Out) -> Result<()> {
    let generated = dir.join("generated");
    std::fs::create_dir_all(&generated).with_context(|| format!("creating {}", generated.display()))?;
    let plain = generated.join("summary-unlabelled.wav");
    let labelled = generated.join("summary-labelled.wav");
    std::fs::write(&plain, tone_wav()).with_context(|| format!("writing {}", plain.display()))?;
    out.line(out.label(
        "生成内容须带隐式标识（标识办法第五条）。助手生成的朗读摘要，一份写入标识、一份未写入：",
        "Generated content must carry an implicit label (Labelling Measures Art. 5). The assistant's read-aloud summary, once labelled and once not:",
    ));
    let aigc = Aigc::generated("lunli-demo", "demo-0001", system);
    lunli_label::write(&plain, &labelled, &aigc, Existing::Refuse)?;
    out.line(format!(
        "  $ lunli label write {} -o {} --producer lunli-demo --produce-id demo-0001 --system-id {system}",
        plain.display(),
        labelled.display()
    ));
    out.line(format!("  $ lunli label check {} {}", plain.display(), labelled.display()));
    let report = lunli_label::check_paths(&[plain, labelled], 1, &Progress::default())?;
    crate::label::render(&report, out);
    Ok(())
}
