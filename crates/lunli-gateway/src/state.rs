//! What the gateway decides with, held in memory so a decision never waits on a lock held by a
//! writer or on the database: one immutable snapshot of systems, suspensions and keys, swapped
//! whole when the store's runtime version moves; and subjects' consents, which may number in the
//! millions, applied one change at a time from the store's consent feed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use lunli_governance::runtime::{Consent, ConsentChange, Suspension, SystemPolicy};
use lunli_governance::store::{ApiKey, Store};
use lunli_governance::{Governance, GovernanceError, RuntimeSnapshot};

/// A snapshot indexed for lookups on the hot path.
#[derive(Debug, Default)]
pub struct Indexed {
    pub version: u64,
    pub policies: HashMap<String, SystemPolicy>,
    pub suspensions: HashMap<String, Vec<Suspension>>,
    /// By SHA-256 of the secret; shared, so a request holds its key without copying it.
    pub keys: HashMap<String, Arc<ApiKey>>,
}

impl From<RuntimeSnapshot> for Indexed {
    fn from(snapshot: RuntimeSnapshot) -> Self {
        let mut suspensions: HashMap<String, Vec<Suspension>> = HashMap::new();
        for s in snapshot.suspensions {
            suspensions.entry(s.system.clone()).or_default().push(s);
        }
        Self {
            version: snapshot.version,
            policies: snapshot.policies.into_iter().map(|p| (p.id.clone(), p)).collect(),
            suspensions,
            keys: snapshot.keys.into_iter().map(|k| (k.sha256.clone(), Arc::new(k))).collect(),
        }
    }
}

/// The current snapshot, replaced atomically.
#[derive(Default)]
pub struct RuntimeState {
    current: ArcSwap<Indexed>,
}

impl RuntimeState {
    pub fn new(snapshot: RuntimeSnapshot) -> Self {
        Self { current: ArcSwap::from_pointee(Indexed::from(snapshot)) }
    }

    pub fn load(&self) -> Arc<Indexed> {
        self.current.load_full()
    }

    pub fn replace(&self, snapshot: RuntimeSnapshot) {
        self.current.store(Arc::new(Indexed::from(snapshot)));
    }
}

/// Changes read from the feed per round trip.
const FEED_PAGE: u32 = 10_000;

/// Subjects' latest consent changes, by subject, with the feed position of each.
type BySubject = HashMap<String, (u64, Consent)>;

/// Every subject's standing choice, by system and subject, with the feed position of each.
/// Applying a change costs the same however many consents there are.
#[derive(Default)]
pub struct Consents {
    by_system: RwLock<HashMap<String, BySubject>>,
    /// The highest feed position applied; changes after it are read next.
    applied: AtomicU64,
}

impl Consents {
    /// The subject's standing choice toward the system, if one was recorded.
    pub fn get(&self, system: &str, subject: &str) -> Option<Consent> {
        let map = self.by_system.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        map.get(system).and_then(|subjects| subjects.get(subject)).map(|(_, c)| c.clone())
    }

    /// The feed position up to which changes are applied.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::Acquire)
    }

    /// Applies changes; one older than what is held for its subject (two readers racing) is
    /// ignored, so the order they arrive in does not matter.
    pub fn apply(&self, changes: Vec<ConsentChange>) {
        let Some(last) = changes.iter().map(|c| c.seq).max() else { return };
        let mut map = self.by_system.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        for ConsentChange { seq, consent } in changes {
            let subjects = map.entry(consent.system.clone()).or_default();
            match subjects.get(&consent.subject) {
                Some((held, _)) if *held >= seq => {}
                _ => {
                    subjects.insert(consent.subject.clone(), (seq, consent));
                }
            }
        }
        drop(map);
        self.applied.fetch_max(last, Ordering::AcqRel);
    }

    /// Reads and applies every change after the last applied one; returns how many.
    pub fn catch_up<S: Store>(&self, gov: &Governance<'_, S>) -> Result<usize, GovernanceError> {
        let mut total = 0;
        loop {
            let changes = gov.consent_changes(self.applied(), FEED_PAGE)?;
            let n = changes.len();
            total += n;
            self.apply(changes);
            if n < FEED_PAGE as usize {
                return Ok(total);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lunli_governance::runtime::Mode;

    fn change(seq: u64, subject: &str, given: bool) -> ConsentChange {
        let consent = Consent {
            system: "s".into(),
            subject: subject.into(),
            given,
            mode: Mode::Ai,
            at: jiff::Timestamp::UNIX_EPOCH,
        };
        ConsentChange { seq, consent }
    }

    #[test]
    fn changes_apply_in_any_order_and_the_newest_wins() {
        let consents = Consents::default();
        consents.apply(vec![change(3, "u", false), change(1, "v", true)]);
        consents.apply(vec![change(2, "u", true)]);
        assert_eq!(consents.get("s", "u").map(|c| c.given), Some(false), "seq 3 is newer than seq 2");
        assert_eq!(consents.applied(), 3);
        assert_eq!(consents.get("s", "v").map(|c| c.given), Some(true));
        assert!(consents.get("s", "w").is_none() && consents.get("t", "u").is_none());
    }
}
