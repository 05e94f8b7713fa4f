//! What the gateway decides with, held in memory: one immutable snapshot of runtime state,
//! swapped whole when the store's runtime version moves, so a decision never waits on a lock or
//! the database.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use lunli_governance::RuntimeSnapshot;
use lunli_governance::runtime::{Consent, Suspension, SystemPolicy};
use lunli_governance::store::ApiKey;

/// A snapshot indexed for lookups on the hot path.
#[derive(Debug, Default)]
pub struct Indexed {
    pub version: u64,
    pub policies: HashMap<String, SystemPolicy>,
    pub suspensions: HashMap<String, Vec<Suspension>>,
    pub consents: HashMap<(String, String), Consent>,
    /// By SHA-256 of the secret.
    pub keys: HashMap<String, ApiKey>,
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
            consents: snapshot.consents.into_iter().map(|c| ((c.system.clone(), c.subject.clone()), c)).collect(),
            keys: snapshot.keys.into_iter().map(|k| (k.sha256.clone(), k)).collect(),
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
