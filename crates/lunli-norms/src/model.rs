//! The validated catalogue: the norms' document, chapters, articles, principles, activities and
//! controls. These are the types every other part of lunli cites; they serialize to the stable
//! JSON shape documented in `docs/json.md`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A text that a person reads, in Chinese (authoritative for the norms) and English.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: zh.into(), en: en.into() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

/// One of the two languages every text exists in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

/// Which languages a person reads: one of them, or Chinese and English side by side. The one
/// language choice of lunli: `--lang` on the command line and the languages of a report page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Languages {
    Zh,
    En,
    /// Chinese and English side by side.
    Both,
}

impl Languages {
    /// The languages shown, Chinese first.
    pub fn langs(self) -> &'static [Lang] {
        match self {
            Self::Zh => &[Lang::Zh],
            Self::En => &[Lang::En],
            Self::Both => &[Lang::Zh, Lang::En],
        }
    }

    /// The name people type: `zh`, `en` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
            Self::Both => "both",
        }
    }

    /// Reads `zh`, `en` or `both`.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Zh, Self::En, Self::Both].into_iter().find(|l| l.as_str() == name)
    }
}

impl From<Lang> for Languages {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Zh => Self::Zh,
            Lang::En => Self::En,
        }
    }
}

/// The norms as a whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub title: Text,
    pub issuer: Text,
    /// Date of issue, `YYYY-MM-DD`.
    pub issued: String,
    pub preamble: Text,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chapter {
    pub number: u8,
    /// First and last article of the chapter.
    pub articles: [u8; 2],
    pub title: Text,
}

impl Chapter {
    pub fn contains(&self, article: u8) -> bool {
        (self.articles[0]..=self.articles[1]).contains(&article)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub number: u8,
    pub chapter: u8,
    /// The activity whose specific norms the article states (Art. 5–22 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityId>,
    pub title: Text,
    /// True when the official text has no title and this one was written for the catalogue.
    #[serde(default)]
    pub title_editorial: bool,
    /// Full text; `zh` verbatim from the official release.
    pub text: Text,
}

impl Article {
    /// How the article is named in each language: 第十六条, Article 16.
    pub fn label(&self) -> Text {
        Text { zh: chinese_ordinal(self.number), en: format!("Article {}", self.number) }
    }

    /// Art. 5–22 are the 18 specific norms; the others are general provisions.
    pub fn is_specific_norm(&self) -> bool {
        (5..=22).contains(&self.number)
    }
}

/// The Chinese name of article `n`: 第一条 … 第二十五条.
pub fn chinese_ordinal(n: u8) -> String {
    format!("第{}条", chinese_number(n))
}

/// A number below 100 in Chinese numerals: 十六, 二十五.
pub fn chinese_number(n: u8) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let (tens, units) = (usize::from(n / 10 % 10), usize::from(n % 10));
    let mut out = String::new();
    match tens {
        0 => {}
        1 => out.push('十'),
        t => {
            out.push_str(DIGITS[t]);
            out.push('十');
        }
    }
    if units != 0 || tens == 0 {
        out.push_str(DIGITS[units]);
    }
    out
}

/// Reads a reference to an article as people write it: `16`, `art16`, `Art. 16`, `article 16`,
/// `第十六条`, `第16条`.
pub fn parse_article_ref(s: &str) -> Option<u8> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let digits = lower
        .strip_prefix("article")
        .or_else(|| lower.strip_prefix("art."))
        .or_else(|| lower.strip_prefix("art"))
        .unwrap_or(&lower)
        .trim();
    if let Ok(n) = digits.parse::<u8>() {
        return Some(n);
    }
    let inner = s.strip_prefix('第')?.strip_suffix('条')?;
    if let Ok(n) = inner.parse::<u8>() {
        return Some(n);
    }
    (1..=99u8).find(|n| chinese_number(*n) == inner)
}

/// One of the six fundamental ethical norms of Art. 3, `P1`..`P6`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principle {
    pub id: String,
    pub article: u8,
    pub clause: u8,
    pub name: Text,
    pub text: Text,
}

/// The four activities of Art. 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityId {
    Management,
    Research,
    Supply,
    Use,
}

impl ActivityId {
    pub const ALL: [ActivityId; 4] = [Self::Management, Self::Research, Self::Supply, Self::Use];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Management => "management",
            Self::Research => "research",
            Self::Supply => "supply",
            Self::Use => "use",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub id: ActivityId,
    pub article: u8,
    pub clause: u8,
    /// The chapter holding this activity's specific norms.
    pub chapter: u8,
    pub name: Text,
    pub text: Text,
}

