//! The command line: every command, flag and help text in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use lunli_norms::{ActivityId, ControlKind, Tier};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command failed (I/O, storage or another runtime error)
  2  the command line is wrong (unknown command, flag or value)
  3  input data is invalid (a catalogue or other file a person wrote); the message names file and line
  4  what was asked for does not exist (an article, control, system, person … id)
  5  `lunli check`: the system may not ship (prohibited, or required controls unmet);
     `--strict` audits and label checks: findings or non-conforming files;
     `lunli probe --strict`: a gate failed
  6  the governance rules refuse the request (separation of duties, a frozen or prohibited
     assessment, something that already exists); the message says which rule
  7  `lunli ledger verify`: the ledger does not verify (an entry or signed head was altered,
     deleted, inserted or reordered); the message names the first bad index.
     `lunli report verify`: the report was altered or its proof does not hold";

/// lunli (伦理) turns China's Ethical Norms for New Generation Artificial Intelligence into working
/// governance: the norms as checkable controls, an inventory of AI systems, audits, runtime human
/// control and a tamper-evident ledger.
#[derive(Debug, Parser)]
#[command(name = "lunli", version, about, long_about = None, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Language of what people read: zh (中文), en, or both side by side. Defaults to zh when the
    /// locale is Chinese, otherwise en.
    #[arg(long, global = true, value_enum, env = "LUNLI_LANG")]
    pub lang: Option<LangChoice>,

    /// Output format. json and yaml are stable shapes for scripts (see docs/json.md) and always
    /// carry both languages.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table, env = "LUNLI_FORMAT")]
    pub format: Format,

    /// A directory of catalogue files laid over the bundled catalogue: a file with the same
    /// relative path (e.g. controls/use.toml) replaces the bundled one, any other *.toml is added.
    #[arg(long, global = true, value_name = "DIR", env = "LUNLI_CATALOGUE")]
    pub catalogue: Option<PathBuf>,

    /// Where lunli keeps its database and keys. Defaults to the user's data directory
    /// (e.g. ~/.local/share/lunli on Linux).
    #[arg(long, global = true, value_name = "DIR", env = "LUNLI_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Keep the registry, runtime state and ledger in PostgreSQL instead of the data directory,
    /// so that several `lunli serve` instances share them: a URL (postgres://user@host/db) or
    /// key=value pairs (host=… dbname=…).
    #[arg(long, global = true, value_name = "URL", env = "LUNLI_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Who is acting: a person id, recorded in the ledger with every change. Defaults to the
    /// operating-system user name.
    #[arg(long = "as", global = true, value_name = "PERSON", env = "LUNLI_ACTOR")]
    pub actor: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo's gateway listens; another free port is taken when this one is busy.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8750")]
    pub listen: std::net::SocketAddr,
    /// Stop the gateway when the story is told instead of leaving it running.
    #[arg(long)]
    pub no_serve: bool,
}

/// `--lang` as clap reads it; everywhere else it is [`lunli_norms::Languages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LangChoice {
    Zh,
    En,
    Both,
}

