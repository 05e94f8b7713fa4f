//! The `AIGC` block of GB 45438-2025 Annex E: its seven fields, how they are read from the JSON a
//! file carries, and the checks on names, the Label value, lengths and characters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::LabelError;

/// The field names, in the order of Annex E (and of the gateway's `labels.implicit`).
pub const FIELDS: [&str; 7] =
    ["Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2"];

/// The values the Label field may take (Annex E): `1` the content is AI-generated or synthetic,
/// `2` it may be, `3` it is suspected to be. A generator writes `1`; `2` and `3` are for
/// dissemination platforms that detect content (Measures Art. 6).
pub const LABEL_VALUES: [&str; 3] = ["1", "2", "3"];

/// lunli's own bound on one field's length, in characters. The public text of the standard sets
/// none we could verify (docs/labels.md); 255 keeps every value writable in every container.
pub const MAX_FIELD_CHARS: usize = 255;

/// A conforming implicit label, as `write` writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aigc {
    #[serde(rename = "Label")]
    pub label: String,
    #[serde(rename = "ContentProducer")]
    pub content_producer: String,
    #[serde(rename = "ProduceID")]
    pub produce_id: String,
    #[serde(rename = "ReservedCode1")]
    pub reserved_code1: String,
    #[serde(rename = "ContentPropagator")]
    pub content_propagator: String,
    #[serde(rename = "PropagateID")]
    pub propagate_id: String,
    #[serde(rename = "ReservedCode2")]
    pub reserved_code2: String,
}

/// Text in both languages, the shape lunli's JSON uses everywhere (`{"zh": …, "en": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bilingual {
    pub zh: String,
    pub en: String,
}

impl Bilingual {
    pub(crate) fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self { zh: zh.into(), en: en.into() }
    }
}

/// One thing wrong with a label: the field (none for the block as a whole), a stable code for
/// scripts and the reason for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub code: String,
    pub reason: Bilingual,
}

impl Problem {
    pub(crate) fn new(field: Option<&str>, code: &str, zh: String, en: String) -> Self {
        Self { field: field.map(str::to_string), code: code.to_string(), reason: Bilingual::new(zh, en) }
    }
}

impl Aigc {
    /// A generator's label: Label `1`, the producer and the content's id, the propagation fields
    /// left for a dissemination platform to fill (Measures Art. 6).
    pub fn generated(producer: &str, produce_id: &str, reserved_code1: &str) -> Self {
        Self {
            label: "1".into(),
            content_producer: producer.into(),
            produce_id: produce_id.into(),
            reserved_code1: reserved_code1.into(),
            content_propagator: String::new(),
            propagate_id: String::new(),
            reserved_code2: String::new(),
        }
    }

    /// The seven fields as compact JSON in Annex E's order — the value lunli writes.
    pub fn to_json(&self) -> String {
        // Serialising a struct of strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The fields by name.
    pub fn fields(&self) -> BTreeMap<String, String> {
        [
            &self.label,
            &self.content_producer,
            &self.produce_id,
            &self.reserved_code1,
            &self.content_propagator,
            &self.propagate_id,
            &self.reserved_code2,
        ]
        .iter()
        .zip(FIELDS)
        .map(|(v, k)| (k.to_string(), (*v).clone()))
        .collect()
    }

    /// Checks the label before it is written; `source_name` says where the fields came from.
    pub fn validate(&self, source_name: &str) -> Result<(), LabelError> {
        let problems = check_values(&self.fields());
        match problems.first() {
            None => Ok(()),
            Some(p) => Err(LabelError::Fields { source_name: source_name.to_string(), reason: p.reason.en.clone() }),
        }
    }

    /// The label from a JSON document: the gateway's `labels.implicit` block
    /// (`{"AIGC": {…}}`), a whole decision carrying it, or the seven fields alone.
    pub fn from_json(source_name: &str, text: &str) -> Result<Self, LabelError> {
        let fields_error = |reason: String| LabelError::Fields { source_name: source_name.to_string(), reason };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| fields_error(format!("line {}: not JSON: {e}", e.line())))?;
        let block = value
            .pointer("/labels/implicit")
            .or_else(|| value.pointer("/decision/labels/implicit"))
            .or_else(|| value.get("implicit"))
            .unwrap_or(&value);
        let (fields, problems) = read_object(block);
        if let Some(p) = problems.first() {
            return Err(fields_error(p.reason.en.clone()));
        }
        let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
        let aigc = Self {
            label: get("Label"),
            content_producer: get("ContentProducer"),
            produce_id: get("ProduceID"),
            reserved_code1: get("ReservedCode1"),
            content_propagator: get("ContentPropagator"),
            propagate_id: get("PropagateID"),
            reserved_code2: get("ReservedCode2"),
        };
        aigc.validate(source_name)?;
        Ok(aigc)
    }
}