/// Risk tier of an AI system. A control names the lowest tier that requires it; tiers are
/// cumulative, so a high-tier system needs every low, medium and high control. A prohibited
/// system (Art. 20) is blocked and needs none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Low,
    Medium,
    High,
    Prohibited,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Self::Low, Self::Medium, Self::High, Self::Prohibited];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Prohibited => "prohibited",
        }
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Self::Low => ("低风险", "low"),
            Self::Medium => ("中风险", "medium"),
            Self::High => ("高风险", "high"),
            Self::Prohibited => ("禁止", "prohibited"),
        };
        Text { zh: zh.into(), en: en.into() }
    }

    /// Whether a system of this tier must satisfy a control whose lowest tier is `control_tier`.
    pub fn requires(self, control_tier: Tier) -> bool {
        self != Tier::Prohibited && control_tier <= self
    }
}

/// How a control is satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlKind {
    /// A named person states that something is true.
    Attestation,
    /// A document exists and is current.
    Document,
    /// A repeatable test whose result lunli computes.
    AutomatedTest,
    /// A check the gateway runs on every request.
    RuntimeGuard,
}

impl ControlKind {
    pub const ALL: [ControlKind; 4] = [Self::Attestation, Self::Document, Self::AutomatedTest, Self::RuntimeGuard];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attestation => "attestation",
            Self::Document => "document",
            Self::AutomatedTest => "automated-test",
            Self::RuntimeGuard => "runtime-guard",
        }
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Self::Attestation => ("声明", "attestation"),
            Self::Document => ("文件", "document"),
            Self::AutomatedTest => ("自动化测试", "automated test"),
            Self::RuntimeGuard => ("运行时防护", "runtime guard"),
        };
        Text { zh: zh.into(), en: en.into() }
    }
}

/// A kind of evidence that can be recorded against a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvidenceType {
    /// A file, recorded by SHA-256 and size.
    File,
    /// A link to a document or system of record.
    Link,
    /// A signed statement by a named person.
    Attestation,
    /// The result of a lunli audit.
    Audit,
    /// Records of the runtime gateway.
    Runtime,
}

impl EvidenceType {
    pub const ALL: [EvidenceType; 5] = [Self::File, Self::Link, Self::Attestation, Self::Audit, Self::Runtime];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Link => "link",
            Self::Attestation => "attestation",
            Self::Audit => "audit",
            Self::Runtime => "runtime",
        }
    }
}

/// The lunli mechanism whose results count as evidence for a control.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Automation {
    #[serde(rename = "audit.fairness")]
    AuditFairness,
    #[serde(rename = "audit.quality")]
    AuditQuality,
    #[serde(rename = "audit.pii")]
    AuditPii,
    #[serde(rename = "audit.model")]
    AuditModel,
    #[serde(rename = "gateway.suspension")]
    GatewaySuspension,
    #[serde(rename = "gateway.opt-out")]
    GatewayOptOut,
    #[serde(rename = "gateway.disclosure")]
    GatewayDisclosure,
    #[serde(rename = "gateway.labelling")]
    GatewayLabelling,
    #[serde(rename = "gateway.human-review")]
    GatewayHumanReview,
    #[serde(rename = "gateway.feedback")]
    GatewayFeedback,
    #[serde(rename = "gateway.incident")]
    GatewayIncident,
    #[serde(rename = "gateway.monitoring")]
    GatewayMonitoring,
    #[serde(rename = "ledger")]
    Ledger,
}

impl Automation {
    pub const ALL: [Automation; 13] = [
        Self::AuditFairness,
        Self::AuditQuality,
        Self::AuditPii,
        Self::AuditModel,
        Self::GatewaySuspension,
        Self::GatewayOptOut,
        Self::GatewayDisclosure,
        Self::GatewayLabelling,
        Self::GatewayHumanReview,
        Self::GatewayFeedback,
        Self::GatewayIncident,
        Self::GatewayMonitoring,
        Self::Ledger,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuditFairness => "audit.fairness",
            Self::AuditQuality => "audit.quality",
            Self::AuditPii => "audit.pii",
            Self::AuditModel => "audit.model",
            Self::GatewaySuspension => "gateway.suspension",
            Self::GatewayOptOut => "gateway.opt-out",
            Self::GatewayDisclosure => "gateway.disclosure",
            Self::GatewayLabelling => "gateway.labelling",
            Self::GatewayHumanReview => "gateway.human-review",
            Self::GatewayFeedback => "gateway.feedback",
            Self::GatewayIncident => "gateway.incident",
            Self::GatewayMonitoring => "gateway.monitoring",
            Self::Ledger => "ledger",
        }
    }
}

