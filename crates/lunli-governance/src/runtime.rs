//! Runtime human control (Art. 3(4), Art. 16, Art. 17, Art. 19): the rules the gateway applies on
//! every request to an AI service. Pure: the gateway hands in what it knows about the system,
//! its suspensions and the subject's choices, and gets the decision back.
//!
//! The order of the rules is the point. A suspension, a prohibition and a subject's opt-out each
//! outrank anything that would allow the request; only then do purpose and review thresholds
//! apply.

use jiff::Timestamp;
use lunli_norms::{Text, Tier};
use serde::{Deserialize, Serialize};

/// A suspension of a whole system, or of one purpose of it: the kill switch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    pub system: String,
    /// `None` suspends the whole system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    pub reason: String,
    pub by: String,
    pub at: Timestamp,
}

/// Whether a subject wants the AI or a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Ai,
    Human,
}

/// A subject's standing choice toward one system (Art. 16, Art. 19).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub system: String,
    /// Pseudonymous subject id: lunli never needs to know who the person is.
    pub subject: String,
    /// False once consent is withdrawn.
    pub given: bool,
    pub mode: Mode,
    pub at: Timestamp,
}

/// One change to a consent, numbered by the store: changes after the last one a gateway applied
/// are all it needs to read to stay current.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub seq: u64,
    pub consent: Consent,
}

/// How much a decision matters to the person it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    Low,
    Medium,
    High,
}

impl Impact {
    /// The name as requests and the ledger spell it (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Low => "low",
            Impact::Medium => "medium",
            Impact::High => "high",
        }
    }
}

/// Kinds of generated content that China's labelling measures cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Text,
    Image,
    Audio,
    Video,
    Scene,
}

/// What an AI product asks before it acts for a subject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub system: String,
    pub subject: String,
    /// The purpose of this request; must be one the system declares, when it declares any.
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub impact: Option<Impact>,
    /// The model's confidence in its output, 0 to 1.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Where the request comes from (app, web, phone …), recorded for monitoring.
    #[serde(default)]
    pub channel: Option<String>,
    /// Set when the answer will be generated content that must be labelled.
    #[serde(default)]
    pub content: Option<ContentKind>,
}

/// What the gateway knows about a system when it decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemPolicy {
    pub id: String,
    pub name: String,
    /// Tier of the current version's latest intake, if any.
    pub tier: Option<Tier>,
    /// Whether the current version's assessment is approved.
    pub approved: bool,
    /// Purposes the system declares; empty accepts any.
    pub purposes: Vec<String>,
    pub functions: Vec<String>,
    pub limitations: Vec<String>,
    /// Below this confidence a human reviews the output.
    pub review_below_confidence: f64,
    /// At or above this impact a human reviews the output.
    pub review_at_impact: Impact,
    /// Who provides the service, for the implicit label.
    pub provider: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allow,
    Deny,
    HumanReview,
}

impl Outcome {
    /// The name as answers and the ledger spell it (its serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::HumanReview => "human_review",
        }
    }
}

/// Why a decision came out as it did, as a stable code and words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub text: Text,
}

/// The labels China's Measures for Labelling AI-Generated Synthetic Content (2025) require:
/// an explicit label people can see and an implicit one in the file's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labels {
    pub explicit: Text,
    /// Metadata to embed, following the field names of GB 45438-2025 (`AIGC` block).
    pub implicit: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
    /// What to tell the user: that AI is in use, and its limits (Art. 16).
    pub disclosure: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// The way to a human, whenever the answer is not a plain allow (Art. 3(2), Art. 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_alternative: Option<Text>,
}

fn reason(code: &str, zh: String, en: String) -> Reason {
    Reason { code: code.to_string(), text: Text { zh, en } }
}

