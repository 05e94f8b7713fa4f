//! The words that more than one part of lunli shows a person — fairness metrics, audit names and
//! verdicts, severities, data-quality dimensions, assessment and incident states, decision
//! outcomes — each defined once, in Chinese and English, so that the command line, the audit
//! pages, the reports and the dashboard cannot drift apart.
//!
//! Words that belong to one type stay beside it ([`crate::Tier::name`],
//! [`crate::ControlKind::name`]); the norms' own words are catalogue data. What is here is looked
//! up by the machine id the JSON carries (`demographic_parity_difference`, `high`, `blocked`); an
//! id with no term reads as itself in both languages.
//!
//! Choices where renderers had drifted apart: *demographic parity* is 人口统计均等 (the
//! demographic, 人口统计, not the population, 人口); rates of the confusion matrix are 真阳性率,
//! 假阳性率 … as the catalogue's own control guidance writes them (research.toml, C-13); Art. 3's
//! six norms are its 项 (items (一)…(六)), never 款, so the personal-information audit cites
//! 第三条第三项.

use crate::Text;

/// One word or phrase in both languages, under the id that machines use for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub id: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

impl Term {
    pub const fn new(id: &'static str, zh: &'static str, en: &'static str) -> Self {
        Self { id, zh, en }
    }

    pub fn text(&self) -> Text {
        Text { zh: self.zh.into(), en: self.en.into() }
    }
}

/// Disparities between groups (Art. 13), by the ids of the fairness audit's JSON.
pub const DISPARITIES: &[Term] = &[
    Term::new("demographic_parity_difference", "人口统计均等差", "demographic parity difference"),
    Term::new("demographic_parity_ratio", "人口统计均等比", "demographic parity ratio"),
    Term::new("equalized_odds_difference", "均等几率差", "equalized odds difference"),
    Term::new("equalized_odds_ratio", "均等几率比", "equalized odds ratio"),
    Term::new("equal_opportunity_difference", "机会均等差", "equal opportunity difference"),
    Term::new("predictive_parity_difference", "预测均等差", "predictive parity difference"),
    Term::new("disparate_impact_ratio", "差别影响比", "disparate impact ratio"),
];

/// Figures measured per group by the fairness audit.
pub const GROUP_METRICS: &[Term] = &[
    Term::new("count", "样本数", "count"),
    Term::new("base_rate", "基础正例率", "base rate"),
    Term::new("selection_rate", "选择率", "selection rate"),
    Term::new("true_positive_rate", "真阳性率", "true positive rate"),
    Term::new("false_positive_rate", "假阳性率", "false positive rate"),
    Term::new("false_negative_rate", "假阴性率", "false negative rate"),
    Term::new("true_negative_rate", "真阴性率", "true negative rate"),
    Term::new("precision", "精确率", "precision"),
    Term::new("negative_predictive_value", "阴性预测值", "negative predictive value"),
    Term::new("accuracy", "准确率", "accuracy"),
    Term::new("auc", "AUC", "AUC"),
    Term::new("calibration_error", "校准误差", "calibration error"),
];

/// The rate metrics of [`GROUP_METRICS`] in report order (`count`, `auc` and
/// `calibration_error` excluded): what the fairness audit computes for every group.
pub const GROUP_RATES: &[&str] = &[
    "base_rate",
    "selection_rate",
    "true_positive_rate",
    "false_positive_rate",
    "false_negative_rate",
    "true_negative_rate",
    "precision",
    "negative_predictive_value",
    "accuracy",
];

/// The audits, by the `audit` tag of their results.
pub const AUDITS: &[Term] = &[
    Term::new("fairness", "公平性审计（第十三条）", "Fairness audit (Art. 13)"),
    Term::new("quality", "数据质量审计（第十一条）", "Data-quality audit (Art. 11)"),
    Term::new("pii", "个人信息审计（第三条第三项、第十一条）", "Personal-information audit (Art. 3(3), Art. 11)"),
    Term::new("model", "模型审计（第十二、十三条）", "Model audit (Art. 12, 13)"),
    Term::new(
        "label",
        "生成合成内容标识检查（标识办法第四、五条）",
        "Content-label check (Labelling Measures Art. 4–5)",
    ),
    Term::new(
        "probe",
        "生成式服务探测（第十二、十三、十六、十九、二十条）",
        "Generative-service probe (Art. 12, 13, 16, 19, 20)",
    ),
];

/// Where a file stands in a content-label check (`lunli label check`), and the files it skipped.
pub const LABEL_STATUSES: &[Term] = &[
    Term::new("conforming", "符合", "conforming"),
    Term::new("missing_implicit", "缺少隐式标识", "missing implicit label"),
    Term::new("malformed", "隐式标识格式错误", "malformed implicit label"),
    Term::new("missing_explicit", "缺少显式标识", "missing explicit label"),
    Term::new("unreadable", "无法读取", "unreadable"),
    Term::new("skipped", "跳过（其他格式）", "skipped (other formats)"),
];

/// An audit's verdict.
pub const VERDICTS: &[Term] = &[Term::new("passed", "通过", "passed"), Term::new("failed", "未通过", "failed")];

/// How bad a finding or an incident is.
pub const SEVERITIES: &[Term] = &[
    Term::new("low", "低", "low"),
    Term::new("medium", "中", "medium"),
    Term::new("high", "高", "high"),
    Term::new("critical", "严重", "critical"),
];