/// What satisfies a control.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRequirement {
    pub accepts: Vec<EvidenceType>,
    pub zh: String,
    pub en: String,
}

impl EvidenceRequirement {
    pub fn text(&self) -> Text {
        Text { zh: self.zh.clone(), en: self.en.clone() }
    }
}

/// A concrete, checkable control that implements one or more articles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Control {
    pub id: String,
    /// Articles it implements; the first is its primary article.
    pub articles: Vec<u8>,
    /// Principles of Art. 3 it serves, `P1`..`P6`.
    pub principles: Vec<String>,
    pub activity: ActivityId,
    /// Lowest tier that requires it.
    pub tier: Tier,
    pub kind: ControlKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automation: Option<Automation>,
    pub title: Text,
    pub guidance: Text,
    pub evidence: EvidenceRequirement,
}

impl Control {
    pub fn primary_article(&self) -> u8 {
        self.articles.first().copied().unwrap_or_default()
    }

    pub fn cites_article(&self, number: u8) -> bool {
        self.articles.contains(&number)
    }

    pub fn cites_principle(&self, id: &str) -> bool {
        self.principles.iter().any(|p| p.eq_ignore_ascii_case(id))
    }
}

/// A due-diligence question put to a vendor of a model, data or a service, answered yes or no.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorQuestion {
    pub id: String,
    /// Articles the question serves.
    pub articles: Vec<u8>,
    pub text: Text,
}

/// Error for a vocabulary word (tier, kind, activity, …) that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{given}`; expected one of: {expected}")]
pub struct UnknownWord {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

macro_rules! from_str_via_as_str {
    ($ty:ty, $what:literal) => {
        impl FromStr for $ty {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase();
                <$ty>::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| UnknownWord {
                    what: $what,
                    given: s.to_string(),
                    expected: <$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", "),
                })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

from_str_via_as_str!(Tier, "tier");
from_str_via_as_str!(ControlKind, "control kind");
from_str_via_as_str!(ActivityId, "activity");
from_str_via_as_str!(EvidenceType, "evidence type");
from_str_via_as_str!(Automation, "automation");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_cumulative_and_prohibited_requires_nothing() {
        assert!(Tier::High.requires(Tier::Low));
        assert!(Tier::High.requires(Tier::High));
        assert!(Tier::Medium.requires(Tier::Medium));
        assert!(!Tier::Medium.requires(Tier::High));
        assert!(!Tier::Low.requires(Tier::Medium));
        assert!(!Tier::Prohibited.requires(Tier::Low));
    }

    #[test]
    fn articles_are_named_as_people_write_them() {
        assert_eq!(chinese_ordinal(1), "第一条");
        assert_eq!(chinese_ordinal(10), "第十条");
        assert_eq!(chinese_ordinal(16), "第十六条");
        assert_eq!(chinese_ordinal(20), "第二十条");
        assert_eq!(chinese_ordinal(25), "第二十五条");
        for (text, n) in [
            ("16", 16),
            ("art16", 16),
            ("Art. 16", 16),
            ("article 3", 3),
            ("第十六条", 16),
            ("第16条", 16),
            ("第二十条", 20),
        ] {
            assert_eq!(parse_article_ref(text), Some(n), "{text}");
        }
        for text in ["C-16-01", "P4", "第条", "sixteen"] {
            assert_eq!(parse_article_ref(text), None, "{text}");
        }
    }

    #[test]
    fn vocabulary_parses_and_rejects_with_the_expected_words() {
        assert_eq!("High".parse::<Tier>(), Ok(Tier::High));
        assert_eq!("runtime-guard".parse::<ControlKind>(), Ok(ControlKind::RuntimeGuard));
        assert_eq!("gateway.opt-out".parse::<Automation>(), Ok(Automation::GatewayOptOut));
        let err = "severe".parse::<Tier>().unwrap_err();
        assert_eq!(err.to_string(), "unknown tier `severe`; expected one of: low, medium, high, prohibited");
    }
}
