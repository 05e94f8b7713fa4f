//! What every governance command needs: the catalogue, the data directory and its store, who
//! is acting, and the time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context as _, Result};
use lunli_norms::Catalogue;
use lunli_store::{AnyStore, LedgerKeys, PostgresStore, SqliteStore};

use crate::cli::GlobalArgs;

pub struct Context {
    /// The bundled catalogue, the `--catalogue` overlay and the active norm packs.
    pub catalogue: Catalogue,
    /// The audit thresholds of the active packs, when one carries them (Art. 24).
    pub pack_audit_policy: Option<lunli_audit::policy::Policy>,
    pub data_dir: PathBuf,
    /// PostgreSQL to keep the state in instead of the data directory (`--database-url`).
    pub database_url: Option<String>,
    pub actor: String,
    /// The store opened to read the active packs, handed to the first [`Context::store`] call so
    /// that a command does not open (and, on PostgreSQL, connect and migrate) it twice.
    pub opened: Mutex<Option<AnyStore>>,
}

impl Context {
    pub fn new(global: &GlobalArgs) -> Result<Self> {
        let (packs, opened) = crate::pack::active_packs_and_store(global)?;
        let catalogue = Catalogue::layered(global.catalogue.as_deref(), &packs)?;
        let pack_audit_policy = crate::pack::audit_policy_of(&packs)?;
        let data_dir = match &global.data_dir {
            Some(dir) => dir.clone(),
            None => default_data_dir()?,
        };
        let actor = global.actor.clone().unwrap_or_else(os_user);
        let database_url = global.database_url.clone().filter(|url| !url.trim().is_empty());
        // The database holds entries and heads; the signing key stays in the data directory.
        let opened = opened.map(|store| match store {
            AnyStore::Postgres(store) => store.with_ledger_keys(LedgerKeys::in_dir(&data_dir)).into(),
            sqlite => sqlite,
        });
        Ok(Self { catalogue, pack_audit_policy, data_dir, database_url, actor, opened: Mutex::new(opened) })
    }

    /// The store the governance commands and the gateway work on: PostgreSQL when a database
    /// URL is given, else the embedded store in the data directory.
    pub fn store(&self) -> Result<AnyStore> {
        if let Some(store) = self.opened.lock().ok().and_then(|mut opened| opened.take()) {
            return Ok(store);
        }
        Ok(match &self.database_url {
            // The database holds entries and heads; the signing key stays in the data directory.
            Some(url) => PostgresStore::connect(url)?.with_ledger_keys(LedgerKeys::in_dir(&self.data_dir)).into(),
            None => SqliteStore::open(&self.data_dir)?.into(),
        })
    }
}

/// The platform's data directory for lunli (`~/.local/share/lunli` on Linux).
pub fn default_data_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "lunli")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("cannot find the user's data directory; pass --data-dir or set LUNLI_DATA_DIR")
}

fn os_user() -> String {
    ["LOGNAME", "USER", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .map(|u| u.trim().to_lowercase())
        .unwrap_or_else(|| "unknown".into())
}

/// Now, at the millisecond precision the ledger records.
pub fn now() -> jiff::Timestamp {
    let ms = jiff::Timestamp::now().as_millisecond();
    jiff::Timestamp::from_millisecond(ms).unwrap_or_else(|_| jiff::Timestamp::now())
}

pub fn today() -> jiff::civil::Date {
    now().to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

/// Reads a file a person wrote, or standard input for `-`, naming the path on failure.
pub fn read_input(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).context("reading standard input")?;
        return Ok(text);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::Error::new(crate::InputError {
            file: path.display().to_string(),
            line: None,
            reason: format!("not UTF-8 (first bad byte at offset {}); save it as UTF-8", e.utf8_error().valid_up_to()),
        })
    })
}
