//! The inventory: AI systems, the people accountable for them and the vendors they rely on.
//! Records here are plain data with validation; storing them is the store's job.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use lunli_norms::Text;
use serde::{Deserialize, Serialize};

use crate::GovernanceError;

/// The organisation's role toward a system (Art. 2): it may build it, supply it to others, use
/// it, or several of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgRole {
    Developer,
    Supplier,
    /// Uses or deploys a system (the norms' "use" activity).
    User,
}

/// Where a system is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Design,
    Development,
    Testing,
    Deployed,
    Retired,
}

/// Who meets the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exposure {
    Internal,
    PublicFacing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    InHouse,
    ThirdParty,
}

/// The legal basis for processing a data source (PIPL Art. 13), or that it holds no personal
/// information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalDuty,
    PublicHealthEmergency,
    NewsReporting,
    PublicInformation,
    OtherLaw,
    NotPersonal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VendorKind {
    Model,
    Data,
    Service,
}

macro_rules! vocabulary {
    ($ty:ty, $what:literal, [$($variant:ident => $id:literal, $zh:literal, $en:literal;)+]) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $id),+ }
            }
            pub fn name(self) -> Text {
                match self { $(<$ty>::$variant => Text { zh: $zh.into(), en: $en.into() }),+ }
            }
        }
        impl FromStr for $ty {
            type Err = GovernanceError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim().to_ascii_lowercase();
                <$ty>::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| GovernanceError::Invalid {
                    field: $what.into(),
                    reason: format!(
                        "`{s}` is not a known {}; expected one of: {}",
                        $what,
                        <$ty>::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
                    ),
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

vocabulary!(OrgRole, "role", [
    Developer => "developer", "研发者", "developer";
    Supplier => "supplier", "供应者", "supplier";
    User => "user", "使用者", "user / deployer";
]);
vocabulary!(Stage, "stage", [
    Design => "design", "设计", "design";
    Development => "development", "开发", "development";
    Testing => "testing", "测试", "testing";
    Deployed => "deployed", "已上线", "deployed";
    Retired => "retired", "已退役", "retired";
]);
vocabulary!(Exposure, "exposure", [
    Internal => "internal", "内部使用", "internal";
    PublicFacing => "public-facing", "面向公众", "public-facing";
]);
vocabulary!(ModelSource, "model source", [
    InHouse => "in-house", "自研", "in-house";
    ThirdParty => "third-party", "第三方", "third-party";
]);
vocabulary!(LegalBasis, "legal basis", [
    Consent => "consent", "个人同意", "consent";
    Contract => "contract", "订立、履行合同所必需", "necessary for a contract";
    LegalDuty => "legal-duty", "履行法定职责或义务", "legal duty or obligation";
    PublicHealthEmergency => "public-health-emergency", "应对突发公共卫生事件", "public health emergency";
    NewsReporting => "news-reporting", "新闻报道、舆论监督", "news reporting and public-interest supervision";
    PublicInformation => "public-information", "已合法公开的信息", "lawfully published information";
    OtherLaw => "other-law", "法律、行政法规规定的其他情形", "other cases provided by law";
    NotPersonal => "not-personal", "不含个人信息", "no personal information";
]);
vocabulary!(VendorKind, "vendor kind", [
    Model => "model", "模型", "model";
    Data => "data", "数据", "data";
    Service => "service", "服务", "service";
]);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub exposure: Exposure,
    /// Regions where it is offered or used, e.g. `CN`, `CN-31`, `EU`.
    #[serde(default)]
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelProvenance {
    pub source: ModelSource,
    /// Vendor id, required for a third-party model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Model name and version as the builder calls it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSource {
    pub name: String,
    pub legal_basis: LegalBasis,
    /// Vendor id when the data comes from a third party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
}

/// An AI system as registered: one version of its record. Changing any field makes a new
/// version; assessments belong to a version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct System {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Person id of the accountable owner (Art. 3(5): humans are the ultimate liable subjects).
    pub owner: String,
    pub roles: Vec<OrgRole>,
    pub purpose: String,
    /// Machine-readable purpose ids the runtime gateway accepts for this system (e.g.
    /// `credit-application`); requests for any other purpose are denied. Empty accepts any.
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub sectors: Vec<String>,
    pub deployment: Deployment,
    pub stage: Stage,
    pub model: ModelProvenance,
    #[serde(default)]
    pub data_sources: Vec<DataSource>,
    /// What it does, as users should be told (Art. 16).
    #[serde(default)]
    pub functions: Vec<String>,
    /// What it cannot do or does badly, as users should be told (Art. 16).
    #[serde(default)]
    pub limitations: Vec<String>,
    /// Who may pause it, when humans take over, what is watched and whom to call (Art. 8,
    /// Art. 17); empty keeps the gateway's defaults.
    #[serde(default, skip_serializing_if = "crate::playbook::Playbook::is_empty")]
    pub playbook: crate::playbook::Playbook,
}

impl System {
    /// Checks what the type system cannot: ids, required text, and that third parties are named.
    pub fn validate(&self) -> Result<(), GovernanceError> {
        check_id("system id", &self.id)?;
        check_id("owner", &self.owner)?;
        require("name", &self.name)?;
        require("purpose", &self.purpose)?;
        if self.roles.is_empty() {
            return Err(GovernanceError::Invalid {
                field: "roles".into(),
                reason: "name at least one of developer, supplier, user (Art. 2)".into(),
            });
        }
        if self.model.source == ModelSource::ThirdParty && self.model.vendor.is_none() {
            return Err(GovernanceError::Invalid {
                field: "model.vendor".into(),
                reason: "a third-party model needs its vendor id, so due diligence can be traced".into(),
            });
        }
        for (i, source) in self.data_sources.iter().enumerate() {
            require(&format!("data_sources[{i}].name"), &source.name)?;
        }
        self.playbook.validate()
    }

    /// Every vendor id the record refers to.
    pub fn vendors(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.model.vendor.iter().map(String::as_str).collect();
        ids.extend(self.data_sources.iter().filter_map(|d| d.vendor.as_deref()));
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

/// A completed ethics or AI-governance training (Art. 3(6), Art. 22).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Training {
    pub course: String,
    pub completed: Date,
    pub expires: Date,
}

/// Someone who owns systems, reviews evidence or signs off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Sign-off roles this person may hold (ids from the catalogue's roles).
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub training: Vec<Training>,
}

impl Person {
    pub fn validate(&self) -> Result<(), GovernanceError> {
        check_id("person id", &self.id)?;
        require("name", &self.name)?;
        for t in &self.training {
            if t.expires < t.completed {
                return Err(GovernanceError::Invalid {
                    field: "training".into(),
                    reason: format!(
                        "course `{}` expires ({}) before it was completed ({})",
                        t.course, t.expires, t.completed
                    ),
                });
            }
        }
        Ok(())
    }

    /// The latest expiry among trainings completed on or before `on`, if it is still valid.
    pub fn training_valid_on(&self, on: Date) -> Option<&Training> {
        self.training.iter().filter(|t| t.completed <= on && t.expires >= on).max_by_key(|t| t.expires)
    }
}

/// A supplier of a model, data or a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vendor {
    pub id: String,
    pub name: String,
    pub kind: VendorKind,
    /// Answers to the vendor due-diligence questions, by question id.
    #[serde(default)]
    pub due_diligence: std::collections::BTreeMap<String, DueDiligenceAnswer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueDiligenceAnswer {
    pub answer: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Vendor {
    pub fn validate(&self) -> Result<(), GovernanceError> {
        check_id("vendor id", &self.id)?;
        require("name", &self.name)
    }
}

/// Ids name systems, people and vendors in commands, evidence and the ledger: short,
/// lower-case, no spaces, so they are typed and compared without surprises.
pub fn check_id(field: &str, id: &str) -> Result<(), GovernanceError> {
    let valid = !id.is_empty()
        && id.len() <= 64
        && id.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.');
    if valid {
        Ok(())
    } else {
        Err(GovernanceError::Invalid {
            field: field.into(),
            reason: format!(
                "`{id}` is not a valid id; use up to 64 lower-case letters, digits, `-`, `_` or `.`, \
                 starting with a letter or digit (e.g. credit-scoring)"
            ),
        })
    }
}

fn require(field: &str, value: &str) -> Result<(), GovernanceError> {
    if value.trim().is_empty() {
        Err(GovernanceError::Invalid { field: field.into(), reason: "must not be empty".into() })
    } else {
        Ok(())
    }
}
