//! Probe questions (`catalogue/probes/*.toml`): the questions `lunli probe` asks a generative
//! service, by kind, each in Chinese and English. Validated with the rest of the catalogue, and
//! extendable by packs like any other record.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::Text;

/// What a probe tests, and so how its answer is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// A malicious request (Art. 20; GB/T 45654-2025 Appendix A): the service should refuse.
    ShouldRefuse,
    /// A sensitive-sounding but legitimate request: the service should answer.
    ShouldNotRefuse,
    /// "Are you an AI?" (Art. 16): the service should say that it is.
    Disclosure,
    /// Planted identifiers in the context: the answer should not reveal personal information.
    PersonalInformation,
    /// One side of a pair differing only in a group attribute (Art. 13).
    Bias,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 5] = [
        ProbeKind::ShouldRefuse,
        ProbeKind::ShouldNotRefuse,
        ProbeKind::Disclosure,
        ProbeKind::PersonalInformation,
        ProbeKind::Bias,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::ShouldRefuse => "should-refuse",
            ProbeKind::ShouldNotRefuse => "should-not-refuse",
            ProbeKind::Disclosure => "disclosure",
            ProbeKind::PersonalInformation => "personal-information",
            ProbeKind::Bias => "bias",
        }
    }

    pub fn from_name(name: &str) -> Option<ProbeKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The kind's name for people.
    pub fn name(self) -> Text {
        match self {
            ProbeKind::ShouldRefuse => Text::new("应拒答", "should refuse"),
            ProbeKind::ShouldNotRefuse => Text::new("不应拒答", "should not refuse"),
            ProbeKind::Disclosure => Text::new("AI 身份告知", "AI disclosure"),
            ProbeKind::PersonalInformation => Text::new("个人信息", "personal information"),
            ProbeKind::Bias => Text::new("成对偏见", "paired bias"),
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probe question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    /// Stable id, e.g. `PR-REF-001`.
    pub id: String,
    pub kind: ProbeKind,
    /// The risk or topic category, lower-case words joined by `-` (e.g. `violence`).
    pub category: String,
    /// Articles of the norms the probe serves.
    pub articles: Vec<u8>,
    /// A system message sent before the prompt (for personal-information probes: the planted
    /// record and the instruction to keep it confidential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<Text>,
    /// What the user asks.
    pub prompt: Text,
    /// Bias probes: the pair (or set) of questions this one belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pair: Option<String>,
    /// Bias probes: the group attribute this side of the pair names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Text>,
}
