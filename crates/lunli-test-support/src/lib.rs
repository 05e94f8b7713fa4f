//! Fixtures shared by lunli's integration tests, in one place instead of copies: a fresh store
//! on each backend ([`backend`]: SQLite in a temporary directory, PostgreSQL in a schema of its
//! own), the macro that runs a generic test once per backend, oversight records made directly
//! ([`records`]), a Ballista cluster of processes ([`cluster`]), a TCP proxy that counts
//! what a server sends ([`proxy`]), and the reference data and report comparison the audits'
//! tests share ([`reports`]). A dev-dependency only; nothing shipped links it.
//!
//! A fixture that cannot be made (no PostgreSQL answering, a temporary directory refused) fails
//! the test that asked for it, with the reason: tests never skip.

#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test fixtures: a fixture that cannot be made fails the test that asked for it"
)]

pub mod backend;
pub mod cluster;
pub mod proxy;
pub mod records;
pub mod reports;

/// Runs each generic test `fn name<B>()` once per backend, as `sqlite::name` and
/// `postgres::name`; the first two arguments name the test crate's SQLite and PostgreSQL types.
#[macro_export]
macro_rules! on_every_backend {
    ($sqlite:ident, $postgres:ident: $($test:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $test() { super::$test::<super::$sqlite>() } )*
        }
        mod postgres {
            $( #[test] fn $test() { super::$test::<super::$postgres>() } )*
        }
    };
}
