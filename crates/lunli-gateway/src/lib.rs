//! `lunli serve`: the runtime gateway every AI product calls on each request, so that every AI
//! service stays under human control (Art. 3(4), Art. 16, Art. 17, Art. 19). It answers from an
//! in-memory snapshot of runtime state — suspensions, consents, approvals — and appends every
//! decision to the ledger through a group-committing writer.
//!
//! This crate is the HTTP layer and its plumbing; the decision rules are
//! `lunli_governance::runtime::decide`, shared with every other client. Start from [`Gateway`]
//! and [`api::router`].
//!
//! [`Gateway::serve`] holds every connection to time limits (headers, body, idle) and caps how
//! many are open (`connections.rs`), so slow or silent clients cannot take the file descriptors
//! that `/healthz` and the services calling the gateway need; it signs tree heads while it runs
//! (`heads.rs`).

pub mod access;
pub mod api;
pub mod config;
mod connections;
pub mod dashboard;
pub mod forwarded;
mod heads;
pub mod metrics;
pub mod oversight;
pub mod paging;
pub mod recorder;
pub mod state;

use std::sync::Arc;
use std::time::Duration;

use lunli_governance::Governance;
use lunli_governance::store::Store;
use lunli_ledger::store::Ledger;
use lunli_norms::Catalogue;

use crate::access::AccessPolicy;
use crate::api::AppState;
use crate::config::GatewayConfig;
use crate::metrics::Metrics;
use crate::recorder::Recorder;
use crate::state::{Consents, RuntimeState};

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config { file: String, line: Option<usize>, reason: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error("cannot start the ledger writer: {0}")]
    Writer(#[source] std::io::Error),
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Governance(#[from] lunli_governance::GovernanceError),
}

/// A configured gateway over a store, ready to serve.
pub struct Gateway<S> {
    state: Arc<AppState<S>>,
    writer: std::thread::JoinHandle<()>,
}

impl<S: Store + Ledger + Send + Sync + 'static> Gateway<S> {
    /// Loads runtime state and starts the ledger writer.
    pub fn new(store: Arc<S>, catalogue: Arc<Catalogue>, config: GatewayConfig) -> Result<Self, GatewayError> {
        let policy = match &config.access_policy {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| GatewayError::Config {
                    file: path.display().to_string(),
                    line: None,
                    reason: e.to_string(),
                })?;
                AccessPolicy::parse(&path.display().to_string(), &text)?
            }
            None => AccessPolicy::default_policy()?,
        };
        let gov = Governance::new(&catalogue, &*store);
        let snapshot = gov.runtime_snapshot(&config.runtime_defaults())?;
        let consents = Consents::default();
        consents.catch_up(&gov)?;
        let metrics = Arc::new(Metrics::new());
        let linger = Duration::from_millis(config.group_commit_linger_millis);
        let (recorder, writer) =
            Recorder::start(store.clone(), catalogue.clone(), metrics.clone(), config.ledger_queue, linger)
                .map_err(GatewayError::Writer)?;
        let state = Arc::new(AppState {
            store,
            catalogue,
            runtime: Arc::new(RuntimeState::new(snapshot)),
            consents: Arc::new(consents),
            recorder,
            policy: Arc::new(policy),
            metrics,
            oversight: crate::oversight::OversightState::new(&config),
            config: Arc::new(config),
        });
        Ok(Self { state, writer })
    }

    /// The JSON API and, under `/ui/`, the dashboard.
    pub fn router(&self) -> axum::Router {
        api::router(self.state.clone()).merge(dashboard::router(self.state.clone()))
    }

    /// Serves until `shutdown` resolves, then stops taking requests, lets those in flight
    /// finish, and waits until every queued ledger entry is written.
    ///
    /// Each connection is held to the configured limits: a client that starts a request has
    /// `header_timeout_millis` to send its headers and then `body_timeout_millis` for its body
    /// (`408`); a connection with no request under way is closed after `idle_timeout_millis`; and
    /// at most `max_connections` are open, a new one beyond that being answered `503` and closed
    /// unread.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let every = Duration::from_millis(self.state.config.head_interval_millis);
        let heads = heads::HeadSigner::start(self.state.store.clone(), every).map_err(GatewayError::Writer)?;
        let refresher = tokio::spawn(refresh(self.state.clone()));
        let result = connections::accept(listener, self.router(), &self.state.config, shutdown).await;
        refresher.abort();
        let _ = refresher.await;
        let Self { state, writer } = self;
        drop(state);
        // The writer ends once the last sender is gone; it writes what is queued first.
        tokio::task::spawn_blocking(move || writer.join())
            .await
            .map_err(|e| GatewayError::Serve(std::io::Error::other(e.to_string())))?
            .map_err(|_| GatewayError::Serve(std::io::Error::other("the ledger writer panicked")))?;
        // After the writer's last group commit: the last head covers every decision answered.
        tokio::task::spawn_blocking(move || heads.finish())
            .await
            .map_err(|e| GatewayError::Serve(std::io::Error::other(e.to_string())))?;
        result
    }
}

/// Picks up changes other instances made to the shared store: a suspension pulled anywhere is
/// obeyed here within one refresh interval. Systems, suspensions and keys are reloaded whole when
/// the runtime version moves; consents are read change by change from their feed.
async fn refresh<S: Store + Send + Sync + 'static>(state: Arc<AppState<S>>) {
    let interval = Duration::from_millis(state.config.refresh_millis.max(10));
    loop {
        tokio::time::sleep(interval).await;
        let (store, catalogue, defaults) =
            (state.store.clone(), state.catalogue.clone(), state.config.runtime_defaults());
        let known = state.runtime.load().version;
        let consents = state.consents.clone();
        let snapshot = tokio::task::spawn_blocking(move || {
            let gov = Governance::new(&catalogue, &*store);
            consents.catch_up(&gov)?;
            match gov.runtime_version() {
                Ok(v) if v == known => Ok(None),
                Ok(_) => gov.runtime_snapshot(&defaults).map(Some),
                Err(e) => Err(e),
            }
        })
        .await;
        match snapshot {
            Ok(Ok(Some(snapshot))) => {
                state.runtime.replace(snapshot);
                state.metrics.reloads.inc();
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!("cannot refresh runtime state: {e}"),
            Err(e) => tracing::warn!("refresh task failed: {e}"),
        }
    }
}