/// The data-quality dimensions of Art. 11.
pub const QUALITY_DIMENSIONS: &[Term] = &[
    Term::new("completeness", "完整性", "completeness"),
    Term::new("timeliness", "及时性", "timeliness"),
    Term::new("consistency", "一致性", "consistency"),
    Term::new("normativeness", "规范性", "normativeness"),
    Term::new("accuracy", "准确性", "accuracy"),
];

/// Where an assessment stands, and the two states of a system without one.
pub const APPROVALS: &[Term] = &[
    Term::new("approved", "已批准", "approved"),
    Term::new("submitted", "已提交，待签核", "submitted, awaiting sign-off"),
    Term::new("open", "进行中", "open"),
    // Blocked because its tier is prohibited (Art. 20): 阻止, so as not to read as the tier, 禁止.
    Term::new("blocked", "已阻止", "blocked"),
    Term::new("not-assessed", "尚未评估", "not assessed"),
    Term::new("untiered", "未完成准入评估", "no intake yet"),
];

/// Where an incident stands (Art. 17, Art. 21).
pub const INCIDENT_STATUSES: &[Term] = &[
    Term::new("open", "未确认", "open"),
    Term::new("acknowledged", "已确认", "acknowledged"),
    Term::new("resolved", "已解决", "resolved"),
];

/// Which of its targets an incident has missed.
pub const INCIDENT_OVERDUE: &[Term] = &[
    Term::new("acknowledge", "确认逾期", "acknowledgement overdue"),
    Term::new("resolve", "解决逾期", "resolution overdue"),
];

/// What the gateway decided about a request.
pub const DECISIONS: &[Term] = &[
    Term::new("allow", "允许", "allow"),
    Term::new("deny", "拒绝", "deny"),
    Term::new("human_review", "人工复核", "human review"),
];

/// Every table above, named, for whoever must check or list them all.
pub const VOCABULARY: &[(&str, &[Term])] = &[
    ("disparities", DISPARITIES),
    ("group metrics", GROUP_METRICS),
    ("audits", AUDITS),
    ("verdicts", VERDICTS),
    ("severities", SEVERITIES),
    ("quality dimensions", QUALITY_DIMENSIONS),
    ("approvals", APPROVALS),
    ("incident statuses", INCIDENT_STATUSES),
    ("incident overdue", INCIDENT_OVERDUE),
    ("decisions", DECISIONS),
    ("label statuses", LABEL_STATUSES),
];

fn find(table: &[Term], id: &str) -> Text {
    table.iter().find(|t| t.id == id).map(Term::text).unwrap_or_else(|| Text { zh: id.into(), en: id.into() })
}

/// The name of a disparity, e.g. `demographic_parity_difference`.
pub fn disparity(id: &str) -> Text {
    find(DISPARITIES, id)
}

/// The name of a per-group figure, e.g. `selection_rate`.
pub fn group_metric(id: &str) -> Text {
    find(GROUP_METRICS, id)
}

/// The name of an audit: `fairness`, `quality` or `pii`.
pub fn audit(id: &str) -> Text {
    find(AUDITS, id)
}

/// A content-label status or count, e.g. `missing_implicit`.
pub fn label_status(id: &str) -> Text {
    find(LABEL_STATUSES, id)
}

/// An audit's verdict in words.
pub fn verdict(passed: bool) -> Text {
    find(VERDICTS, if passed { "passed" } else { "failed" })
}

/// A severity: `low`, `medium`, `high` or `critical`.
pub fn severity(id: &str) -> Text {
    find(SEVERITIES, id)
}

/// A data-quality dimension of Art. 11, e.g. `completeness`.
pub fn quality_dimension(id: &str) -> Text {
    find(QUALITY_DIMENSIONS, id)
}

/// An assessment's state, e.g. `approved` or `blocked`.
pub fn approval(id: &str) -> Text {
    find(APPROVALS, id)
}

/// An incident's status: `open`, `acknowledged` or `resolved`.
pub fn incident_status(id: &str) -> Text {
    find(INCIDENT_STATUSES, id)
}

/// A missed incident target: `acknowledge` or `resolve`.
pub fn incident_overdue(id: &str) -> Text {
    find(INCIDENT_OVERDUE, id)
}

/// A decision's outcome: `allow`, `deny` or `human_review`.
pub fn decision(id: &str) -> Text {
    find(DECISIONS, id)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_term_reads_in_both_languages_and_ids_are_unique_per_table() {
        for (table, terms) in VOCABULARY {
            assert!(!terms.is_empty(), "{table} is empty");
            let mut ids = HashSet::new();
            for t in *terms {
                assert!(!t.id.trim().is_empty(), "{table}: a term without id");
                assert!(!t.zh.trim().is_empty(), "{table}/{}: no Chinese", t.id);
                assert!(!t.en.trim().is_empty(), "{table}/{}: no English", t.id);
                assert!(ids.insert(t.id), "{table}/{}: defined twice", t.id);
            }
        }
    }

    #[test]
    fn the_same_chinese_never_names_two_things_in_one_table() {
        for (table, terms) in VOCABULARY {
            let mut seen = HashSet::new();
            for t in *terms {
                assert!(seen.insert(t.zh), "{table}: {} names two terms", t.zh);
            }
        }
    }

    #[test]
    fn lookups_find_terms_and_fall_back_to_the_id() {
        assert_eq!(disparity("demographic_parity_difference").zh, "人口统计均等差");
        assert_eq!(group_metric("false_positive_rate").zh, "假阳性率");
        assert_eq!(verdict(false).en, "failed");
        assert_eq!(approval("blocked").zh, "已阻止");
        let unknown = disparity("made_up_metric");
        assert_eq!((unknown.zh.as_str(), unknown.en.as_str()), ("made_up_metric", "made_up_metric"));
    }
}
