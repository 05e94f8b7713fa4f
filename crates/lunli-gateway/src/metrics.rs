//! Prometheus metrics, every series prefixed `lunli_`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use lunli_governance::runtime::Outcome;

use crate::recorder::RecorderObserver;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: String,
}

pub struct Metrics {
    registry: Registry,
    pub reviews_queued: Counter,
    pub feedback_refused: Family<ReasonLabel, Counter>,
    /// `lunli_decisions_total` by outcome, each series made at start (so all three show from
    /// the first scrape) and counted without a label look-up.
    decided: [Counter; 3],
    pub decision_seconds: Histogram,
    pub refused: Family<ActionLabel, Counter>,
    pub ledger_batch: Histogram,
    pub ledger_failures: Counter,
    pub ledger_overloaded: Counter,
    pub reloads: Counter,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("lunli");
        let decisions = Family::<OutcomeLabel, Counter>::default();
        registry.register("decisions", "Decisions by outcome", decisions.clone());
        let decided = [Outcome::Allow, Outcome::Deny, Outcome::HumanReview]
            .map(|o| decisions.get_or_create(&OutcomeLabel { outcome: o.as_str() }).clone());
        let decision_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "decision_seconds",
            "Time to decide, including a durable ledger write when required",
            decision_seconds.clone(),
        );
        let refused = Family::<ActionLabel, Counter>::default();
        registry.register("refused_requests", "Requests refused by the access policy", refused.clone());
        let ledger_batch = Histogram::new(exponential_buckets(1.0, 2.0, 11));
        registry.register("ledger_batch_size", "Events per group commit", ledger_batch.clone());
        let ledger_failures = Counter::default();
        registry.register("ledger_failed_events", "Events whose group commit failed", ledger_failures.clone());
        let ledger_overloaded = Counter::default();
        registry.register(
            "ledger_overloaded",
            "Events refused (answered 503) because the ledger writer's queue was full",
            ledger_overloaded.clone(),
        );
        let reloads = Counter::default();
        registry.register("runtime_reloads", "Reloads of runtime state after a change", reloads.clone());
        let reviews_queued = Counter::default();
        registry.register("reviews_queued", "Decisions sent to the human review queue", reviews_queued.clone());
        let feedback_refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "feedback_refused",
            "Public feedback refused, by reason (rate, size)",
            feedback_refused.clone(),
        );
        Self {
            registry,
            reviews_queued,
            feedback_refused,
            decided,
            decision_seconds,
            refused,
            ledger_batch,
            ledger_failures,
            ledger_overloaded,
            reloads,
        }
    }

    /// Counts one decision with `outcome`.
    pub fn decided(&self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Allow => 0,
            Outcome::Deny => 1,
            Outcome::HumanReview => 2,
        };
        self.decided[slot].inc();
    }

    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RecorderObserver for Metrics {
    fn batch(&self, size: usize) {
        self.ledger_batch.observe(size as f64);
    }
    fn failed(&self, size: usize) {
        self.ledger_failures.inc_by(size as u64);
    }
    fn overloaded(&self) {
        self.ledger_overloaded.inc();
    }
}
