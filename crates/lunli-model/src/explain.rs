//! Explanations (Art. 12: transparent, explainable): global permutation importance with
//! confidence intervals, and per-row attributions by sampling Shapley values.
//!
//! **Permutation importance** (Breiman 2001; scikit-learn's `permutation_importance`): the
//! accuracy on the data as it is minus the accuracy with one feature's values shuffled among
//! the rows, once per repeat with a fresh seeded shuffle. lunli shuffles within each batch it
//! reads (up to 8,192 rows), which is a permutation of the column restricted to blocks: for rows
//! in no particular order it breaks the feature's link with the label just as a shuffle of the
//! whole column does, without holding the column. The interval is mean ± t(0.975, R − 1) ×
//! s / √R over the R repeats (s the sample standard deviation); `std` is the population
//! standard deviation, as scikit-learn reports it.
//!
//! **Sampling Shapley values** (Štrumbelj & Kononenko 2014): for row x and feature j, each of
//! M samples draws a random order of the features and a random background row z, and takes
//! f(x with the features up to and including j from x, the rest from z) − f(the same without
//! j from x); the mean over samples estimates j's Shapley value of the model's probability,
//! against the background rows (a seeded sample of the data) as the baseline. The values add
//! up to f(x) − mean f(z) in expectation.

use serde::Serialize;

use crate::error::ModelError;
use crate::frame::{Column, Frame};
use crate::onnx::Model;
use crate::random;

#[derive(Debug, Clone, Serialize)]
pub struct FeatureImportance {
    pub feature: String,
    pub mean: f64,
    pub std: f64,
    /// 95 % confidence interval of the mean.
    pub interval: [f64; 2],
    pub repeats: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Importance {
    pub method: &'static str,
    pub scoring: &'static str,
    pub baseline: f64,
    pub repeats: u32,
    /// Most important first.
    pub features: Vec<FeatureImportance>,
}

/// Two-sided 97.5 % quantiles of Student's t for 1..=30 degrees of freedom.
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
    2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
];

pub(crate) fn importance(baseline: f64, repeats: u32, per_feature: Vec<(String, Vec<f64>)>) -> Importance {
    let mut features: Vec<FeatureImportance> = per_feature
        .into_iter()
        .map(|(feature, values)| {
            let r = values.len().max(1) as f64;
            let mean = values.iter().sum::<f64>() / r;
            let ss = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
            let std = (ss / r).sqrt();
            let half = if values.len() > 1 {
                let t = T975.get(values.len() - 2).copied().unwrap_or(1.96);
                t * (ss / (r - 1.0)).sqrt() / r.sqrt()
            } else {
                0.0
            };
            FeatureImportance { feature, mean, std, interval: [mean - half, mean + half], repeats: values }
        })
        .collect();
    features.sort_by(|a, b| b.mean.total_cmp(&a.mean).then_with(|| a.feature.cmp(&b.feature)));
    Importance { method: "permutation", scoring: "accuracy", baseline, repeats, features }
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureAttribution {
    pub feature: String,
    /// The row's value, as text.
    pub value: String,
    pub attribution: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RowAttribution {
    /// 0-based, in file order.
    pub row: u64,
    pub score: f64,
    pub decision: bool,
    /// Largest magnitude first.
    pub features: Vec<FeatureAttribution>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attribution {
    pub method: &'static str,
    pub samples: u32,
    pub background_rows: usize,
    /// Mean probability over the background rows: where attributions start from.
    pub base_value: f64,
    pub rows: Vec<RowAttribution>,
}

fn value_text(column: &Column, i: usize) -> String {
    match column {
        Column::Number(v) => {
            let x = v[i];
            if x.fract() == 0.0 && x.abs() < 1e15 { format!("{}", x as i64) } else { format!("{x}") }
        }
        Column::Text(v) => v[i].clone(),
    }
}

/// Sampling Shapley values of each row in `rows` (one-row frames) against `background`.
pub(crate) fn attributions(
    model: &Model,
    rows: &[(u64, Frame)],
    background: &Frame,
    samples: u32,
    seed: u64,
) -> Result<Attribution, ModelError> {
    use rayon::prelude::*;
    let base_value = {
        let p = model.predict(background)?;
        let finite: Vec<f64> = p.scores.into_iter().filter(|s| s.is_finite()).collect();
        finite.iter().sum::<f64>() / finite.len().max(1) as f64
    };
    let features = model.inputs.len();
    let m = samples as usize;
    let explained: Vec<RowAttribution> = rows
        .par_iter()
        .map(|(row, x)| {
            let mut rng = random::stream(seed, &[4, *row]);
            // Rows 2k (with j from x) and 2k + 1 (j from z) for sample k of feature j.
            let mut picks: Vec<(usize, Vec<bool>)> = Vec::with_capacity(features * m * 2);
            for j in 0..features {
                for _ in 0..m {
                    let order = random::permutation(&mut rng, features);
                    let z = random::below(&mut rng, background.rows().max(1));
                    let position = order.iter().position(|&f| f == j).unwrap_or(0);
                    let mut from_x = vec![false; features];
                    for &f in &order[..position] {
                        from_x[f] = true;
                    }
                    let mut with = from_x.clone();
                    with[j] = true;
                    picks.push((z, with));
                    picks.push((z, from_x));
                }
            }
            let columns = (0..features)
                .map(|f| match (&x.columns[f], &background.columns[f]) {
                    (Column::Number(xv), Column::Number(zv)) => {
                        Column::Number(picks.iter().map(|(z, from)| if from[f] { xv[0] } else { zv[*z] }).collect())
                    }
                    (Column::Text(xv), Column::Text(zv)) => Column::Text(
                        picks.iter().map(|(z, from)| if from[f] { xv[0].clone() } else { zv[*z].clone() }).collect(),
                    ),
                    (own, _) => own.clone(),
                })
                .collect();
            let scores = model.predict(&Frame { columns })?.scores;
            let own = model.predict(x)?;
            let mut attributed: Vec<FeatureAttribution> = (0..features)
                .map(|j| {
                    let block = &scores[j * m * 2..(j + 1) * m * 2];
                    let sum: f64 = block.chunks(2).map(|pair| pair[0] - pair[1]).sum();
                    FeatureAttribution {
                        feature: model.inputs[j].name.clone(),
                        value: value_text(&x.columns[j], 0),
                        attribution: sum / m as f64,
                    }
                })
                .collect();
            attributed.sort_by(|a, b| b.attribution.abs().total_cmp(&a.attribution.abs()));
            Ok(RowAttribution {
                row: *row,
                score: own.scores.first().copied().unwrap_or(f64::NAN),
                decision: own.decisions.first().copied().unwrap_or(false),
                features: attributed,
            })
        })
        .collect::<Result<_, ModelError>>()?;
    Ok(Attribution {
        method: "sampling Shapley values (Štrumbelj & Kononenko 2014)",
        samples,
        background_rows: background.rows(),
        base_value,
        rows: explained,
    })
}
