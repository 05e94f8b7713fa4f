//! `lunli serve` configuration: a TOML file, every key optional, with environment variables
//! (read by the binary) taking precedence.

use std::net::SocketAddr;

use lunli_governance::RuntimeDefaults;
use lunli_governance::runtime::Impact;
use lunli_norms::Tier;
use serde::Deserialize;

use crate::GatewayError;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Tiers whose decisions are durable in the ledger before the answer is sent; for other
    /// tiers the answer goes out at once and the entry follows in the next group commit.
    pub durable_tiers: Vec<Tier>,
    /// How often to look for changes made by other instances sharing the store.
    pub refresh_millis: u64,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Below this model confidence, a human reviews the output.
    pub review_below_confidence: f64,
    /// At or above this impact, a human reviews the output.
    pub review_at_impact: Impact,
    /// The organisation providing the AI services, for implicit content labels.
    pub provider: String,
    /// A replacement for the built-in access policy (roles → actions).
    pub access_policy: Option<std::path::PathBuf>,
    /// Public feedback accepted per client address and minute (Art. 17, Art. 21), after a burst.
    pub feedback_per_minute: u32,
    pub feedback_burst: u32,
    /// Largest feedback body accepted; feedback needs no key, so it gets less than the rest.
    pub feedback_max_bytes: usize,
    /// Reverse proxies in front of the gateway (CIDR or single addresses): only from these is
    /// `X-Forwarded-For` believed (for the feedback limit) and `X-Forwarded-Proto` (for the
    /// dashboard's `Secure` cookies). See [`crate::forwarded`].
    #[serde(deserialize_with = "crate::forwarded::deserialize_cidrs")]
    pub trusted_proxies: Vec<crate::forwarded::IpNet>,
    /// The dashboard's cookies always get `Secure`: the gateway is reached over HTTPS (through
    /// a proxy that terminates TLS).
    pub secure_cookies: bool,
    /// Once a client has sent the first byte of a request, the time it has to send all of its
    /// headers; a slow client cannot hold a connection open by trickling them.
    pub header_timeout_millis: u64,
    /// Once a request's headers are in, the time its client has to send the whole body (`408`).
    pub body_timeout_millis: u64,
    /// A connection with no request under way for this long is closed: kept-alive connections
    /// between requests, and new ones that send nothing.
    pub idle_timeout_millis: u64,
    /// Connections open at once; beyond it a new one is answered `503` and closed without its
    /// request being read. Each costs a file descriptor, which the store needs too.
    pub max_connections: usize,
    /// Who may read `/metrics`: a key granted `metrics.read` (the default), or anyone who can
    /// reach the gateway (`open`, for a scraper on a private network).
    pub metrics: MetricsAccess,
    /// A dashboard session unused this long ends.
    pub session_idle_minutes: u64,
    /// A dashboard session ends this long after sign-in, however much it is used.
    pub session_lifetime_hours: u64,
    /// Dashboard sessions kept at once; signing in beyond it ends the one unused longest.
    pub max_sessions: usize,
    /// How often a tree head is signed over the decisions appended since the last one (and once
    /// more when the gateway stops).
    pub head_interval_millis: u64,
    /// Ledger entries waiting for the writer at most. When the database cannot keep up (or is
    /// locked), decisions beyond this are answered `503` with `Retry-After` instead of being
    /// accepted into an ever longer queue; none that was answered is lost. The default, 65,536, is
    /// about two seconds of decisions at 30,000 a second.
    pub ledger_queue: usize,
    /// How long the ledger writer holds a group commit that nobody waits for (decisions of the
    /// tiers answered before their commit) while more decisions arrive, so that many share one
    /// fsync; one that somebody waits for is committed at once. A crash loses at most this much
    /// more of the decisions answered before their commit. 0 commits every batch at once.
    pub group_commit_linger_millis: u64,
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricsAccess {
    /// A key whose roles grant `metrics.read`: the series name systems and count refusals.
    Key,
    /// No key.
    Open,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        let runtime = RuntimeDefaults::default();
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8750)),
            durable_tiers: vec![Tier::High],
            refresh_millis: 250,
            max_body_bytes: 16 * 1024,
            review_below_confidence: runtime.review_below_confidence,
            review_at_impact: runtime.review_at_impact,
            provider: runtime.provider,
            access_policy: None,
            feedback_per_minute: 6,
            feedback_burst: 3,
            feedback_max_bytes: 8 * 1024,
            trusted_proxies: Vec::new(),
            secure_cookies: false,
            header_timeout_millis: 10_000,
            body_timeout_millis: 30_000,
            idle_timeout_millis: 60_000,
            max_connections: 1024,
            metrics: MetricsAccess::Key,
            session_idle_minutes: 30,
            session_lifetime_hours: 12,
            max_sessions: 10_000,
            head_interval_millis: 10_000,
            ledger_queue: 65_536,
            group_commit_linger_millis: 2,
        }
    }
}

