//! A system's standing in another framework's terms: for each item of a crosswalk, the
//! controls of the system's assessment that answer it, their status and evidence —
//! "ISO/IEC 42001 A.6.2.4: met by C-15-01, evidence …". Pure: the assessment and the crosswalk
//! in, a serialisable view out, so the CLI and the per-system report show the same thing.

use lunli_norms::{Framework, Strength, Text};
use serde::{Deserialize, Serialize};

use crate::assessment::{Assessment, ControlStatus, EvidenceItem};

/// Where a framework item stands for one system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemState {
    /// Every control of the assessment that answers it is met (or justified not applicable).
    Met,
    /// Some of those controls are met, others still open.
    PartlyMet,
    /// None of those controls is met yet.
    Open,
    /// Every control that answers it was justified as not applicable.
    NotApplicable,
    /// Controls answer it, but the system's tier requires none of them.
    NotRequired,
    /// No lunli control answers it: the framework asks for something the norms do not.
    NotCovered,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::PartlyMet => "partly-met",
            Self::Open => "open",
            Self::NotApplicable => "not-applicable",
            Self::NotRequired => "not-required",
            Self::NotCovered => "not-covered",
        }
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Self::Met => ("已满足", "met"),
            Self::PartlyMet => ("部分满足", "partly met"),
            Self::Open => ("未满足", "open"),
            Self::NotApplicable => ("不适用", "not applicable"),
            Self::NotRequired => ("本等级不要求", "not required at this tier"),
            Self::NotCovered => ("无对应控制", "not covered"),
        };
        Text { zh: zh.into(), en: en.into() }
    }
}

/// One system's status in a framework's terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemCrosswalk {
    pub framework: String,
    pub framework_title: Text,
    pub system: String,
    pub version: u32,
    pub assessment: u64,
    pub tier: lunli_norms::Tier,
    pub summary: StateSummary,
    /// Leaf items of the framework, in its order.
    pub items: Vec<ItemStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateSummary {
    pub met: usize,
    pub partly_met: usize,
    pub open: usize,
    pub not_applicable: usize,
    pub not_required: usize,
    pub not_covered: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemStatus {
    pub id: String,
    pub title: Text,
    pub state: ItemState,
    pub controls: Vec<ControlStanding>,
}

/// A control answering an item, as the assessment has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlStanding {
    pub control: String,
    pub strength: Strength,
    /// Its status in the assessment; none when the tier does not require it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ControlStatus>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub justification: String,
    /// Each piece of evidence in one line: `file model-card.md sha256:ab12…`, a link, …
    pub evidence: Vec<String>,
}

/// The system's standing in `framework`'s terms, from its assessment.
pub fn system_crosswalk(framework: &Framework, assessment: &Assessment) -> SystemCrosswalk {
    let mut summary = StateSummary::default();
    let mut items = Vec::new();
    for item in framework.items.iter().filter(|i| framework.is_leaf(&i.id)) {
        let controls: Vec<ControlStanding> = framework
            .mappings_to(&item.id)
            .into_iter()
            .map(|m| {
                let state = assessment.control(&m.control);
                ControlStanding {
                    control: m.control.clone(),
                    strength: m.strength,
                    status: state.map(|s| s.status),
                    justification: state.map(|s| s.justification.clone()).unwrap_or_default(),
                    evidence: state.map(|s| s.evidence.iter().map(|e| describe(&e.item)).collect()).unwrap_or_default(),
                }
            })
            .collect();
        let state = item_state(&controls);
        match state {
            ItemState::Met => summary.met += 1,
            ItemState::PartlyMet => summary.partly_met += 1,
            ItemState::Open => summary.open += 1,
            ItemState::NotApplicable => summary.not_applicable += 1,
            ItemState::NotRequired => summary.not_required += 1,
            ItemState::NotCovered => summary.not_covered += 1,
        }
        items.push(ItemStatus { id: item.id.clone(), title: item.title.clone(), state, controls });
    }
    SystemCrosswalk {
        framework: framework.id.clone(),
        framework_title: framework.title.clone(),
        system: assessment.system.clone(),
        version: assessment.version,
        assessment: assessment.id,
        tier: assessment.tier,
        summary,
        items,
    }
}

fn item_state(controls: &[ControlStanding]) -> ItemState {
    if controls.is_empty() {
        return ItemState::NotCovered;
    }
    let required: Vec<ControlStatus> = controls.iter().filter_map(|c| c.status).collect();
    if required.is_empty() {
        return ItemState::NotRequired;
    }
    let met = required.iter().filter(|s| **s == ControlStatus::Met).count();
    let not_applicable = required.iter().filter(|s| **s == ControlStatus::NotApplicable).count();
    if not_applicable == required.len() {
        ItemState::NotApplicable
    } else if met + not_applicable == required.len() {
        ItemState::Met
    } else if met > 0 {
        ItemState::PartlyMet
    } else {
        ItemState::Open
    }
}

/// One line per piece of evidence, enough to find it again.
fn describe(item: &EvidenceItem) -> String {
    match item {
        EvidenceItem::File { name, sha256, .. } => {
            format!("file {name} sha256:{}", sha256.get(..12).unwrap_or(sha256))
        }
        EvidenceItem::Link { url } => format!("link {url}"),
        EvidenceItem::Attestation { text } => format!("attestation \"{text}\""),
        EvidenceItem::Audit { audit, passed, .. } => {
            format!("audit {audit} {}", if *passed { "passed" } else { "failed" })
        }
    }
}