/// Reads the JSON a file carries as its AIGC value: the fields found and every problem.
pub(crate) fn read_payload(payload: &str) -> (BTreeMap<String, String>, Vec<Problem>) {
    match serde_json::from_str::<serde_json::Value>(payload.trim()) {
        Ok(value) => read_object(&value),
        Err(e) => (
            BTreeMap::new(),
            vec![Problem::new(
                None,
                "not_json",
                format!("AIGC 的值不是 JSON：{e}"),
                format!("the AIGC value is not JSON: {e}"),
            )],
        ),
    }
}

/// The seven fields of `{"AIGC": {…}}` or of `{…}` itself.
fn read_object(value: &serde_json::Value) -> (BTreeMap<String, String>, Vec<Problem>) {
    let mut problems = Vec::new();
    let inner = match value.as_object() {
        Some(map) if map.len() == 1 && map.get("AIGC").is_some_and(serde_json::Value::is_object) => map.get("AIGC"),
        Some(_) => Some(value),
        None => None,
    };
    let Some(map) = inner.and_then(serde_json::Value::as_object) else {
        problems.push(Problem::new(
            None,
            "not_object",
            "AIGC 的值应为包含七个字段的 JSON 对象".into(),
            "the AIGC value should be a JSON object of the seven fields".into(),
        ));
        return (BTreeMap::new(), problems);
    };
    let mut fields = BTreeMap::new();
    for (key, value) in map {
        if !FIELDS.contains(&key.as_str()) {
            let hint = FIELDS.iter().find(|f| f.eq_ignore_ascii_case(key));
            let (zh, en) = match hint {
                Some(right) => (
                    format!("字段名 {key} 大小写不对：应为 {right}（字段名区分大小写）"),
                    format!("field {key} is misspelt: write {right} (field names are case-sensitive)"),
                ),
                None => (
                    format!("未知字段 {key}：标准只规定七个字段"),
                    format!("unknown field {key}: the standard names seven fields"),
                ),
            };
            problems.push(Problem::new(Some(key), "unknown_field", zh, en));
            continue;
        }
        match value.as_str() {
            Some(s) => {
                fields.insert(key.clone(), s.to_string());
            }
            None => problems.push(Problem::new(
                Some(key),
                "not_string",
                format!("字段 {key} 的值应为字符串，实为 {value}"),
                format!("field {key} should be a string, not {value}"),
            )),
        }
    }
    for field in FIELDS {
        if !map.contains_key(field) {
            problems.push(Problem::new(
                Some(field),
                "missing_field",
                format!("缺少字段 {field}"),
                format!("field {field} is missing"),
            ));
        }
    }
    problems.extend(check_values(&fields));
    (fields, problems)
}

