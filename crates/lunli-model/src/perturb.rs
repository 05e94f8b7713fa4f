//! The perturbations of the robustness test (Art. 12; C-12-03): each makes a changed copy of a
//! batch's features, so the model's accuracy and decisions on it can be set beside those on the
//! data as it is. docs/models.md describes each.

use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::frame::{Column, Frame};
use crate::random;

/// What the perturbations know of the data: per feature, from the first batch read.
#[derive(Debug, Clone, Default)]
pub struct FeatureProfile {
    /// Numeric features: standard deviation, minimum and maximum.
    pub spread: Vec<Option<(f64, f64, f64)>>,
    /// Text features: the categories seen, sorted.
    pub categories: Vec<Vec<String>>,
}

impl FeatureProfile {
    pub fn of(frame: &Frame) -> Self {
        let mut profile = Self::default();
        for column in &frame.columns {
            match column {
                Column::Number(v) => {
                    let finite: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
                    let n = finite.len().max(1) as f64;
                    let mean = finite.iter().sum::<f64>() / n;
                    let std = (finite.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
                    let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    profile.spread.push((!finite.is_empty()).then_some((std, min, max)));
                    profile.categories.push(Vec::new());
                }
                Column::Text(v) => {
                    let mut seen: Vec<String> = v.iter().filter(|s| !s.is_empty()).cloned().collect();
                    seen.sort_unstable();
                    seen.dedup();
                    profile.spread.push(None);
                    profile.categories.push(seen);
                }
            }
        }
        profile
    }
}

/// One perturbation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Perturbation {
    /// Every numeric feature plus Gaussian noise with standard deviation `scale` × the feature's.
    Noise { scale: f64 },
    /// Each text value, with probability `rate`, replaced by another category of its feature.
    CategorySwap { rate: f64 },
    /// Each value, with probability `rate`, made missing (NaN, or the empty string for text).
    Missing { rate: f64 },
    /// Each numeric value, with probability `rate`, moved one range-width beyond the range seen
    /// (above the maximum or below the minimum, equally likely).
    OutOfRange { rate: f64 },
}

impl Perturbation {
    /// A stable id: `noise_0.25`, `category_swap`, `missing_values`, `out_of_range`.
    pub fn id(&self) -> String {
        match self {
            Self::Noise { scale } => format!("noise_{scale}"),
            Self::CategorySwap { .. } => "category_swap".into(),
            Self::Missing { .. } => "missing_values".into(),
            Self::OutOfRange { .. } => "out_of_range".into(),
        }
    }

    /// The default set: noise at 0.1, 0.25 and 0.5 standard deviations, and 10 % of values
    /// swapped, missing or out of range.
    pub fn defaults(scales: &[f64], rate: f64) -> Vec<Perturbation> {
        let mut all: Vec<Perturbation> = scales.iter().map(|&scale| Self::Noise { scale }).collect();
        all.push(Self::CategorySwap { rate });
        all.push(Self::Missing { rate });
        all.push(Self::OutOfRange { rate });
        all
    }

    /// A perturbed copy of `frame`.
    pub fn apply(&self, frame: &Frame, profile: &FeatureProfile, rng: &mut ChaCha8Rng) -> Frame {
        let mut out = frame.clone();
        for (j, column) in out.columns.iter_mut().enumerate() {
            match (self, column) {
                (Self::Noise { scale }, Column::Number(v)) => {
                    let std = profile.spread[j].map_or(0.0, |(s, _, _)| s);
                    if *scale == 0.0 || std == 0.0 {
                        continue;
                    }
                    for x in v.iter_mut() {
                        *x += scale * std * random::normal(rng);
                    }
                }
                (Self::CategorySwap { rate }, Column::Text(v)) => {
                    let categories = &profile.categories[j];
                    if categories.len() < 2 {
                        continue;
                    }
                    for x in v.iter_mut() {
                        if random::unit(rng) < *rate {
                            let others: Vec<&String> = categories.iter().filter(|c| *c != x).collect();
                            if !others.is_empty() {
                                *x = others[random::below(rng, others.len())].clone();
                            }
                        }
                    }
                }
                (Self::Missing { rate }, Column::Number(v)) => {
                    for x in v.iter_mut() {
                        if random::unit(rng) < *rate {
                            *x = f64::NAN;
                        }
                    }
                }
                (Self::Missing { rate }, Column::Text(v)) => {
                    for x in v.iter_mut() {
                        if random::unit(rng) < *rate {
                            x.clear();
                        }
                    }
                }
                (Self::OutOfRange { rate }, Column::Number(v)) => {
                    let Some((_, min, max)) = profile.spread[j] else { continue };
                    let width = (max - min).max(1.0);
                    for x in v.iter_mut() {
                        if random::unit(rng) < *rate {
                            *x = if random::unit(rng) < 0.5 { max + width } else { min - width };
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }
}
