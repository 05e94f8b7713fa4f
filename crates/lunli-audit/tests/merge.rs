//! Statistics are mergeable: whatever way the rows are split into partitions (or files, or
//! machines), merging the parts gives exactly the statistics — and so the metrics — of one pass.

use lunli_audit::RunOptions;
use lunli_audit::fairness::{self, FairnessRequest};
use lunli_audit::metrics::{self, GroupMetrics};
use lunli_audit::policy::FairnessPolicy;
use lunli_audit::stats::{FairnessStats, Score};
use lunli_norms::Catalogue;
use proptest::prelude::*;

/// One row: (sex, race, label, prediction, score in thousandths).
type Row = (u8, u8, bool, bool, u16);

fn add(stats: &mut FairnessStats, row: &Row) {
    let (sex, race, label, prediction, score) = *row;
    let key = vec![format!("s{sex}"), format!("r{race}")];
    stats.add(key, label, prediction, Score::new(f64::from(score) / 1000.0), 1);
}

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((0u8..2, 0u8..4, any::<bool>(), any::<bool>(), 0u16..=1000), 1..400)
}

proptest! {
    #[test]
    fn merging_partitions_equals_one_pass(rows in rows(), cuts in prop::collection::vec(0usize..400, 0..8)) {
        let columns = vec!["sex".to_string(), "race".to_string()];
        let mut whole = FairnessStats::new(columns.clone());
        for row in &rows {
            add(&mut whole, row);
        }
        // Split at the cuts, compute each part alone, merge in reverse order.
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c % (rows.len() + 1)).collect();
        bounds.extend([0, rows.len()]);
        bounds.sort_unstable();
        let mut parts = Vec::new();
        for pair in bounds.windows(2) {
            let mut part = FairnessStats::new(columns.clone());
            for row in &rows[pair[0]..pair[1]] {
                add(&mut part, row);
            }
            parts.push(part);
        }
        let mut merged = FairnessStats::new(columns.clone());
        for part in parts.iter().rev() {
            merged.merge(part);
        }
        prop_assert_eq!(&merged, &whole);
        // Shipped as JSON from other machines and merged here: the same, exactly.
        let mut shipped = FairnessStats::new(columns);
        for part in &parts {
            let json = serde_json::to_string(part).expect("encode");
            let back: FairnessStats = serde_json::from_str(&json).expect("decode");
            shipped.merge(&back);
        }
        prop_assert_eq!(&shipped, &whole);
        for by in [vec![0], vec![1], vec![0, 1]] {
            let (a, b) = (merged.grouped_by(&by), whole.grouped_by(&by));
            for (name, g) in &a {
                let h = &b[name];
                prop_assert_eq!(GroupMetrics::from_confusion(&g.confusion), GroupMetrics::from_confusion(&h.confusion));
                let (sa, sb) = (g.scores.as_ref().and_then(metrics::auc), h.scores.as_ref().and_then(metrics::auc));
                prop_assert_eq!(sa.map(f64::to_bits), sb.map(f64::to_bits));
            }
        }
    }
}

/// The same rows read as one file or as several files through a glob give the same report.
#[test]
fn one_file_or_many_files_give_the_same_report() {
    let source =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/adult/adult_predictions.csv");
    assert!(source.exists(), "{} is missing: shared/ must sit beside the repository", source.display());
    let text = std::fs::read_to_string(&source).expect("read");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let body: Vec<&str> = lines.collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for (i, chunk) in body.chunks(4000).enumerate() {
        let mut part = format!("{header}\n");
        for line in chunk {
            part.push_str(line);
            part.push('\n');
        }
        std::fs::write(dir.path().join(format!("part-{i}.csv")), part).expect("write");
    }
    let run = |inputs: Vec<String>| {
        let request = FairnessRequest {
            inputs,
            label: "y_true".into(),
            prediction: "y_pred".into(),
            score: Some("score".into()),
            sensitive: vec!["sex".into(), "race".into()],
            ..FairnessRequest::default()
        };
        let report = fairness::audit(
            &request,
            &FairnessPolicy::default(),
            &Catalogue::bundled().expect("catalogue"),
            &RunOptions::default(),
        )
        .expect("audit");
        let mut value = serde_json::to_value(&report).expect("json");
        value["inputs"] = serde_json::Value::Null;
        value
    };
    let one = run(vec![source.display().to_string()]);
    let many = run(vec![dir.path().join("part-*.csv").display().to_string()]);
    assert_eq!(one, many);
}