impl GatewayConfig {
    pub fn parse(file: &str, text: &str) -> Result<Self, GatewayError> {
        let config: Self = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            GatewayError::Config { file: file.to_string(), line, reason: e.message().to_string() }
        })?;
        if !(0.0..=1.0).contains(&config.review_below_confidence) {
            return Err(GatewayError::Config {
                file: file.to_string(),
                line: None,
                reason: format!(
                    "review_below_confidence must be between 0 and 1, not {}",
                    config.review_below_confidence
                ),
            });
        }
        if config.feedback_per_minute == 0 || config.feedback_burst == 0 {
            return Err(GatewayError::Config {
                file: file.to_string(),
                line: None,
                reason: "feedback_per_minute and feedback_burst must be at least 1".into(),
            });
        }
        for (name, value) in [
            ("header_timeout_millis", config.header_timeout_millis),
            ("body_timeout_millis", config.body_timeout_millis),
            ("idle_timeout_millis", config.idle_timeout_millis),
            ("max_connections", config.max_connections as u64),
            ("session_idle_minutes", config.session_idle_minutes),
            ("session_lifetime_hours", config.session_lifetime_hours),
            ("max_sessions", config.max_sessions as u64),
            ("head_interval_millis", config.head_interval_millis),
            ("ledger_queue", config.ledger_queue as u64),
        ] {
            if value == 0 {
                return Err(GatewayError::Config {
                    file: file.to_string(),
                    line: None,
                    reason: format!("{name} must be at least 1"),
                });
            }
        }
        Ok(config)
    }

    pub fn runtime_defaults(&self) -> RuntimeDefaults {
        RuntimeDefaults {
            review_below_confidence: self.review_below_confidence,
            review_at_impact: self.review_at_impact,
            provider: self.provider.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_optional_and_unknown_keys_name_their_line() {
        assert_eq!(GatewayConfig::parse("c.toml", "").expect("empty"), GatewayConfig::default());
        let c = GatewayConfig::parse("c.toml", "listen = \"0.0.0.0:9000\"\ndurable_tiers = [\"high\", \"medium\"]\n")
            .expect("valid");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.durable_tiers, [Tier::High, Tier::Medium]);
        let err = GatewayConfig::parse("c.toml", "\nlisten = \"x\"\n").expect_err("bad address");
        assert!(err.to_string().starts_with("c.toml:2"), "{err}");
        let err = GatewayConfig::parse("c.toml", "listne = \"0.0.0.0:1\"\n").expect_err("typo");
        assert!(err.to_string().contains("unknown field `listne`"), "{err}");
    }

    #[test]
    fn limits_and_metrics_access_have_defaults_and_zero_is_refused() {
        let c = GatewayConfig::default();
        assert_eq!((c.header_timeout_millis, c.body_timeout_millis, c.idle_timeout_millis), (10_000, 30_000, 60_000));
        assert_eq!((c.max_connections, c.metrics), (1024, MetricsAccess::Key));
        assert_eq!((c.session_idle_minutes, c.session_lifetime_hours, c.max_sessions), (30, 12, 10_000));
        let c = GatewayConfig::parse("c.toml", "metrics = \"open\"\nmax_connections = 8\n").expect("valid");
        assert_eq!((c.metrics, c.max_connections), (MetricsAccess::Open, 8));
        let err = GatewayConfig::parse("c.toml", "metrics = \"public\"\n").expect_err("unknown access");
        assert!(err.to_string().starts_with("c.toml:1") && err.to_string().contains("`key`"), "{err}");
        let err = GatewayConfig::parse("c.toml", "header_timeout_millis = 0\n").expect_err("zero");
        assert!(err.to_string().contains("header_timeout_millis must be at least 1"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses_and_a_bad_one_names_its_line() {
        let c = GatewayConfig::parse("c.toml", "secure_cookies = true\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n")
            .expect("valid");
        assert!(c.secure_cookies);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.trusted_proxies[1].prefix_len(), 128);
        let err = GatewayConfig::parse("c.toml", "\ntrusted_proxies = [\"10.0.0.0/99\"]\n").expect_err("bad");
        assert!(err.to_string().starts_with("c.toml:2") && err.to_string().contains("`10.0.0.0/99`"), "{err}");
    }
}
