//! Mergeable counts of findings per entity: what a report shows for one column, one file or a
//! whole data set. Two tallies of disjoint parts merge into the tally of the whole.

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

    /// Counts one finding of `entity` here; its value is kept only masked, and only as one of
    /// the first samples.
    fn add(&mut self, entity: Entity, confidence: Confidence, checksum_failed: bool, value: &str, at: Sample) {
        self.count += 1;
        match confidence {
            Confidence::Possible => self.possible += 1,
            Confidence::Likely => self.likely += 1,
            Confidence::High => self.high += 1,
        }
        self.checksum_failed += u64::from(checksum_failed);
        if self.samples.len() < SAMPLES {
            self.samples.push(Sample { masked: mask(entity, value), ..at });
        }
    }
}

/// Findings per entity, each entity's in its own slot (indexed by the entity, so counting a
/// finding is an index, not a search); iterated in the entities' order, as a map sorted by
/// entity would be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Per entity of [`Entity::ALL`], by `entity as usize`; an entity with no finding has a
    /// count of 0.
    entities: [EntityTally; Entity::ALL.len()],
}

impl Serialize for Tally {
    /// A map from entity to its tally, entities without findings left out, in the entities'
    /// order.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl Tally {
    /// Counts one finding; its value is kept only masked, and only as one of the first samples.
    pub fn add(&mut self, entity: Entity, confidence: Confidence, checksum_failed: bool, value: &str, at: Sample) {
        self.entities[entity as usize].add(entity, confidence, checksum_failed, value, at);
    }

    pub fn merge(&mut self, other: Tally) {
        for (t, o) in self.entities.iter_mut().zip(other.entities) {
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

    /// The entities with at least one finding and their tallies, in the entities' order
    /// ([`Entity`]'s `Ord`).
    pub fn iter(&self) -> impl Iterator<Item = (Entity, &EntityTally)> {
        Entity::ALL.into_iter().zip(&self.entities).filter(|(_, t)| t.count > 0)
    }

    /// The tally of one entity, if it has findings.
    pub fn get(&self, entity: Entity) -> Option<&EntityTally> {
        Some(&self.entities[entity as usize]).filter(|t| t.count > 0)
    }

    pub fn total(&self) -> u64 {
        self.entities.iter().map(|t| t.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.iter().all(|t| t.count == 0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn slots_are_the_entities_in_order() {
        for (i, e) in Entity::ALL.into_iter().enumerate() {
            assert_eq!(e as usize, i, "{e:?}");
        }
        assert!(Entity::ALL.is_sorted(), "iterating the slots gives the entities' order");
    }

    /// Counts, samples, merging, the order of iteration and the JSON are those of a map sorted by
    /// entity (the tally's form before it was indexed by entity).
    #[test]
    fn as_a_map_sorted_by_entity() {
        let add_to_map = |map: &mut BTreeMap<Entity, EntityTally>, e: Entity, c: Confidence, failed: bool, v: &str| {
            // The map form counted into an entry as a slot does; what differs is where the entry is.
            map.entry(e).or_default().add(e, c, failed, v, Sample { line: Some(7), ..Sample::default() });
        };
        let (mut a, mut b) = (Tally::default(), Tally::default());
        let (mut map_a, mut map_b) = (BTreeMap::new(), BTreeMap::new());
        assert!(a.is_empty() && a.iter().next().is_none());
        let confidences = [Confidence::Possible, Confidence::Likely, Confidence::High];
        for i in 0..200usize {
            // Entities out of order, some never, some in one tally only.
            let e = Entity::ALL[(i * 7) % 13 + usize::from(i % 5 == 0) * 5];
            let (c, failed) = (confidences[i % 3], i % 4 == 0);
            let value = format!("v{i}@example.com");
            let at = Sample { line: Some(7), ..Sample::default() };
            if i % 3 == 0 {
                a.add(e, c, failed, &value, at);
                add_to_map(&mut map_a, e, c, failed, &value);
            } else if e != Entity::Iban {
                b.add(e, c, failed, &value, at);
                add_to_map(&mut map_b, e, c, failed, &value);
            }
        }
        let listed = |t: &Tally| t.iter().map(|(e, t)| (e, t.clone())).collect::<Vec<_>>();
        let map_listed = |m: &BTreeMap<Entity, EntityTally>| m.iter().map(|(e, t)| (*e, t.clone())).collect::<Vec<_>>();
        assert_eq!(listed(&a), map_listed(&map_a));
        for (e, t) in &map_b {
            assert_eq!(b.get(*e), Some(t));
        }
        assert_eq!(b.get(Entity::Iban), None);
        a.merge(b);
        for (e, o) in map_b {
            let t = map_a.entry(e).or_default();
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
        assert_eq!(listed(&a), map_listed(&map_a));
        assert_eq!(a.total(), map_a.values().map(|t| t.count).sum::<u64>());
        assert!(!a.is_empty());
        let json = serde_json::to_string(&a).expect("serialises");
        assert_eq!(json, serde_json::to_string(&map_a).expect("serialises"));
    }
}
