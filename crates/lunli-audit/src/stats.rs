//! Mergeable statistics for the fairness audit.
//!
//! Everything the fairness metrics need is a count: per group, the four cells of the confusion
//! matrix, and — when there are scores — how many positives and negatives received each distinct
//! score. Counts add, so statistics computed on any split of the rows (file partitions, files,
//! machines) merge into exactly the statistics of the whole: [`FairnessStats::merge`] is
//! associative and commutative, and no metric is ever averaged across partitions.
//!
//! Scores are kept exactly, keyed by their `f64` value, so the AUC computed from merged counts is
//! the AUC of the raw rows (rank statistics need the exact order of scores, which a histogram
//! with fixed bins would lose). The memory this takes grows with the number of distinct scores
//! per group, which is small for scores rounded to a few decimals (the Adult predictions use six)
//! and for the models that emit a few hundred distinct values.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The confusion matrix of one group: predictions against labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Labelled positive, predicted positive.
    pub tp: u64,
    /// Labelled negative, predicted positive.
    pub fp: u64,
    /// Labelled negative, predicted negative.
    pub tn: u64,
    /// Labelled positive, predicted negative.
    #[serde(rename = "fn")]
    pub fn_: u64,
}

impl Confusion {
    /// Adds `count` rows with this label and prediction.
    pub fn add(&mut self, label: bool, prediction: bool, count: u64) {
        match (label, prediction) {
            (true, true) => self.tp += count,
            (false, true) => self.fp += count,
            (false, false) => self.tn += count,
            (true, false) => self.fn_ += count,
        }
    }

    pub fn merge(&mut self, other: &Confusion) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.tn += other.tn;
        self.fn_ += other.fn_;
    }

    /// Rows in the group.
    pub fn n(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }

    /// Rows labelled positive.
    pub fn positives(&self) -> u64 {
        self.tp + self.fn_
    }

    /// Rows labelled negative.
    pub fn negatives(&self) -> u64 {
        self.tn + self.fp
    }

    /// Rows predicted positive.
    pub fn selected(&self) -> u64 {
        self.tp + self.fp
    }
}

/// A score with a total order, so that it can key a map. `-0.0` is stored as `0.0`; NaN is never
/// stored (the audit rejects it with the row it came from).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Score(f64);

impl Score {
    /// `None` for NaN, which has no place in a ranking.
    pub fn new(value: f64) -> Option<Score> {
        if value.is_nan() {
            None
        } else if value == 0.0 {
            Some(Score(0.0))
        } else {
            Some(Score(value))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// How many positives and negatives received each distinct score: an exact, mergeable sketch
/// of the score distribution from which rank statistics (AUC) and calibration follow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreCounts {
    #[serde(with = "pairs")]
    counts: BTreeMap<Score, ScoreCell>,
}

/// Positives and negatives at one score.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreCell {
    pub positives: u64,
    pub negatives: u64,
}

impl ScoreCounts {
    pub fn add(&mut self, score: Score, label: bool, count: u64) {
        let cell = self.counts.entry(score).or_default();
        if label {
            cell.positives += count;
        } else {
            cell.negatives += count;
        }
    }

    pub fn merge(&mut self, other: &ScoreCounts) {
        for (score, cell) in &other.counts {
            let mine = self.counts.entry(*score).or_default();
            mine.positives += cell.positives;
            mine.negatives += cell.negatives;
        }
    }

    /// Distinct scores, ascending, with their counts.
    pub fn iter(&self) -> impl Iterator<Item = (f64, ScoreCell)> + '_ {
        self.counts.iter().map(|(s, c)| (s.get(), *c))
    }

    /// Number of distinct scores.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// Everything known about one group: its confusion matrix and, with scores, its score counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupStats {
    pub confusion: Confusion,
    pub scores: Option<ScoreCounts>,
}

impl GroupStats {
    pub fn merge(&mut self, other: &GroupStats) {
        self.confusion.merge(&other.confusion);
        match (&mut self.scores, &other.scores) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (None, Some(theirs)) => self.scores = Some(theirs.clone()),
            _ => {}
        }
    }
}