/// Decides a request. `decision_id` names this decision in the implicit label.
pub fn decide(
    policy: Option<&SystemPolicy>,
    suspensions: &[Suspension],
    consent: Option<&Consent>,
    request: &DecisionRequest,
    decision_id: &str,
) -> Decision {
    let Some(policy) = policy else {
        return Decision {
            outcome: Outcome::Deny,
            reasons: vec![reason(
                "unknown_system",
                format!("系统 {} 未登记，不得提供服务", request.system),
                format!("system {} is not registered; it may not serve", request.system),
            )],
            disclosure: generic_disclosure(),
            labels: None,
            human_alternative: Some(human_alternative()),
        };
    };
    let mut deny = Vec::new();
    // Art. 3(4), Art. 17: a suspension is obeyed before anything else.
    for s in suspensions.iter().filter(|s| s.system == policy.id) {
        match &s.purpose {
            None => deny.push(reason(
                "suspended",
                format!("系统已被 {} 暂停：{}", s.by, s.reason),
                format!("the system was suspended by {}: {}", s.by, s.reason),
            )),
            Some(p) if request.purpose.as_deref() == Some(p.as_str()) => deny.push(reason(
                "purpose_suspended",
                format!("用途 {p} 已被 {} 暂停：{}", s.by, s.reason),
                format!("purpose {p} was suspended by {}: {}", s.by, s.reason),
            )),
            Some(_) => {}
        }
    }
    // Art. 20: a prohibited use never serves.
    if policy.tier == Some(Tier::Prohibited) {
        deny.push(reason(
            "prohibited",
            "系统属于第二十条禁止的用途".into(),
            "the system falls under a use Art. 20 forbids".into(),
        ));
    } else if !policy.approved {
        deny.push(reason(
            "not_approved",
            "系统当前版本的评估尚未批准".into(),
            "the assessment of the system's current version is not approved".into(),
        ));
    }
    // Art. 16, Art. 19: quitting the AI mode must meet no obstacle, so an opt-out outranks every allow.
    if let Some(c) = consent {
        if !c.given {
            deny.push(reason("opted_out", "用户已撤回同意".into(), "the subject has withdrawn consent".into()));
        } else if c.mode == Mode::Human {
            deny.push(reason(
                "human_mode",
                "用户选择由人工办理".into(),
                "the subject chose to be served by a person".into(),
            ));
        }
    }
    if let Some(purpose) = &request.purpose {
        if !policy.purposes.is_empty() && !policy.purposes.iter().any(|p| p == purpose) {
            deny.push(reason(
                "outside_purpose",
                format!("用途 {purpose} 不在系统声明的用途内（{}）", policy.purposes.join("、")),
                format!("purpose {purpose} is not one the system declares ({})", policy.purposes.join(", ")),
            ));
        }
    } else if !policy.purposes.is_empty() {
        deny.push(reason(
            "purpose_missing",
            "请求未说明用途，而系统声明了用途".into(),
            "the request names no purpose, and the system declares its purposes".into(),
        ));
    }
    let disclosure = disclosure(policy);
    if !deny.is_empty() {
        return Decision {
            outcome: Outcome::Deny,
            reasons: deny,
            disclosure,
            labels: None,
            human_alternative: Some(human_alternative()),
        };
    }
    // Art. 3(4): humans keep the decisions that matter or that the model is unsure of.
    let mut review = Vec::new();
    if let Some(confidence) = request.confidence
        && (!(0.0..=1.0).contains(&confidence) || confidence < policy.review_below_confidence)
    {
        review.push(reason(
            "low_confidence",
            format!("模型置信度 {confidence} 低于 {}", policy.review_below_confidence),
            format!("the model's confidence {confidence} is below {}", policy.review_below_confidence),
        ));
    }
    if let Some(impact) = request.impact
        && impact >= policy.review_at_impact
    {
        review.push(reason(
            "high_impact",
            "影响程度要求人工复核".into(),
            "the impact of the decision calls for human review".into(),
        ));
    }
    let labels = request.content.map(|kind| labels(policy, kind, decision_id));
    if review.is_empty() {
        Decision { outcome: Outcome::Allow, reasons: vec![], disclosure, labels, human_alternative: None }
    } else {
        Decision {
            outcome: Outcome::HumanReview,
            reasons: review,
            disclosure,
            labels,
            human_alternative: Some(human_alternative()),
        }
    }
}

