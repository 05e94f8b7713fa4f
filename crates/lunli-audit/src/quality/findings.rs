//! Findings: the report's figures against the policy's limits, in Chinese and English, and how
//! many checks of each dimension ran.

use super::report::{
    ColumnReport, DimensionSummary, Duplicates, FreshnessReport, KeyReport, RepresentationReport, RuleReport,
};
use crate::policy::{Dimension, Finding, Limit, QualityPolicy};
use lunli_norms::Text;
use std::collections::BTreeMap;

pub(super) fn finding(
    check: &str,
    severity_limit: &Limit,
    subject: &str,
    value: f64,
    dimension: Dimension,
    zh: String,
    en: String,
) -> Finding {
    Finding {
        check: format!("quality.{check}"),
        severity: severity_limit.severity,
        subject: subject.to_string(),
        value: Some(value),
        limit: Some(*severity_limit),
        dimension: Some(dimension),
        message: Text { zh, en },
        controls: Vec::new(),
    }
}

pub(super) fn percent(v: f64) -> String {
    format!("{:.2}%", v * 100.0)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn findings(
    policy: &QualityPolicy,
    columns: &[ColumnReport],
    duplicates: &Duplicates,
    rules: &[RuleReport],
    keys: &[KeyReport],
    freshness: Option<&FreshnessReport>,
    representation: &[RepresentationReport],
) -> (Vec<Finding>, Vec<DimensionSummary>) {
    let mut out = Vec::new();
    let mut checks: BTreeMap<Dimension, usize> = BTreeMap::new();
    let mut count = |d: Dimension| *checks.entry(d).or_default() += 1;
    for c in columns {
        count(Dimension::Completeness);
        if policy.null_rate.breached_by(c.null_rate) {
            out.push(finding(
                "null_rate",
                &policy.null_rate,
                &c.name,
                c.null_rate,
                Dimension::Completeness,
                format!("列 {}：缺失率 {}，要求 {}", c.name, percent(c.null_rate), policy.null_rate.describe()),
                format!(
                    "column {}: {} missing, required {}",
                    c.name,
                    percent(c.null_rate),
                    policy.null_rate.describe()
                ),
            ));
        }
        count(Dimension::Completeness);
        if policy.empty_rate.breached_by(c.empty_rate) {
            out.push(finding(
                "empty_rate",
                &policy.empty_rate,
                &c.name,
                c.empty_rate,
                Dimension::Completeness,
                format!("列 {}：空白值占 {}，要求 {}", c.name, percent(c.empty_rate), policy.empty_rate.describe()),
                format!(
                    "column {}: {} blank, required {}",
                    c.name,
                    percent(c.empty_rate),
                    policy.empty_rate.describe()
                ),
            ));
        }
        if let Some(conformance) = c.conformance {
            count(Dimension::Normativeness);
            if policy.conformance.breached_by(conformance) {
                out.push(finding(
                    "conformance",
                    &policy.conformance,
                    &c.name,
                    conformance,
                    Dimension::Normativeness,
                    format!(
                        "列 {}：{} 的值符合 {} 类型，要求 {}",
                        c.name,
                        percent(conformance),
                        c.kind.as_str(),
                        policy.conformance.describe()
                    ),
                    format!(
                        "column {}: {} of values fit its type {}, required {}",
                        c.name,
                        percent(conformance),
                        c.kind.as_str(),
                        policy.conformance.describe()
                    ),
                ));
            }
        }
    }
    count(Dimension::Consistency);
    if policy.duplicate_rate.breached_by(duplicates.rate) {
        out.push(finding(
            "duplicate_rate",
            &policy.duplicate_rate,
            "(rows)",
            duplicates.rate,
            Dimension::Consistency,
            format!(
                "重复行 {}（{}），要求 {}",
                duplicates.rows,
                percent(duplicates.rate),
                policy.duplicate_rate.describe()
            ),
            format!(
                "{} duplicate rows ({}), required {}",
                duplicates.rows,
                percent(duplicates.rate),
                policy.duplicate_rate.describe()
            ),
        ));
    }
    for r in rules {
        count(r.dimension);
        if policy.rule_violation_rate.breached_by(r.rate) {
            let example = r.example.as_ref().map(|e| format!("`{e}`")).unwrap_or_else(|| "—".into());
            out.push(finding(
                "rule",
                &policy.rule_violation_rate,
                &r.rule,
                r.rate,
                r.dimension,
                format!("规则 {}：{} 行违反（{}），例如 {example}", r.rule, r.violations, percent(r.rate)),
                format!("rule {}: {} rows break it ({}), e.g. {example}", r.rule, r.violations, percent(r.rate)),
            ));
        }
    }
    for k in keys {
        count(Dimension::Consistency);
        if k.duplicates > 0 {
            let subject = k.columns.join(",");
            let example = k.example.as_ref().map(|e| format!("`{e}`")).unwrap_or_else(|| "—".into());
            let limit = Limit { min: None, max: Some(0.0), severity: policy.key_duplicate_severity };
            out.push(finding(
                "key",
                &limit,
                &subject,
                k.duplicates as f64,
                Dimension::Consistency,
                format!(
                    "键 ({subject}) 不唯一：{} 行重复了已有的键（{} 个键重复），例如 {example}",
                    k.duplicates, k.repeated_keys
                ),
                format!(
                    "key ({subject}) is not unique: {} rows repeat a key ({} keys repeated), e.g. {example}",
                    k.duplicates, k.repeated_keys
                ),
            ));
        }
    }
    if let Some(f) = freshness {
        count(Dimension::Timeliness);
        let stale = f.age_days.is_none_or(|age| age > f.max_age_days);
        if stale {
            let limit = Limit { min: None, max: Some(f.max_age_days), severity: policy.stale_severity };
            let age = f.age_days.map(|a| format!("{a:.1}")).unwrap_or_else(|| "—".into());
            out.push(finding(
                "freshness",
                &limit,
                &f.column,
                f.age_days.unwrap_or(f64::INFINITY),
                Dimension::Timeliness,
                format!(
                    "列 {}：最新值 {} 已过 {age} 天，上限 {:.1} 天",
                    f.column,
                    f.latest.as_deref().unwrap_or("（无可读时间）"),
                    f.max_age_days
                ),
                format!(
                    "column {}: newest value {} is {age} days old, limit {:.1} days",
                    f.column,
                    f.latest.as_deref().unwrap_or("(no readable timestamp)"),
                    f.max_age_days
                ),
            ));
        }
    }
    for r in representation {
        for g in &r.groups {
            let Some(gap) = g.gap else { continue };
            count(Dimension::Accuracy);
            if policy.representation_gap.breached_by(gap.abs()) {
                let reference = g.reference.unwrap_or_default();
                out.push(finding(
                    "representation",
                    &policy.representation_gap,
                    &format!("{}={}", r.column, g.group),
                    gap,
                    Dimension::Accuracy,
                    format!(
                        "{}={}：占比 {}，参考 {}，差距超过 {}",
                        r.column,
                        g.group,
                        percent(g.share),
                        percent(reference),
                        policy.representation_gap.describe()
                    ),
                    format!(
                        "{}={}: share {} against a reference of {}, a gap beyond {}",
                        r.column,
                        g.group,
                        percent(g.share),
                        percent(reference),
                        policy.representation_gap.describe()
                    ),
                ));
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let dimensions = Dimension::ALL
        .iter()
        .map(|&d| DimensionSummary {
            dimension: d,
            checks: checks.get(&d).copied().unwrap_or(0),
            findings: out.iter().filter(|f| f.dimension == Some(d)).count(),
        })
        .collect();
    (out, dimensions)
}