/// Statistics per cell of the finest grouping: one value of every sensitive column. Every
/// coarser grouping (one column alone, any intersection, the whole data set) is a merge of
/// cells, so one pass over the data serves all of them.
///
/// Serialisable (JSON and any serde format), so that partial statistics computed on other
/// machines can be shipped and merged here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FairnessStats {
    /// The sensitive columns, in the order of each cell's key.
    pub columns: Vec<String>,
    #[serde(with = "pairs")]
    cells: BTreeMap<Vec<String>, GroupStats>,
}

/// A map as a list of `[key, value]` pairs: JSON objects only take string keys, and these maps
/// are keyed by scores and by lists of group values.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(map: &BTreeMap<K, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Vec::<(K, V)>::deserialize(d).map(|pairs| pairs.into_iter().collect())
    }
}

impl FairnessStats {
    pub fn new(columns: Vec<String>) -> Self {
        Self { columns, cells: BTreeMap::new() }
    }

    /// Adds `count` rows of the cell `key` (one value per sensitive column).
    pub fn add(&mut self, key: Vec<String>, label: bool, prediction: bool, score: Option<Score>, count: u64) {
        let cell = self.cells.entry(key).or_default();
        cell.confusion.add(label, prediction, count);
        if let Some(score) = score {
            cell.scores.get_or_insert_with(ScoreCounts::default).add(score, label, count);
        }
    }

    /// Adds another partition's statistics. Exact: the result does not depend on how the rows
    /// were split or in which order partitions are merged.
    pub fn merge(&mut self, other: &FairnessStats) {
        for (key, stats) in &other.cells {
            self.cells.entry(key.clone()).or_default().merge(stats);
        }
    }

    /// Rows counted.
    pub fn rows(&self) -> u64 {
        self.cells.values().map(|c| c.confusion.n()).sum()
    }

    /// The cells of the finest grouping.
    pub fn cells(&self) -> impl Iterator<Item = (&[String], &GroupStats)> {
        self.cells.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Statistics grouped by some of the sensitive columns (by index into [`Self::columns`]);
    /// a group's name is its values joined with `|`, as Fairlearn names intersections.
    pub fn grouped_by(&self, columns: &[usize]) -> BTreeMap<String, GroupStats> {
        let mut groups: BTreeMap<String, GroupStats> = BTreeMap::new();
        for (key, stats) in &self.cells {
            let name =
                columns.iter().map(|&i| key.get(i).map(String::as_str).unwrap_or("")).collect::<Vec<_>>().join("|");
            groups.entry(name).or_default().merge(stats);
        }
        groups
    }

    /// The whole data set as one group.
    pub fn overall(&self) -> GroupStats {
        let mut all = GroupStats::default();
        for stats in self.cells.values() {
            all.merge(stats);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_and_zero_are_one_score() {
        let mut s = ScoreCounts::default();
        s.add(Score::new(-0.0).unwrap(), true, 1);
        s.add(Score::new(0.0).unwrap(), false, 2);
        assert_eq!(s.len(), 1);
        assert!(Score::new(f64::NAN).is_none());
    }

    #[test]
    fn coarser_groups_are_merges_of_cells() {
        let mut stats = FairnessStats::new(vec!["sex".into(), "race".into()]);
        stats.add(vec!["F".into(), "A".into()], true, true, None, 3);
        stats.add(vec!["F".into(), "B".into()], false, true, None, 2);
        stats.add(vec!["M".into(), "A".into()], true, false, None, 5);
        let by_sex = stats.grouped_by(&[0]);
        assert_eq!(by_sex["F"].confusion, Confusion { tp: 3, fp: 2, tn: 0, fn_: 0 });
        let both = stats.grouped_by(&[0, 1]);
        assert_eq!(both.len(), 3);
        assert!(both.contains_key("M|A"));
        assert_eq!(stats.overall().confusion.n(), 10);
    }
}