impl From<LangChoice> for lunli_norms::Languages {
    fn from(choice: LangChoice) -> Self {
        match choice {
            LangChoice::Zh => Self::Zh,
            LangChoice::En => Self::En,
            LangChoice::Both => Self::Both,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the norms: articles, principles, activities and the controls that implement them.
    #[command(subcommand)]
    Norms(NormsCommand),

    /// The main job, end to end on the embedded default: the norms as controls; a bundled example
    /// system registered, tiered, audited on bundled data and approved; decisions served over
    /// HTTP; then the gateway left running (Ctrl-C stops it).
    Demo(DemoArgs),

    /// The inventory of AI systems: register, list, show and change them.
    #[command(subcommand)]
    System(SystemCommand),

    /// People who own systems, review and sign off, with their roles and ethics training.
    #[command(subcommand)]
    Person(PersonCommand),

    /// Vendors of models, data and services, with their due diligence.
    #[command(subcommand)]
    Vendor(VendorCommand),

    /// Answer the intake questionnaire for a system and get its risk tier with the reasons.
    Intake(IntakeArgs),

    /// Open or show the assessment of a system's current version; submit or reopen it.
    Assess(AssessArgs),

    /// Set a control's status in a system's assessment.
    #[command(subcommand)]
    Control(ControlCommand),

    /// Attach evidence to a control in a system's assessment.
    #[command(subcommand)]
    Evidence(EvidenceCommand),

    /// Sign off a submitted assessment in one of the roles its tier requires.
    Signoff(SignoffArgs),

    /// The whole inventory at a glance: tier, stage, approval, re-review dates, what is overdue.
    Status,

    /// Check a lunli.yaml kept beside a model's repository: compute its tier and unmet
    /// controls, and exit 5 when the system may not ship. For CI pipelines.
    Check(CheckArgs),

    /// Audit predictions for group fairness (Art. 13) and data for quality (Art. 11), fast on large
    /// files; with --system the result is recorded as evidence on the controls it concerns.
    #[command(subcommand)]
    Audit(crate::audit::AuditCommand),

    /// Write a copy of a text file or table with personal information masked, replaced by a
    /// keyed hash, or generalised, and report what was replaced (Art. 3(3), Art. 11).
    Redact(crate::pii::RedactArgs),

    /// The tamper-evident ledger of every change: signed tree heads, verification (also offline,
    /// from an exported bundle), inclusion and consistency proofs, export for auditors.
    #[command(subcommand)]
    Ledger(LedgerCommand),

    /// Run the runtime gateway: the HTTP service every AI product calls on each request
    /// (decisions, kill switch, consent and opt-out), on the same data directory.
    Serve(ServeArgs),

    /// API keys for the gateway: create (the secret is shown once), list, revoke.
    #[command(subcommand)]
    Key(KeyCommand),

    /// A bilingual report on one system or (--org) the organisation, as HTML, JSON or PDF,
    /// recorded in the ledger with a proof any reader can check (`lunli report verify FILE`).
    Report(crate::report::ReportArgs),

    /// The human review queue: decisions the gateway sent to a person; claim and resolve them.
    #[command(subcommand)]
    Review(crate::oversight::ReviewCommand),

    /// Incidents: open, acknowledge, resolve, list (overdue ones stand out), show.
    #[command(subcommand)]
    Incident(crate::oversight::IncidentCommand),

    /// Feedback from the people a system serves (Art. 17, Art. 21): list, or record one.
    #[command(subcommand)]
    Feedback(crate::oversight::FeedbackCommand),

    /// A system's playbook: who may pause it, review thresholds, monitors, contacts, targets.
    #[command(subcommand)]
    Playbook(crate::oversight::PlaybookCommand),

    /// How lunli's controls answer other AI rules (EU AI Act, NIST AI RMF, ISO/IEC 42001, China's
    /// generative-AI and labelling measures); with --system, a system's standing in their terms.
    Crosswalk(crate::crosswalk::CrosswalkArgs),

    /// Norm packs (Art. 24): an organisation's own, stricter norms in the catalogue's formats,
    /// checked so that they never loosen the base, activated with a ledger entry.
    #[command(subcommand)]
    Pack(crate::pack::PackCommand),

    /// Labels on AI-generated content (GB 45438-2025): check files for the implicit AIGC label in
    /// their metadata and the explicit label in text; write a conforming implicit label without
    /// re-encoding the content.
    #[command(subcommand)]
    Label(crate::label::LabelCommand),

    /// Probe a generative AI service (any OpenAI-compatible chat endpoint) with the catalogue's
    /// question bank (GB/T 45654-2025): refusals, wrong refusals, AI disclosure, personal
    /// information and paired bias, with confidence intervals and gates; resumable runs.
    #[command(subcommand)]
    Probe(crate::probe::ProbeCommand),

    /// Draft China's filing material in Chinese (算法备案, 生成式人工智能服务备案) from a system's
    /// records, each field traced to its source, the gaps listed. Markdown, or --format json.
    #[command(subcommand)]
    Filing(crate::filing::FilingCommand),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides the configuration file).
    #[arg(long, env = "LUNLI_LISTEN")]
    pub listen: Option<std::net::SocketAddr>,
    /// Configuration file (TOML); every key is optional. See docs/gateway.md.
    #[arg(long, env = "LUNLI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format on standard error.
    #[arg(long, value_parser = ["text", "json"], default_value = "text", env = "LUNLI_LOG_FORMAT")]
    pub log_format: String,
    /// A reverse proxy in front of the gateway (CIDR like 10.0.0.0/8, or one address); repeat
    /// for several. Only from these are X-Forwarded-For and X-Forwarded-Proto believed. Added to
    /// `trusted_proxies` of the configuration file.
    #[arg(long = "trusted-proxy", value_name = "CIDR", value_parser = lunli_gateway::forwarded::parse_cidr, env = "LUNLI_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<lunli_gateway::forwarded::IpNet>,
    /// Mark the dashboard's cookies `Secure`: the gateway is reached over HTTPS through a proxy.
    /// (A trusted proxy sending `X-Forwarded-Proto: https` has the same effect per request.)
    #[arg(long, env = "LUNLI_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; its secret is printed once and only its SHA-256 is stored.
    Add {
        /// What the key is for, e.g. "credit app backend".
        #[arg(long)]
        name: String,
        /// Roles: service, operator, reviewer, owner, auditor, admin; repeat or comma-separate.
        #[arg(long = "role", value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// The person the key acts for (a registered person id); omit for a service's key.
        #[arg(long)]
        person: Option<String>,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by its id.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Register a system from a YAML or JSON file (schema: docs/lunli-yaml.md, `system:` part).
    Add {
        /// The system record; `-` reads standard input.
        #[arg(long, short)]
        file: PathBuf,
    },
    /// List registered systems.
    List,
    /// Show a system's record, its versions and where its assessment stands.
    Show { id: String },
    /// Change a system, making a new version: replace its record from a file, or change its stage.
    Update {
        id: String,
        /// The new record (same id).
        #[arg(long, short, conflicts_with = "stage")]
        file: Option<PathBuf>,
        /// Move it to a life-cycle stage: design, development, testing, deployed, retired.
        #[arg(long, required_unless_present = "file")]
        stage: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Register a person.
    Add {
        /// Person id, e.g. wang-fang.
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        email: Option<String>,
        /// Sign-off roles they hold (owner, data, legal, ethics-committee, management …); repeat or comma-separate.
        #[arg(long = "role", value_delimiter = ',')]
        roles: Vec<String>,
    },
    /// List people with their roles and training.
    List,
    /// Record a completed ethics training (Art. 3(6), Art. 22).
    Train {
        id: String,
        #[arg(long)]
        course: String,
        /// Completion date, YYYY-MM-DD.
        #[arg(long)]
        completed: String,
        /// Expiry date, YYYY-MM-DD (default: one year after completion).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Give a person another sign-off role.
    Grant {
        id: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum VendorCommand {
    /// Register a vendor.
    Add {
        id: String,
        #[arg(long)]
        name: String,
        /// model, data or service.
        #[arg(long)]
        kind: String,
    },
    /// List vendors with their due-diligence answers.
    List,
    /// Answer one due-diligence question for a vendor (`lunli vendor questions` lists them).
    Answer {
        id: String,
        /// Question id.
        question: String,
        /// yes or no.
        answer: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The due-diligence questions.
    Questions,
}

#[derive(Debug, Args)]
pub struct IntakeArgs {
    /// The system to take the intake for.
    pub system: String,
    /// Answers as YAML (`Q-ID: value`), for scripts; without it lunli asks in the terminal.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    pub system: String,
    /// Hand the assessment to its reviewers (every required control must be met or justified).
    #[arg(long, conflicts_with = "reopen")]
    pub submit: bool,
    /// Withdraw a submission so controls can change; every sign-off lapses.
    #[arg(long, value_name = "REASON")]
    pub reopen: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ControlCommand {
    /// Set a control's status: not-started, in-progress, met, not-met, not-applicable.
    Set {
        system: String,
        control: String,
        status: String,
        /// Why the control does not apply (required for not-applicable).
        #[arg(long, default_value = "")]
        justification: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Add evidence: a file (recorded by SHA-256 and size), a link, or an attestation.
    Add {
        system: String,
        control: String,
        #[arg(long, group = "item")]
        file: Option<PathBuf>,
        #[arg(long, group = "item")]
        link: Option<String>,
        /// A statement the acting person attests to.
        #[arg(long, group = "item")]
        attest: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Debug, Args)]
pub struct SignoffArgs {
    pub system: String,
    /// The role signed in (owner, data, legal, ethics-committee, management …).
    #[arg(long)]
    pub role: String,
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Show the latest signed tree head: size, root, time, signature and key fingerprint.
    Head {
        /// Sign a new head over the whole log first, if it grew since the latest one.
        #[arg(long)]
        sign: bool,
    },
    /// Recompute the whole tree from the database and check every signed head; with --bundle,
    /// verify an exported bundle offline, without any database. Exits 7 when verification fails.
    Verify {
        /// An exported bundle to verify offline (no data directory is opened or created).
        #[arg(long, value_name = "FILE", requires = "public_key")]
        bundle: Option<PathBuf>,
        /// The public key you trust (PEM). Required with --bundle; without it, the data
        /// directory's ledger-key.pub.pem.
        #[arg(long, value_name = "KEY")]
        public_key: Option<PathBuf>,
    },
    /// Prove an entry is in the log (--index N [--size S]), or that the log at size --to extends
    /// the log at size --from (consistency); sizes default to the latest signed head.
    Proof {
        /// The entry to prove included.
        #[arg(long, required_unless_present = "from", conflicts_with_all = ["from", "to"])]
        index: Option<u64>,
        /// The tree size to prove it in.
        #[arg(long, requires = "index")]
        size: Option<u64>,
        /// The earlier tree size of a consistency proof.
        #[arg(long)]
        from: Option<u64>,
        /// The later tree size of a consistency proof.
        #[arg(long, requires = "from")]
        to: Option<u64>,
    },
    /// Write the whole ledger (entries, signed heads, public key) as a JSON bundle for auditors.
    Export {
        #[arg(long, short, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print the ledger's public key (PEM), or write it to a file, to give to an auditor.
    ExportKey {
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The lunli.yaml file.
    #[arg(default_value = "lunli.yaml")]
    pub file: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum NormsCommand {
    /// List the 25 articles by chapter, with how many controls implement each.
    List,

    /// Show one article (16, art16, 第十六条), principle (P4) or control (C-16-01) in full, with
    /// the controls that implement it.
    Show {
        /// An article number, a principle id (P1–P6), an activity (management, research, supply,
        /// use) or a control id.
        id: String,
    },

    /// Search articles, principles and controls in Chinese and English. Every word must appear.
    Search {
        /// Words to look for, e.g. 退出, "opt out", 偏见 bias.
        #[arg(required = true, num_args = 1..)]
        text: Vec<String>,
    },

    /// List controls, filtered by article, principle, activity, tier or kind.
    Controls(ControlsArgs),
}

#[derive(Debug, Args)]
pub struct ControlsArgs {
    /// Controls citing this article (1–25).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=25))]
    pub article: Option<u8>,

    /// Controls serving this principle of Art. 3 (P1–P6).
    #[arg(long)]
    pub principle: Option<String>,

    /// Controls for this activity of Art. 2.
    #[arg(long, value_parser = parse_activity)]
    pub activity: Option<ActivityId>,

    /// Controls that a system of this risk tier must satisfy (tiers are cumulative: high
    /// includes medium and low).
    #[arg(long, value_parser = parse_tier)]
    pub tier: Option<Tier>,

    /// Controls of this kind: attestation, document, automated-test, runtime-guard.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<ControlKind>,
}

fn parse_activity(s: &str) -> Result<ActivityId, String> {
    s.parse().map_err(|e: lunli_norms::UnknownWord| e.to_string())
}

fn parse_tier(s: &str) -> Result<Tier, String> {
    s.parse().map_err(|e: lunli_norms::UnknownWord| e.to_string())
}

fn parse_kind(s: &str) -> Result<ControlKind, String> {
    s.parse().map_err(|e: lunli_norms::UnknownWord| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
