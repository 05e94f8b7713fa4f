//! The `lunli` binary: parses the command line, wires the libraries together, prints, and maps
//! errors to exit codes. No governance rule lives here.

mod assess;
mod audit;
mod check;
mod cli;
mod context;
mod crosswalk;
mod demo;
mod filing;
mod hints;
mod intake;
mod label;
mod ledger;
mod model;
mod norms;
mod output;
mod oversight;
mod pack;
mod pii;
mod probe;
mod progress;
mod report;
mod serve;
mod systems;

use std::process::ExitCode;

// See Cargo.toml: memory freed on another thread than the one that allocated it is cheap here.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use lunli_governance::GovernanceError;
use lunli_norms::{Catalogue, CatalogueError, NotFound};
use serde::de::DeserializeOwned;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::output::Out;

/// Documented in `lunli --help` and the README.
mod exit {
    pub const FAILURE: u8 = 1;
    pub const INVALID_INPUT: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const MAY_NOT_SHIP: u8 = 5;
    pub const REFUSED: u8 = 6;
    pub const LEDGER_INVALID: u8 = 7;
}

/// A file or value a person wrote is not what lunli expects: where, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {reason}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct InputError {
    pub file: String,
    pub line: Option<usize>,
    pub reason: String,
}

impl InputError {
    /// A flag or a combination of flags that cannot be used: the place is the command line.
    pub fn command_line(reason: impl Into<String>) -> Self {
        InputError { file: "command line".into(), line: None, reason: reason.into() }
    }
}

/// `lunli check` found that the system may not ship; the report is already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MayNotShip(String);

/// Reads YAML (or JSON, which is YAML) into `T`, naming the file, line and field on failure.
/// Text over lunli's size or nesting limits is refused before it is parsed.
pub fn parse_yaml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, InputError> {
    lunli_norms::check_yaml_bounds(text).map_err(|e| InputError {
        file: file.to_string(),
        line: e.line(),
        reason: e.to_string(),
    })?;
    serde_yaml_ng::from_str(text).map_err(|e| InputError {
        file: file.to_string(),
        line: e.location().map(|l| l.line()),
        reason: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Errors quote what was given and stored, so they are escaped like all other output.
            if err.downcast_ref::<MayNotShip>().is_none() {
                eprintln!("error: {}", output::escape(&format!("{err:#}"), output::Breaks::Keep));
                if let Some(hint) = hints::hint(&err) {
                    eprintln!("hint: {}", output::escape(&hint, output::Breaks::Keep));
                }
            } else {
                eprintln!("{}", output::escape(&err.to_string(), output::Breaks::Keep));
            }
            ExitCode::from(exit_code(&err))
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let lang = cli.global.lang.unwrap_or_else(output::default_lang);
    let mut out = Out::new(lang, cli.global.format, output::width_from_env());
    let result = match &cli.command {
        Command::Norms(command) => {
            let catalogue = load_catalogue(cli)?;
            norms::run(&catalogue, command, &mut out)
        }
        Command::Demo(args) => demo::run(&Context::new(&cli.global)?, args, &mut out),
        Command::System(command) => systems::system(&Context::new(&cli.global)?, command, &mut out),
        Command::Person(command) => systems::person(&Context::new(&cli.global)?, command, &mut out),
        Command::Vendor(command) => systems::vendor(&Context::new(&cli.global)?, command, &mut out),
        Command::Intake(args) => intake::run(&Context::new(&cli.global)?, args, &mut out),
        Command::Assess(args) => assess::assess(&Context::new(&cli.global)?, args, &mut out),
        Command::Control(command) => assess::control(&Context::new(&cli.global)?, command, &mut out),
        Command::Evidence(command) => assess::evidence(&Context::new(&cli.global)?, command, &mut out),
        Command::Signoff(args) => assess::signoff(&Context::new(&cli.global)?, args, &mut out),
        Command::Status => assess::status(&Context::new(&cli.global)?, &mut out),
        Command::Check(args) => check::run(&load_catalogue(cli)?, args, &mut out),
        Command::Audit(command) => audit::run(&cli.global, command, &mut out),
        Command::Redact(args) => pii::redact(&cli.global, args, &mut out),
        Command::Ledger(command) => ledger::run(&cli.global, command, &mut out),
        Command::Serve(args) => serve::run(&Context::new(&cli.global)?, args),
        Command::Key(command) => serve::key(&Context::new(&cli.global)?, command, &mut out),
        Command::Review(command) => oversight::review(&Context::new(&cli.global)?, command, &mut out),
        Command::Incident(command) => oversight::incident(&Context::new(&cli.global)?, command, &mut out),
        Command::Feedback(command) => oversight::feedback(&Context::new(&cli.global)?, command, &mut out),
        Command::Playbook(command) => oversight::playbook(&Context::new(&cli.global)?, command, &mut out),
        Command::Crosswalk(args) => crosswalk::run(&cli.global, &load_catalogue(cli)?, args, &mut out),
        Command::Pack(command) => pack::run(&cli.global, command, &mut out),
        Command::Label(command) => label::run(&cli.global, command, &mut out),
        Command::Probe(command) => probe::run(&cli.global, command, &mut out),
        Command::Filing(command) => filing::run(&Context::new(&cli.global)?, command, &mut out),
        Command::Report(args) => report::run(&cli.global, args, &mut out),
    };
    // Art. 12: a command that changed the ledger leaves it covered by a signed tree head.
    let result = result.and_then(|()| ledger::seal(&cli.global, &cli.command));
    // What was produced before a failure (a check report, say) is still worth printing.
    out.flush()?;
    result
}

/// The bundled catalogue, the `--catalogue` overlay and the active norm packs (Art. 24).
fn load_catalogue(cli: &Cli) -> anyhow::Result<Catalogue> {
    pack::active_catalogue(&cli.global)
}

fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<CatalogueError>() {
            return match e {
                CatalogueError::Invalid(_) => exit::INVALID_INPUT,
                CatalogueError::Io { .. } => exit::FAILURE,
            };
        }
        if let Some(e) = cause.downcast_ref::<GovernanceError>() {
            return match e {
                GovernanceError::Invalid { .. } | GovernanceError::Answers(_) => exit::INVALID_INPUT,
                GovernanceError::NotFound { .. } => exit::NOT_FOUND,
                GovernanceError::Refused { .. }
                | GovernanceError::Blocked { .. }
                | GovernanceError::Forbidden { .. }
                | GovernanceError::Exists { .. } => exit::REFUSED,
                GovernanceError::Storage { .. } => exit::FAILURE,
            };
        }
        if let Some(lunli_gateway::GatewayError::Config { .. }) = cause.downcast_ref::<lunli_gateway::GatewayError>() {
            return exit::INVALID_INPUT;
        }
        if cause.downcast_ref::<ledger::LedgerInvalid>().is_some() {
            return exit::LEDGER_INVALID;
        }
        if cause.downcast_ref::<NotFound>().is_some() {
            return exit::NOT_FOUND;
        }
        if cause.downcast_ref::<InputError>().is_some() {
            return exit::INVALID_INPUT;
        }
        if let Some(e) = cause.downcast_ref::<lunli_probe::ProbeError>() {
            return match e {
                lunli_probe::ProbeError::Io { .. } => exit::FAILURE,
                lunli_probe::ProbeError::UnknownQuestion { .. } => exit::NOT_FOUND,
                _ => exit::INVALID_INPUT,
            };
        }
        if cause.downcast_ref::<MayNotShip>().is_some() {
            return exit::MAY_NOT_SHIP;
        }
    }
    exit::FAILURE
}
