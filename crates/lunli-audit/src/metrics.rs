//! The fairness metric maths, in one place and independent of where the counts came from.
//!
//! Definitions are Fairlearn's (0.15) and scikit-learn's, so that lunli's numbers can be checked
//! against them (docs/audits.md gives each formula):
//!
//! - rates are ratios of confusion counts; a rate whose denominator is zero is 0, as
//!   scikit-learn's `confusion_matrix(normalize="true")` and `precision_score(zero_division=0)`
//!   give it; [`GroupMetrics::undefined`] says which rates had an empty denominator;
//! - between groups, a *difference* is max − min and a *ratio* is min / max over the groups;
//! - equalized odds is the worse of the true-positive-rate and false-positive-rate disparities;
//! - AUC is the Mann–Whitney statistic (ties count one half), which equals the area under
//!   scikit-learn's ROC curve.

use serde::{Deserialize, Serialize};

use crate::stats::{Confusion, ScoreCounts};

/// A ratio of counts; 0 when the denominator is 0 (scikit-learn's `zero_division=0`).
fn rate(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 { 0.0 } else { numerator as f64 / denominator as f64 }
}

/// The per-group metrics of a binary classifier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// Rows in the group.
    pub count: u64,
    /// Share labelled positive: (TP + FN) / n.
    pub base_rate: f64,
    /// Share predicted positive: (TP + FP) / n.
    pub selection_rate: f64,
    /// TP / (TP + FN), also recall.
    pub true_positive_rate: f64,
    /// FP / (FP + TN).
    pub false_positive_rate: f64,
    /// FN / (TP + FN).
    pub false_negative_rate: f64,
    /// TN / (TN + FP).
    pub true_negative_rate: f64,
    /// TP / (TP + FP), also positive predictive value.
    pub precision: f64,
    /// TN / (TN + FN), negative predictive value.
    pub negative_predictive_value: f64,
    /// (TP + TN) / n.
    pub accuracy: f64,
}

/// Which rates had a zero denominator in a group (and so are reported as 0 by convention).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Undefined {
    /// No row labelled positive: TPR and FNR are undefined.
    pub no_positives: bool,
    /// No row labelled negative: FPR and TNR are undefined.
    pub no_negatives: bool,
    /// No row predicted positive: precision is undefined.
    pub no_selected: bool,
    /// No row predicted negative: NPV is undefined.
    pub no_rejected: bool,
}

impl Undefined {
    pub fn any(&self) -> bool {
        self.no_positives || self.no_negatives || self.no_selected || self.no_rejected
    }
}

impl GroupMetrics {
    pub fn from_confusion(c: &Confusion) -> Self {
        let n = c.n();
        Self {
            count: n,
            base_rate: rate(c.positives(), n),
            selection_rate: rate(c.selected(), n),
            true_positive_rate: rate(c.tp, c.positives()),
            false_positive_rate: rate(c.fp, c.negatives()),
            false_negative_rate: rate(c.fn_, c.positives()),
            true_negative_rate: rate(c.tn, c.negatives()),
            precision: rate(c.tp, c.selected()),
            negative_predictive_value: rate(c.tn, c.tn + c.fn_),
            accuracy: rate(c.tp + c.tn, n),
        }
    }

    pub fn undefined(c: &Confusion) -> Undefined {
        Undefined {
            no_positives: c.positives() == 0,
            no_negatives: c.negatives() == 0,
            no_selected: c.selected() == 0,
            no_rejected: c.tn + c.fn_ == 0,
        }
    }

    /// A metric by its name in the JSON output; `None` for an unknown name.
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "count" => self.count as f64,
            "base_rate" => self.base_rate,
            "selection_rate" => self.selection_rate,
            "true_positive_rate" => self.true_positive_rate,
            "false_positive_rate" => self.false_positive_rate,
            "false_negative_rate" => self.false_negative_rate,
            "true_negative_rate" => self.true_negative_rate,
            "precision" => self.precision,
            "negative_predictive_value" => self.negative_predictive_value,
            "accuracy" => self.accuracy,
            _ => return None,
        })
    }

    /// The rate metrics, in report order (count excluded): the shared vocabulary's list.
    pub const RATES: &'static [&'static str] = lunli_norms::terms::GROUP_RATES;
}

