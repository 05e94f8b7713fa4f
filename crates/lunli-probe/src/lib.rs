//! Probing a generative AI service: ask it the catalogue's probe questions over the OpenAI
//! chat-completions API, judge each answer with transparent rules, and report the rates with
//! Wilson confidence intervals against the gates of GB/T 45654-2025.
//!
//! What it is: an HTTP client with retries, timeouts, a concurrency limit and a rate limit
//! ([`client`]), over plain TCP or TLS with the system's roots and extra CA certificates
//! ([`tls`]); a resumable run file, one JSON line per event, that never lets a question be sent
//! twice ([`runfile`]); a refusal/disclosure/personal-information classifier whose every
//! judgement names the phrase that decided it ([`judge`]); the report ([`report`]; its page is
//! lunli-report's audit page, like every audit's); and a scripted OpenAI-compatible server for
//! tests, the demo and the benchmark, over HTTP or HTTPS ([`scripted`]).
//!
//! What it is not: it stores nothing in lunli's registry and prints nothing; the `lunli probe`
//! command records a run as evidence and renders it. Start from [`run::Run`] and
//! [`report::Report::from_records`].

pub mod client;
mod error;
pub mod judge;
pub mod report;
pub mod run;
pub mod runfile;
pub mod scripted;
pub mod stats;
pub mod tls;

pub use error::ProbeError;
