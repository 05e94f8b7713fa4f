//! `lunli filing`: China filing drafts in Chinese, every field traced to its source record and
//! every missing field or unmet control listed as a gap.

mod common;

use common::{Data, example};
use serde_json::Value;

fn field<'a>(filing: &'a Value, label: &str) -> &'a Value {
    filing["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["fields"].as_array().expect("fields").iter())
        .find(|f| f["label"] == label)
        .unwrap_or_else(|| panic!("field {label} in {filing}"))
}

fn gaps(filing: &Value) -> Vec<String> {
    filing["gaps"]
        .as_array()
        .expect("gaps")
        .iter()
        .map(|g| format!("{} {}", g["field"].as_str().unwrap_or(""), g["reason"].as_str().unwrap_or("")))
        .collect()
}

#[test]
fn algorithm_filing_traces_every_field_and_lists_gaps() {
    let data = Data::new();
    data.credit_scoring();

    // Before an assessment: registry and intake fields are filled, control fields are gaps.
    let early = data.json("admin", &["filing", "algorithm", "credit-scoring"]);
    assert_eq!(early["kind"], "algorithm");
    assert_eq!(field(&early, "算法（系统）名称")["source"], "system.name");
    assert_eq!(field(&early, "算法类型")["value"], "调度决策类", "credit decisions");
    assert_eq!(field(&early, "是否面向未成年人")["value"], "否");
    assert_eq!(field(&early, "是否面向未成年人")["source"], "intake:Q-MINORS");
    assert!(field(&early, "算法机制说明文件").get("value").is_none());
    assert!(gaps(&early).iter().any(|g| g.starts_with("算法机制说明文件 尚未开启评估")), "{:?}", gaps(&early));

    data.ok("wang-fang", &["assess", "credit-scoring"]);
    data.ok("li-wei", &["evidence", "add", "credit-scoring", "C-12-01", "--file", &example("docs/model-card.md")]);
    data.ok("li-wei", &["control", "set", "credit-scoring", "C-12-01", "met"]);
    let filing = data.json("admin", &["filing", "algorithm", "credit-scoring"]);
    let doc = field(&filing, "算法机制说明文件");
    assert_eq!(doc["source"], "control:C-12-01");
    let value = doc["value"].as_str().expect("value");
    assert!(value.contains("已满足") && value.contains("model-card.md（SHA-256 "), "{value}");
    let gaps = gaps(&filing);
    assert!(!gaps.iter().any(|g| g.starts_with("算法机制说明文件")), "a met control with evidence is no gap");
    assert!(gaps.iter().any(|g| g.starts_with("群体差异审计 C-13-03")), "{gaps:?}");
    assert!(gaps.iter().any(|g| g.starts_with("评估签批 尚缺签批角色：owner")), "{gaps:?}");
    assert_eq!(filing["assessment"], 1);

    let markdown = data.ok("admin", &["filing", "algorithm", "credit-scoring"]);
    assert!(markdown.starts_with("# 算法备案自评估材料（草稿）"), "{markdown}");
    assert!(
        markdown.contains("| 算法（系统）名称 | 个人信贷评分模型 Consumer credit scoring | `system.name` |"),
        "{markdown}"
    );
    assert!(markdown.contains(&format!("## 待补充事项（{} 项）", gaps.len())), "{markdown}");
}

#[test]
fn genai_filing_names_what_lunli_has_no_record_of() {
    let data = Data::new();
    data.credit_scoring();
    data.ok("wang-fang", &["assess", "credit-scoring"]);
    let filing = data.json("admin", &["filing", "genai", "credit-scoring"]);
    assert_eq!(filing["kind"], "genai");
    let annotation = field(&filing, "标注规则、质量评估和标注人员培训");
    assert!(annotation.get("value").is_none());
    assert!(gaps(&filing).iter().any(|g| g.starts_with("标注规则、质量评估和标注人员培训 lunli 中没有此项内容")));
    assert_eq!(field(&filing, "生成内容类型")["value"], "无");
    assert_eq!(field(&filing, "显式和隐式标识")["source"], "control:C-16-05");

    let output = data.lunli("admin").args(["filing", "genai", "no-such-system"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(4));
}