/// Area under the ROC curve from exact score counts: the probability that a random positive
/// outscores a random negative, ties counting one half. `None` when the group lacks positives
/// or negatives (scikit-learn raises an error there).
pub fn auc(scores: &ScoreCounts) -> Option<f64> {
    auc_of_cells(scores.iter().map(|(_, c)| (c.positives, c.negatives)))
}

/// AUC from (positives, negatives) per distinct score, in ascending score order.
pub fn auc_of_cells(cells: impl IntoIterator<Item = (u64, u64)>) -> Option<f64> {
    let mut negatives_below: u128 = 0;
    let mut doubled_u: u128 = 0;
    let mut positives: u128 = 0;
    for (p, n) in cells {
        let (p, n) = (u128::from(p), u128::from(n));
        // Each positive here beats every negative below it and ties with those at its score.
        doubled_u += p * (2 * negatives_below + n);
        negatives_below += n;
        positives += p;
    }
    let pairs = positives * negatives_below;
    if pairs == 0 {
        return None;
    }
    Some(doubled_u as f64 / (2 * pairs) as f64)
}

/// Bins of the calibration error.
pub const CALIBRATION_BINS: usize = 10;

/// Expected calibration error: scores in ten equal-width bins over [0, 1]; the row-weighted
/// mean over bins of |mean score − share positive|, i.e. Σ_b |Σ_{i∈b} (s_i − y_i)| / n.
/// `None` when a score lies outside [0, 1] (it is not a probability) or there are no rows.
pub fn calibration_error(scores: &ScoreCounts) -> Option<f64> {
    let mut gap = [0.0f64; CALIBRATION_BINS];
    let mut rows: u64 = 0;
    for (score, cell) in scores.iter() {
        if !(0.0..=1.0).contains(&score) {
            return None;
        }
        // Bin b holds [b/10, (b+1)/10); a score of exactly 1 goes in the last bin.
        let bin = ((score * CALIBRATION_BINS as f64) as usize).min(CALIBRATION_BINS - 1);
        let n = cell.positives + cell.negatives;
        gap[bin] += score * n as f64 - cell.positives as f64;
        rows += n;
    }
    if rows == 0 {
        return None;
    }
    Some(gap.iter().map(|g| g.abs()).sum::<f64>() / rows as f64)
}

/// The disparities between the groups of one sensitive attribute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Disparities {
    /// max − min selection rate.
    pub demographic_parity_difference: f64,
    /// min / max selection rate; `None` when no group is ever selected (0 / 0).
    pub demographic_parity_ratio: Option<f64>,
    /// max(TPR difference, FPR difference).
    pub equalized_odds_difference: f64,
    /// min(TPR ratio, FPR ratio); `None` when either ratio is 0 / 0.
    pub equalized_odds_ratio: Option<f64>,
    /// max − min true positive rate.
    pub equal_opportunity_difference: f64,
    /// max − min precision.
    pub predictive_parity_difference: f64,
    /// Lowest selection rate over highest: the four-fifths rule compares this with 0.8. The same
    /// number as the demographic parity ratio, named as employment-discrimination practice does.
    pub disparate_impact_ratio: Option<f64>,
}

impl Disparities {
    /// A disparity by its name in the JSON output.
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "demographic_parity_difference" => Some(self.demographic_parity_difference),
            "demographic_parity_ratio" => self.demographic_parity_ratio,
            "equalized_odds_difference" => Some(self.equalized_odds_difference),
            "equalized_odds_ratio" => self.equalized_odds_ratio,
            "equal_opportunity_difference" => Some(self.equal_opportunity_difference),
            "predictive_parity_difference" => Some(self.predictive_parity_difference),
            "disparate_impact_ratio" => self.disparate_impact_ratio,
            _ => None,
        }
    }

    pub const NAMES: [&'static str; 7] = [
        "demographic_parity_difference",
        "demographic_parity_ratio",
        "equalized_odds_difference",
        "equalized_odds_ratio",
        "equal_opportunity_difference",
        "predictive_parity_difference",
        "disparate_impact_ratio",
    ];
}

