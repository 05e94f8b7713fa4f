//! The *Ethical Norms for New Generation Artificial Intelligence* (新一代人工智能伦理规范, 2021)
//! as data: articles 1–25 verbatim in Chinese and English, the six principles of Art. 3, the four
//! activities of Art. 2, and the checkable controls that implement the 18 specific norms.
//!
//! This crate loads the catalogue (compiled in from the workspace's `catalogue/` directory, or
//! laid over with an organisation's own files), validates it — every reference resolves, every
//! principle and specific norm has a control, and any problem is reported with its file and
//! line — and answers questions about it. It does not store anything, print anything, or know
//! about systems and assessments; those build on it.
//!
//! The catalogue also holds the intake questionnaire and the tiering rules as data
//! ([`Question`], [`Rule`], [`TierPolicy`], [`Role`]): validated here, evaluated against a
//! system's answers in `lunli-governance`.
//!
//! Crosswalks ([`Framework`]) map the controls to other AI rules (EU AI Act, NIST AI RMF,
//! ISO/IEC 42001, China's generative-AI and labelling measures); [`Framework::coverage`] says
//! which of their items the controls cover and how strongly.
//!
//! Probe questions ([`Probe`], `catalogue/probes/`) are the bank `lunli probe` asks a generative
//! service: validated here like every other record, extendable by packs.
//!
//! [`terms`] holds the words more than one renderer shows (fairness metrics, severities, audit
//! and assessment states), each once in both languages; [`Text`] carries any text a person reads
//! and [`Languages`] says which of its languages to show.
//!
//! [`check_yaml_bounds`] holds the size and nesting limits every crate applies to a YAML file a
//! person wrote before parsing it, so that they are the same everywhere.
//!
//! Start from [`Catalogue::bundled`], then [`Catalogue::controls_matching`] or
//! [`Catalogue::search`].

mod catalogue;
mod crosswalk;
mod error;
mod intake;
mod model;
mod pack;
mod probe;
mod query;
mod source;
pub mod terms;
mod yaml;

pub use catalogue::{ARTICLES, Catalogue, SPECIFIC_NORMS};
pub use crosswalk::{
    ControlLink, Coverage, CoverageSummary, Framework, FrameworkItem, GroupCoverage, ItemCoverage, Mapping, Strength,
};
pub use error::{CatalogueError, NotFound, Problem};
pub use intake::{AnswerTest, Condition, Question, QuestionKind, QuestionOption, Role, Rule, Ruleset, TierPolicy};
pub use model::{
    Activity, ActivityId, Article, Automation, Chapter, Control, ControlKind, Document, EvidenceRequirement,
    EvidenceType, Lang, Languages, Principle, Text, Tier, UnknownWord, VendorQuestion, chinese_number, chinese_ordinal,
    parse_article_ref,
};
pub use pack::{BASE as PACK_BASE, MANIFEST as PACK_MANIFEST, Pack, PackFile, PackManifest, PackRef};
pub use probe::{Probe, ProbeKind};
pub use query::{ControlFilter, HitKind, SearchHit, field_lang};
pub use yaml::{YAML_MAX_BYTES, YAML_MAX_DEPTH, YamlLimit, check_yaml_bounds};
