//! Precision and recall per entity on the labelled corpus (crate::corpus): a finding counts
//! when it is at least "likely"; it is a true positive when a label of the same entity overlaps
//! it. The lower bounds are below the measured figures (docs/pii.md) by a small margin, so a
//! change that makes any recogniser worse fails here.

use std::collections::BTreeMap;

use lunli_pii::{Confidence, Entity, Recogniser, corpus};

#[derive(Default, Debug)]
struct Score {
    tp: u64,
    fp: u64,
    fn_: u64,
}

fn measure(seed: u64, lines: usize) -> BTreeMap<Entity, Score> {
    let r = Recogniser::new();
    let mut scores: BTreeMap<Entity, Score> = BTreeMap::new();
    let mut found = Vec::new();
    for line in corpus::generate(seed, lines) {
        found.clear();
        r.find(&line.text, &mut found);
        let found: Vec<_> = found.iter().filter(|m| m.confidence >= Confidence::Likely).collect();
        let mut matched = vec![false; line.labels.len()];
        for m in &found {
            let hit = line.labels.iter().position(|&(e, s, t)| e == m.entity && m.start < t && s < m.end);
            match hit {
                Some(i) => {
                    matched[i] = true;
                    scores.entry(m.entity).or_default().tp += 1;
                }
                None => {
                    eprintln!("false positive {:?} in {}", m.entity, line.text);
                    scores.entry(m.entity).or_default().fp += 1
                }
            }
        }
        for (i, &(e, _, _)) in line.labels.iter().enumerate() {
            if !matched[i] {
                eprintln!("missed {e:?} in {}", line.text);
                scores.entry(e).or_default().fn_ += 1;
            }
        }
    }
    scores
}

#[test]
fn precision_and_recall_per_entity() {
    let scores = measure(20261127, 20_000);
    println!("{:<16} {:>6} {:>5} {:>5} {:>9} {:>7}", "entity", "tp", "fp", "fn", "precision", "recall");
    for (entity, s) in &scores {
        let precision = s.tp as f64 / (s.tp + s.fp).max(1) as f64;
        let recall = s.tp as f64 / (s.tp + s.fn_).max(1) as f64;
        println!("{:<16} {:>6} {:>5} {:>5} {:>9.4} {:>7.4}", entity.as_str(), s.tp, s.fp, s.fn_, precision, recall);
    }
    // Every entity type of the corpus is measured, with enough examples to mean something.
    for entity in Entity::ALL {
        let s = scores.get(&entity).unwrap_or_else(|| panic!("{entity} not in the corpus"));
        assert!(s.tp + s.fn_ >= 300, "{entity}: only {} labelled", s.tp + s.fn_);
        let precision = s.tp as f64 / (s.tp + s.fp).max(1) as f64;
        let recall = s.tp as f64 / (s.tp + s.fn_) as f64;
        // Names after no context word and old G-passports standing alone are missed by design
        // (no language model; the shape alone is too common): the corpus holds such lines.
        let min_recall = match entity {
            Entity::Passport => 0.6,
            Entity::Name => 0.7,
            _ => 0.98,
        };
        assert!(precision >= 0.98, "{entity}: precision {precision:.4}");
        assert!(recall >= min_recall, "{entity}: recall {recall:.4} < {min_recall}");
    }
}