/// The checks on the values present: Label's value set, the producer elements being given,
/// lengths and characters.
fn check_values(fields: &BTreeMap<String, String>) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(label) = fields.get("Label")
        && !LABEL_VALUES.contains(&label.as_str())
    {
        problems.push(Problem::new(
            Some("Label"),
            "label_value",
            format!("Label 的值为“{label}”，应为 1（属于）、2（可能）或 3（疑似）"),
            format!("Label is \"{label}\"; it should be 1 (is AI-generated), 2 (possibly) or 3 (suspected)"),
        ));
    }
    // Measures Art. 5: the implicit label carries the provider's name or code and the content's
    // number; without them the label traces nothing.
    for field in ["ContentProducer", "ProduceID"] {
        if fields.get(field).is_some_and(|v| v.trim().is_empty()) {
            problems.push(Problem::new(
                Some(field),
                "empty",
                format!("字段 {field} 为空：隐式标识应包含服务提供者名称或编码及内容编号"),
                format!("field {field} is empty: the implicit label names the provider and the content's number"),
            ));
        }
    }
    for (field, value) in fields {
        let chars = value.chars().count();
        if chars > MAX_FIELD_CHARS {
            problems.push(Problem::new(
                Some(field),
                "too_long",
                format!("字段 {field} 有 {chars} 个字符，超过 lunli 的上限 {MAX_FIELD_CHARS}"),
                format!("field {field} has {chars} characters, over lunli's limit of {MAX_FIELD_CHARS}"),
            ));
        }
        if let Some(c) = value.chars().find(|c| c.is_control()) {
            problems.push(Problem::new(
                Some(field),
                "charset",
                format!("字段 {field} 含控制字符 U+{:04X}", u32::from(c)),
                format!("field {field} holds the control character U+{:04X}", u32::from(c)),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(payload: &str) -> Vec<String> {
        read_payload(payload).1.into_iter().map(|p| format!("{}:{}", p.field.unwrap_or_default(), p.code)).collect()
    }

    #[test]
    fn the_gateway_block_and_the_bare_fields_are_both_read() {
        let aigc = Aigc::generated("acme", "d-1", "chat");
        let wrapped = format!("{{\"AIGC\":{}}}", aigc.to_json());
        assert_eq!(read_payload(&wrapped), (aigc.fields(), vec![]));
        assert_eq!(read_payload(&aigc.to_json()), (aigc.fields(), vec![]));
    }

    #[test]
    fn each_kind_of_problem_names_its_field() {
        let ok = Aigc::generated("acme", "d-1", "").to_json();
        assert!(codes(&ok).is_empty());
        assert_eq!(codes(&ok.replace("\"Label\":\"1\"", "\"Label\":\"4\"")), ["Label:label_value"]);
        assert_eq!(
            codes(&ok.replace("ProduceID", "ProduceId")),
            ["ProduceId:unknown_field", "ProduceID:missing_field"]
        );
        assert_eq!(codes(&ok.replace("\"acme\"", "\"\"")), ["ContentProducer:empty"]);
        assert_eq!(codes(&ok.replace("\"acme\"", "7")), ["ContentProducer:not_string"]);
        assert_eq!(codes(&ok.replace("acme", "a\\u0007b")), ["ContentProducer:charset"]);
        assert_eq!(codes(&ok.replace("acme", &"x".repeat(300))), ["ContentProducer:too_long"]);
        assert_eq!(codes("{\"Label\":\"1\""), [":not_json"]);
        assert_eq!(codes("[1]"), [":not_object"]);
    }

    #[test]
    fn a_decision_file_yields_its_implicit_label() {
        let decision = r#"{"outcome":"allow","labels":{"explicit":{"zh":"AI生成图片","en":"AI-generated image"},
            "implicit":{"AIGC":{"Label":"1","ContentProducer":"acme","ProduceID":"d-9","ReservedCode1":"chat",
            "ContentPropagator":"","PropagateID":"","ReservedCode2":""}}}}"#;
        let aigc = Aigc::from_json("decision.json", decision).expect("a label");
        assert_eq!(aigc, Aigc::generated("acme", "d-9", "chat"));
        let err = Aigc::from_json("d.json", r#"{"labels":{"implicit":{"AIGC":{"Label":"1"}}}}"#).unwrap_err();
        assert!(err.to_string().starts_with("d.json: field ContentProducer is missing"), "{err}");
    }
}
