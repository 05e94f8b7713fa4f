//! Mergeable counts of findings per entity: what a report shows for one column, one file or a
//! whole data set. Two tallies of disjoint parts merge into the tally of the whole.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::entity::{Confidence, Entity};
use crate::mask::mask;

/// Masked samples kept per entity.
pub const SAMPLES: usize = 3;

/// Where a sample was found: a line and byte offset in text, or a row in a table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// The value, masked ([`crate::mask`]); never the whole value.
    pub masked: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
}

/// The findings of one entity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntityTally {
    pub count: u64,
    pub possible: u64,
    pub likely: u64,
    pub high: u64,
    /// Values whose check digit failed (counted under `possible`).
    pub checksum_failed: u64,
    pub samples: Vec<Sample>,
}

impl EntityTally {
    /// The highest confidence with at least one finding.
    pub fn confidence(&self) -> Confidence {
        if self.high > 0 {
            Confidence::High
        } else if self.likely > 0 {
            Confidence::Likely
        } else {
            Confidence::Possible
        }
    }
}

/// Findings per entity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Tally(pub BTreeMap<Entity, EntityTally>);

impl Tally {
    /// Counts one finding; its value is kept only masked, and only as one of the first samples.
    pub fn add(&mut self, entity: Entity, confidence: Confidence, checksum_failed: bool, value: &str, at: Sample) {
        // A look-up, and an entry only for an entity not seen before: building the entry of a
        // key that is there costs more than the search.
        let t = match self.0.get_mut(&entity) {
            Some(t) => t,
            None => self.0.entry(entity).or_default(),
        };
        t.count += 1;
        match confidence {
            Confidence::Possible => t.possible += 1,
            Confidence::Likely => t.likely += 1,
            Confidence::High => t.high += 1,
        }
        t.checksum_failed += u64::from(checksum_failed);
        if t.samples.len() < SAMPLES {
            t.samples.push(Sample { masked: mask(entity, value), ..at });
        }
    }

    pub fn merge(&mut self, other: Tally) {
        for (entity, o) in other.0 {
            let t = self.0.entry(entity).or_default();
            t.count += o.count;
            t.possible += o.possible;
            t.likely += o.likely;
            t.high += o.high;
            t.checksum_failed += o.checksum_failed;
            for s in o.samples {
                if t.samples.len() < SAMPLES {
                    t.samples.push(s);
                }
            }
        }
    }

    pub fn total(&self) -> u64 {
        self.0.values().map(|t| t.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