/// (min, max) of a metric over groups; `None` for no groups.
fn spread(groups: &[GroupMetrics], metric: fn(&GroupMetrics) -> f64) -> Option<(f64, f64)> {
    let mut values = groups.iter().map(metric);
    let first = values.next()?;
    Some(values.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v))))
}

fn difference(groups: &[GroupMetrics], metric: fn(&GroupMetrics) -> f64) -> f64 {
    spread(groups, metric).map_or(0.0, |(lo, hi)| hi - lo)
}

fn ratio(groups: &[GroupMetrics], metric: fn(&GroupMetrics) -> f64) -> Option<f64> {
    spread(groups, metric).and_then(|(lo, hi)| if hi == 0.0 { None } else { Some(lo / hi) })
}

/// The cross-group disparities of one attribute from its groups' metrics.
pub fn disparities(groups: &[GroupMetrics]) -> Disparities {
    let selection = |m: &GroupMetrics| m.selection_rate;
    let tpr = |m: &GroupMetrics| m.true_positive_rate;
    let fpr = |m: &GroupMetrics| m.false_positive_rate;
    let dp_ratio = ratio(groups, selection);
    let eo_ratio = match (ratio(groups, tpr), ratio(groups, fpr)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => None,
    };
    Disparities {
        demographic_parity_difference: difference(groups, selection),
        demographic_parity_ratio: dp_ratio,
        equalized_odds_difference: difference(groups, tpr).max(difference(groups, fpr)),
        equalized_odds_ratio: eo_ratio,
        equal_opportunity_difference: difference(groups, tpr),
        predictive_parity_difference: difference(groups, |m| m.precision),
        disparate_impact_ratio: dp_ratio,
    }
}

/// Each group's selection rate over the highest group's: the four-fifths rule's per-group test.
/// `None` when no group is selected at all.
pub fn impact_ratio(group: &GroupMetrics, groups: &[GroupMetrics]) -> Option<f64> {
    let highest = groups.iter().map(|g| g.selection_rate).fold(0.0f64, f64::max);
    if highest == 0.0 { None } else { Some(group.selection_rate / highest) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Score;

    fn scores(rows: &[(f64, bool)]) -> ScoreCounts {
        let mut s = ScoreCounts::default();
        for &(score, label) in rows {
            s.add(Score::new(score).unwrap(), label, 1);
        }
        s
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // scikit-learn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        assert_eq!(auc(&scores(&[(0.1, false), (0.4, false), (0.35, true), (0.8, true)])), Some(0.75));
        assert_eq!(auc(&scores(&[(0.5, false), (0.5, true)])), Some(0.5));
        assert_eq!(auc(&scores(&[(0.5, true), (0.7, true)])), None);
    }

    #[test]
    fn zero_denominators_give_zero_as_scikit_learn_does() {
        let c = Confusion { tp: 2, fp: 0, tn: 0, fn_: 0 };
        let m = GroupMetrics::from_confusion(&c);
        assert_eq!(m.true_negative_rate, 0.0);
        assert_eq!(m.false_positive_rate, 0.0);
        assert!(GroupMetrics::undefined(&c).no_negatives);
    }

    #[test]
    fn calibration_error_of_a_perfectly_calibrated_bin_is_zero() {
        let s = scores(&[(0.5, true), (0.5, false)]);
        assert_eq!(calibration_error(&s), Some(0.0));
        assert_eq!(calibration_error(&scores(&[(1.5, true)])), None);
        assert!((calibration_error(&scores(&[(0.9, false)])).unwrap() - 0.9).abs() < 1e-12);
    }

    #[test]
    fn equalized_odds_is_the_worse_of_tpr_and_fpr() {
        let a = GroupMetrics::from_confusion(&Confusion { tp: 8, fp: 1, tn: 9, fn_: 2 });
        let b = GroupMetrics::from_confusion(&Confusion { tp: 5, fp: 4, tn: 6, fn_: 5 });
        let d = disparities(&[a, b]);
        assert!((d.equalized_odds_difference - 0.3).abs() < 1e-12);
        assert!((d.equalized_odds_ratio.unwrap() - 0.25).abs() < 1e-12);
    }
}