fn disclosure(policy: &SystemPolicy) -> Text {
    let limits_zh = if policy.limitations.is_empty() {
        String::new()
    } else {
        format!("局限：{}。", policy.limitations.join("；"))
    };
    let limits_en = if policy.limitations.is_empty() {
        String::new()
    } else {
        format!(" Limitations: {}", policy.limitations.join(" "))
    };
    Text {
        zh: format!("本服务使用人工智能（{}）。{limits_zh}结果可能有误，您可随时选择由人工办理。", policy.name),
        en: format!(
            "This service uses AI ({}).{limits_en} Its output may be wrong; you may ask for a person at any time.",
            policy.name
        ),
    }
}

fn generic_disclosure() -> Text {
    Text {
        zh: "本服务使用人工智能，结果可能有误，您可随时选择由人工办理。".into(),
        en: "This service uses AI; its output may be wrong, and you may ask for a person at any time.".into(),
    }
}

fn human_alternative() -> Text {
    Text {
        zh: "您的请求将由工作人员处理；您也可以随时联系人工服务。".into(),
        en: "A member of staff will handle your request; you can also reach a person at any time.".into(),
    }
}

fn labels(policy: &SystemPolicy, kind: ContentKind, decision_id: &str) -> Labels {
    let (zh, en) = match kind {
        ContentKind::Text => ("本内容由人工智能生成", "Generated by AI"),
        ContentKind::Image => ("AI生成图片", "AI-generated image"),
        ContentKind::Audio => ("本音频由人工智能生成", "AI-generated audio"),
        ContentKind::Video => ("AI生成视频", "AI-generated video"),
        ContentKind::Scene => ("AI生成虚拟场景", "AI-generated virtual scene"),
    };
    Labels {
        explicit: Text { zh: zh.into(), en: en.into() },
        implicit: serde_json::json!({
            "AIGC": {
                "Label": "1",
                "ContentProducer": policy.provider,
                "ProduceID": decision_id,
                "ReservedCode1": policy.id,
                "ContentPropagator": "",
                "PropagateID": "",
                "ReservedCode2": ""
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for impact in [Impact::Low, Impact::Medium, Impact::High] {
            assert_eq!(serde_json::to_value(impact).expect("json"), impact.as_str(), "{impact:?}");
        }
        for outcome in [Outcome::Allow, Outcome::Deny, Outcome::HumanReview] {
            assert_eq!(serde_json::to_value(outcome).expect("json"), outcome.as_str(), "{outcome:?}");
        }
    }

    fn policy() -> SystemPolicy {
        SystemPolicy {
            id: "chat".into(),
            name: "Chat".into(),
            tier: Some(Tier::Medium),
            approved: true,
            purposes: vec!["support".into()],
            functions: vec![],
            limitations: vec!["May be out of date.".into()],
            review_below_confidence: 0.6,
            review_at_impact: Impact::High,
            provider: "acme".into(),
        }
    }

    fn request() -> DecisionRequest {
        DecisionRequest {
            system: "chat".into(),
            subject: "s1".into(),
            purpose: Some("support".into()),
            impact: Some(Impact::Low),
            confidence: Some(0.9),
            channel: None,
            content: None,
        }
    }

    fn codes(d: &Decision) -> Vec<&str> {
        d.reasons.iter().map(|r| r.code.as_str()).collect()
    }

    fn at() -> Timestamp {
        Timestamp::UNIX_EPOCH
    }

    #[test]
    fn a_plain_request_is_allowed_with_disclosure() {
        let d = decide(Some(&policy()), &[], None, &request(), "d1");
        assert_eq!(d.outcome, Outcome::Allow);
        assert!(d.disclosure.en.contains("May be out of date.") && d.disclosure.zh.contains("人工智能"));
        assert!(d.human_alternative.is_none());
    }

    #[test]
    fn suspension_prohibition_and_opt_out_each_outrank_an_allow() {
        let suspended =
            Suspension { system: "chat".into(), purpose: None, reason: "drift".into(), by: "op".into(), at: at() };
        assert_eq!(codes(&decide(Some(&policy()), &[suspended], None, &request(), "d")), ["suspended"]);
        let mut prohibited = policy();
        prohibited.tier = Some(Tier::Prohibited);
        assert_eq!(codes(&decide(Some(&prohibited), &[], None, &request(), "d")), ["prohibited"]);
        let withdrawn = Consent { system: "chat".into(), subject: "s1".into(), given: false, mode: Mode::Ai, at: at() };
        let d = decide(Some(&policy()), &[], Some(&withdrawn), &request(), "d");
        assert_eq!((d.outcome, codes(&d)), (Outcome::Deny, vec!["opted_out"]));
        assert!(d.human_alternative.is_some());
        let human = Consent { given: true, mode: Mode::Human, ..withdrawn };
        assert_eq!(codes(&decide(Some(&policy()), &[], Some(&human), &request(), "d")), ["human_mode"]);
    }

    #[test]
    fn a_suspended_purpose_stops_only_that_purpose() {
        let mut p = policy();
        p.purposes.push("sales".into());
        let s = Suspension {
            system: "chat".into(),
            purpose: Some("sales".into()),
            reason: "r".into(),
            by: "op".into(),
            at: at(),
        };
        assert_eq!(decide(Some(&p), std::slice::from_ref(&s), None, &request(), "d").outcome, Outcome::Allow);
        let sales = DecisionRequest { purpose: Some("sales".into()), ..request() };
        assert_eq!(codes(&decide(Some(&p), &[s], None, &sales, "d")), ["purpose_suspended"]);
    }

    #[test]
    fn unapproved_unknown_and_off_purpose_requests_are_denied() {
        let mut p = policy();
        p.approved = false;
        assert_eq!(codes(&decide(Some(&p), &[], None, &request(), "d")), ["not_approved"]);
        assert_eq!(codes(&decide(None, &[], None, &request(), "d")), ["unknown_system"]);
        let off = DecisionRequest { purpose: Some("marketing".into()), ..request() };
        assert_eq!(codes(&decide(Some(&policy()), &[], None, &off, "d")), ["outside_purpose"]);
        let none = DecisionRequest { purpose: None, ..request() };
        assert_eq!(codes(&decide(Some(&policy()), &[], None, &none, "d")), ["purpose_missing"]);
    }

    #[test]
    fn low_confidence_and_high_impact_go_to_a_human() {
        let unsure = DecisionRequest { confidence: Some(0.4), ..request() };
        let d = decide(Some(&policy()), &[], None, &unsure, "d");
        assert_eq!((d.outcome, codes(&d)), (Outcome::HumanReview, vec!["low_confidence"]));
        let weighty = DecisionRequest { impact: Some(Impact::High), ..request() };
        assert_eq!(codes(&decide(Some(&policy()), &[], None, &weighty, "d")), ["high_impact"]);
        let nonsense = DecisionRequest { confidence: Some(7.0), ..request() };
        assert_eq!(decide(Some(&policy()), &[], None, &nonsense, "d").outcome, Outcome::HumanReview);
    }

    #[test]
    fn generated_content_carries_explicit_and_implicit_labels() {
        let text = DecisionRequest { content: Some(ContentKind::Text), ..request() };
        let d = decide(Some(&policy()), &[], None, &text, "dec-42");
        let labels = d.labels.expect("labels");
        assert_eq!(labels.explicit.zh, "本内容由人工智能生成");
        assert_eq!(labels.implicit["AIGC"]["Label"], "1");
        assert_eq!(labels.implicit["AIGC"]["ProduceID"], "dec-42");
        assert_eq!(labels.implicit["AIGC"]["ContentProducer"], "acme");
    }
}
