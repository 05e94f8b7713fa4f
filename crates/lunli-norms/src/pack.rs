//! Norm packs (Art. 24: organisations "formulate more specific ethical norms and related
//! measures based on this set of norms"). A pack is a directory with a `pack.toml` naming it and
//! files in the catalogue's own formats — extra controls, intake questions, tiering rules,
//! sign-off roles, stricter tier policies — laid over the base catalogue without editing it.
//!
//! A pack may add, and it may tighten: replace a base control with one required from a lower
//! tier, or a tier's policy with one that needs more sign-off roles or shorter reviews. It may
//! never loosen: drop or weaken a control, remove a sign-off role, lengthen a review interval,
//! redefine a rule, a question or the norms themselves. Such a pack is rejected with the file,
//! line and reason, like any catalogue problem. Other files in the directory (an audit policy,
//! say) travel with the pack for the tools that read them.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::error::{CatalogueError, Problem};
use crate::model::Text;
use crate::source::{SourceFile, read_tree};

/// The file that makes a directory a pack.
pub const MANIFEST: &str = "pack.toml";
/// What `extends` names when a pack builds directly on the base catalogue.
pub const BASE: &str = "lunli";

/// A pack's identity, from its `pack.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackManifest {
    /// Lowercase letters, digits and `-`, e.g. `bank-credit`.
    pub id: String,
    /// The pack's own version, recorded with every assessment it applies to.
    pub version: String,
    /// `lunli` for the base catalogue, or the id of a pack that must be layered first.
    pub extends: String,
    pub title: Text,
    pub description: Text,
}

/// One file of a pack, by its path inside the pack directory (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackFile {
    pub path: String,
    pub contents: String,
}

/// Which pack versions a catalogue (and so an assessment) was built with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackRef {
    pub id: String,
    pub version: String,
    /// SHA-256 over the pack's files (path and contents), so a changed pack is never mistaken
    /// for the one recorded.
    pub digest: String,
}

/// A pack read from a directory or from the store, its manifest checked; its catalogue files
/// are validated when it is layered over a catalogue ([`crate::Catalogue::layered`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub manifest: PackManifest,
    /// Where it came from, for error messages: the directory, or `pack bank-credit@1.0.0`.
    pub source: String,
    /// Every file, sorted by path, `pack.toml` included.
    pub files: Vec<PackFile>,
    pub digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifestFile {
    pack: Spanned<RawManifest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    id: Spanned<String>,
    version: Spanned<String>,
    #[serde(default = "base")]
    extends: String,
    title: Spanned<Text>,
    description: Spanned<Text>,
}

fn base() -> String {
    BASE.to_string()
}

impl Pack {
    /// Reads the pack in `dir`: `pack.toml` and every `*.toml`, `*.yaml` and `*.yml` below it.
    pub fn read(dir: &Path) -> Result<Self, CatalogueError> {
        let files = read_tree(dir, &["toml", "yaml", "yml"])?
            .into_iter()
            .map(|file| PackFile { path: file.relative, contents: file.contents })
            .collect();
        Self::from_files(&dir.display().to_string(), files)
    }

    /// A pack from its files (as stored when it was activated). `source` names it in messages.
    pub fn from_files(source: &str, mut files: Vec<PackFile>) -> Result<Self, CatalogueError> {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let Some(manifest_file) = files.iter().find(|f| f.path == MANIFEST) else {
            return Err(CatalogueError::Invalid(vec![Problem {
                file: format!("{source}/{MANIFEST}"),
                line: 1,
                column: 1,
                reason: format!(
                    "no {MANIFEST}: a pack directory holds a {MANIFEST} with [pack] id, version, extends, title and description"
                ),
            }]));
        };
        let file = SourceFile {
            relative: MANIFEST.into(),
            display: format!("{source}/{MANIFEST}"),
            contents: manifest_file.contents.clone(),
        };
        let manifest = parse_manifest(&file).map_err(CatalogueError::Invalid)?;
        let digest = digest(&files);
        Ok(Self { manifest, source: source.to_string(), files, digest })
    }

    pub fn reference(&self) -> PackRef {
        PackRef { id: self.manifest.id.clone(), version: self.manifest.version.clone(), digest: self.digest.clone() }
    }

    /// A file of the pack by its path inside the pack, e.g. `audit-policy.yaml`.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files.iter().find(|f| f.path == path).map(|f| f.contents.as_str())
    }

    /// The pack's catalogue files (every `*.toml` but `pack.toml`), as sources to layer.
    pub(crate) fn sources(&self) -> Vec<SourceFile> {
        self.files
            .iter()
            .filter(|f| f.path != MANIFEST && f.path.ends_with(".toml"))
            .map(|f| SourceFile {
                relative: format!("packs/{}/{}", self.manifest.id, f.path),
                display: format!("{}/{}", self.source, f.path),
                contents: f.contents.clone(),
            })
            .collect()
    }
}

fn parse_manifest(file: &SourceFile) -> Result<PackManifest, Vec<Problem>> {
    let raw = toml::from_str::<RawManifestFile>(&file.contents).map_err(|e| {
        let reason = e.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
        vec![file.problem(e.span().unwrap_or(0..0), reason)]
    })?;
    let raw = raw.pack.into_inner();
    let mut problems = Vec::new();
    let id_span = raw.id.span();
    let id = raw.id.into_inner();
    let id_ok = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && id.len() <= 64
        && id != BASE;
    if !id_ok {
        problems.push(file.problem(
            id_span,
            format!("pack id `{id}` is not valid; use up to 64 lowercase letters, digits and `-`, starting with a letter (not `{BASE}`)"),
        ));
    }
    let version_span = raw.version.span();
    let version = raw.version.into_inner();
    if version.is_empty() || version.len() > 64 || version.chars().any(|c| c.is_whitespace() || c.is_control()) {
        problems.push(file.problem(version_span, format!("pack version `{version}` is not valid; e.g. \"1.0.0\"")));
    }
    for (what, text) in [("title", &raw.title), ("description", &raw.description)] {
        for (lang, value) in [("zh", &text.get_ref().zh), ("en", &text.get_ref().en)] {
            if value.trim().is_empty() {
                problems.push(
                    file.problem(
                        text.span(),
                        format!("pack {what} has no {lang} text; every text needs both zh and en"),
                    ),
                );
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(PackManifest {
        id,
        version,
        extends: raw.extends,
        title: raw.title.into_inner(),
        description: raw.description.into_inner(),
    })
}

fn digest(files: &[PackFile]) -> String {
    let mut hasher = Sha256::new();
    for file in files {
        for part in [file.path.as_bytes(), file.contents.as_bytes()] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
