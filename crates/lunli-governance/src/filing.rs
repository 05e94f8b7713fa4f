//! Drafts of China's filing material, in Chinese, from the registry, the intake and the
//! assessment: the self-assessment material of algorithm filing (算法备案, under the Algorithm
//! Recommendation Provisions, 《互联网信息服务算法推荐管理规定》第二十四条) and of generative-AI
//! service registration (under 《生成式人工智能服务管理暂行办法》). Every field names the record
//! it came from — a system field, an intake answer, a control with its evidence — and every
//! field lunli cannot fill is listed as a gap. A draft for a person to complete and check, not
//! the regulator's form: the grouping into sections is lunli's own, each section citing the
//! article that asks for its content.

use lunli_norms::Catalogue;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::assessment::{Assessment, ControlStatus, EvidenceItem};
use crate::registry::{Person, System};
use crate::store::IntakeRecord;

/// Which filing to draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilingKind {
    /// 算法备案: algorithm filing under the Algorithm Recommendation Provisions.
    Algorithm,
    /// 生成式人工智能服务备案: generative-AI service registration.
    Genai,
}

/// A filing draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filing {
    pub kind: FilingKind,
    pub title: String,
    /// The rules the material answers to.
    pub basis: String,
    pub system: String,
    pub version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake: Option<u64>,
    pub sections: Vec<Section>,
    /// Every field without a value, and every control not yet met, with what to do.
    pub gaps: Vec<Gap>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    /// The article asking for this content.
    pub basis: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    /// None when lunli holds nothing for it (then it is also a gap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where the value came from: `system.purpose`, `intake:Q-PI`, `control:C-16-05` …
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub section: String,
    pub field: String,
    pub reason: String,
}

/// What a draft is made from.
pub struct FilingInput<'a> {
    pub catalogue: &'a Catalogue,
    pub system: &'a System,
    pub version: u32,
    pub owner: Option<&'a Person>,
    pub intake: Option<&'a IntakeRecord>,
    pub assessment: Option<&'a Assessment>,
}

/// Drafts the filing material of `kind` for one system version.
pub fn draft(kind: FilingKind, input: &FilingInput<'_>) -> Filing {
    let mut builder = Builder { input, sections: Vec::new(), gaps: Vec::new() };
    let (title, basis) = match kind {
        FilingKind::Algorithm => {
            algorithm(&mut builder);
            (
                "算法备案自评估材料（草稿）",
                "《互联网信息服务算法推荐管理规定》第二十四条（备案信息）、第七条至第二十一条（算法安全与用户权益保护）",
            )
        }
        FilingKind::Genai => {
            genai(&mut builder);
            (
                "生成式人工智能服务备案材料（草稿）",
                "《生成式人工智能服务管理暂行办法》第七条至第十七条、第十九条；《人工智能生成合成内容标识办法》第十二条",
            )
        }
    };
    Filing {
        kind,
        title: title.into(),
        basis: basis.into(),
        system: input.system.id.clone(),
        version: input.version,
        assessment: input.assessment.map(|a| a.id),
        intake: input.intake.map(|i| i.id),
        sections: builder.sections,
        gaps: builder.gaps,
    }
}

fn algorithm(b: &mut Builder<'_, '_>) {
    let s = b.input.system;
    b.section("一、服务提供者与服务信息", "《算法推荐管理规定》第二十四条");
    b.field("算法（系统）名称", Some(s.name.clone()), "system.name");
    b.field("服务形式", Some(deployment(s)), "system.deployment");
    b.field("应用领域", list(&s.sectors), "system.sectors");
    b.field("算法类型", algorithm_type(b.input.intake), "intake:Q-GENERATED-CONTENT, intake:Q-DECISIONS");
    b.owner();
    b.field(
        "版本与阶段",
        Some(format!("第 {} 版，{}", b.input.version, s.stage.name().zh)),
        "system.version, system.stage",
    );

    b.section("二、算法基本原理与运行机制", "《算法推荐管理规定》第十二条、第十六条");
    b.field("用途", Some(s.purpose.clone()), "system.purpose");
    b.field("主要功能", list(&s.functions), "system.functions");
    b.field("模型来源", Some(model(s)), "system.model");
    b.field("已知局限", list(&s.limitations), "system.limitations");
    b.control("算法机制说明文件", "C-12-01");

    b.section("三、数据与个人信息", "《算法推荐管理规定》第七条、第十条");
    b.field("数据来源及合法性基础", data_sources(s), "system.data_sources");
    b.answer("是否处理个人信息", "Q-PI");
    b.answer("敏感个人信息", "Q-SENSITIVE-PI");
    b.control("数据质量审计", "C-11-02");
    b.control("个人信息影响评估", "C-03-03");

    b.section("四、安全风险识别与防范", "《算法推荐管理规定》第七条、第八条、第九条");
    b.tier();
    b.control("风险登记", "C-08-01");
    b.control("暂停（关闭）机制", "C-03-05");
    b.control("安全事件应急预案", "C-17-01");
    b.control("事件记录与处置", "C-17-03");

    b.section("五、用户权益保护", "《算法推荐管理规定》第十六条、第十七条、第二十二条");
    b.control("告知用户使用算法", "C-16-01");
    b.control("公示算法基本原理、目的和主要运行机制", "C-16-02");
    b.control("便捷关闭算法或选择人工", "C-16-04");
    b.control("对个体决定的说明", "C-12-02");
    b.control("投诉举报渠道", "C-21-01");
    b.control("反馈处理时限", "C-17-05");

    b.section("六、特殊群体与公平", "《算法推荐管理规定》第十八条、第十九条、第二十一条");
    b.answer("是否面向未成年人", "Q-MINORS");
    b.answer("是否涉及老年人等群体", "Q-VULNERABLE");
    b.control("群体差异审计", "C-13-03");
    b.control("差异缓解记录", "C-13-04");

    b.section("七、管理制度与伦理审查", "《算法推荐管理规定》第七条；《新一代人工智能伦理规范》第五条至第九条");
    b.control("科技伦理审查", "C-10-04");
    b.signoffs();
}

fn genai(b: &mut Builder<'_, '_>) {
    let s = b.input.system;
    b.section("一、服务基本信息", "《生成式人工智能服务管理暂行办法》第二条、第十条");
    b.field("服务名称", Some(s.name.clone()), "system.name");
    b.field("服务形式", Some(deployment(s)), "system.deployment");
    b.answer("是否向境内公众提供", "Q-PUBLIC-CHINA");
    b.answer("生成内容类型", "Q-GENERATED-CONTENT");
    b.field("用途", Some(s.purpose.clone()), "system.purpose");
    b.control("适用人群、场合和用途", "C-19-01");
    b.owner();

    b.section("二、训练数据", "《暂行办法》第七条、第十九条");
    b.field("训练数据来源及合法性基础", data_sources(s), "system.data_sources");
    b.control("数据来源记录", "C-11-01");
    b.control("数据质量（真实性、准确性、客观性、多样性）", "C-11-02");
    b.control("知识产权", "C-14-02");
    b.control("个人信息的同意或其他合法性基础", "C-03-03");

    b.section("三、数据标注", "《暂行办法》第八条");
    b.field("标注规则、质量评估和标注人员培训", None, "（lunli 无对应控制项）");

    b.section("四、模型与算法机制", "《暂行办法》第十九条");
    b.field("模型来源", Some(model(s)), "system.model");
    b.control("模型说明文件", "C-12-01");
    b.tier();

    b.section("五、使用者信息保护", "《暂行办法》第十一条");
    b.control("输入信息和使用记录的保护", "C-11-05");
    b.control("输出和日志中的个人信息泄露扫描", "C-03-04");

    b.section("六、生成内容标识", "《暂行办法》第十二条；《人工智能生成合成内容标识办法》第四条、第五条、第十二条");
    b.control("显式和隐式标识", "C-16-05");

    b.section("七、违法内容与违法使用的处置", "《暂行办法》第十四条");
    b.control("停止生成（暂停机制）", "C-03-05");
    b.control("用户条款与违规处置", "C-20-03");

    b.section("八、投诉举报", "《暂行办法》第十五条");
    b.control("投诉举报渠道", "C-21-01");
    b.control("反馈处理时限", "C-17-05");

    b.section("九、未成年人保护", "《暂行办法》第十条");
    b.answer("是否面向未成年人", "Q-MINORS");

    b.section("十、安全评估与备案", "《暂行办法》第十七条");
    b.answer("是否具有舆论属性或社会动员能力", "Q-PUBLIC-OPINION");
    b.control("备案与许可", "C-14-05");
    b.signoffs();
}

struct Builder<'i, 'a> {
    input: &'i FilingInput<'a>,
    sections: Vec<Section>,
    gaps: Vec<Gap>,
}

impl Builder<'_, '_> {
    fn section(&mut self, title: &str, basis: &str) {
        self.sections.push(Section { title: title.into(), basis: basis.into(), fields: Vec::new() });
    }

    fn field(&mut self, label: &str, value: Option<String>, source: &str) {
        let Some(section) = self.sections.last_mut() else { return };
        if value.is_none() {
            self.gaps.push(Gap {
                section: section.title.clone(),
                field: label.into(),
                reason: format!("lunli 中没有此项内容（{source}），请补充"),
            });
        }
        section.fields.push(Field { label: label.into(), value, source: source.into() });
    }

    /// A field from a control: its status and evidence; a gap unless it is met.
    fn control(&mut self, label: &str, id: &str) {
        let title = self.input.catalogue.control(id).map(|c| c.title.zh.clone()).unwrap_or_default();
        let source = format!("control:{id}");
        let state = self.input.assessment.and_then(|a| a.control(id));
        let (value, gap) = match state {
            None if self.input.assessment.is_none() => (None, "尚未开启评估（lunli assess）".to_string()),
            None => (None, format!("本系统等级的评估不含控制项 {id}（{title}）")),
            Some(state) => {
                let evidence: Vec<String> = state.evidence.iter().map(|e| evidence(&e.item)).collect();
                let mut value = format!("{id} {title}：{}", state.status.name().zh);
                if !evidence.is_empty() {
                    value.push_str(&format!("；证据：{}", evidence.join("；")));
                }
                if !state.justification.is_empty() {
                    value.push_str(&format!("；理由：{}", state.justification));
                }
                let gap = match state.status {
                    ControlStatus::Met if evidence.is_empty() => Some(format!("{id} 已标记满足，但没有证据")),
                    ControlStatus::Met | ControlStatus::NotApplicable => None,
                    other => Some(format!("{id}（{title}）状态为“{}”", other.name().zh)),
                };
                if let Some(reason) = gap {
                    self.push_gap(label, reason);
                }
                (Some(value), String::new())
            }
        };
        if value.is_none() {
            self.push_gap(label, gap);
        }
        if let Some(section) = self.sections.last_mut() {
            section.fields.push(Field { label: label.into(), value, source });
        }
    }

    fn push_gap(&mut self, field: &str, reason: String) {
        let section = self.sections.last().map(|s| s.title.clone()).unwrap_or_default();
        self.gaps.push(Gap { section, field: field.into(), reason });
    }

    /// A field from an intake answer, in the question's own words.
    fn answer(&mut self, label: &str, question: &str) {
        let source = format!("intake:{question}");
        let value = self.input.intake.and_then(|i| i.answers.get(question)).map(|v| self.describe_answer(question, v));
        match (self.input.intake, value) {
            (_, Some(value)) => self.field(label, Some(value), &source),
            (None, None) => {
                self.push_gap(label, "尚未完成准入问卷（lunli intake）".into());
                if let Some(section) = self.sections.last_mut() {
                    section.fields.push(Field { label: label.into(), value: None, source });
                }
            }
            (Some(_), None) => self.field(label, None, &source),
        }
    }

    fn describe_answer(&self, question: &str, value: &Value) -> String {
        let option = |id: &str| {
            self.input
                .catalogue
                .question(question)
                .and_then(|q| q.options.iter().find(|o| o.id == id))
                .map_or_else(|| id.to_string(), |o| o.label.zh.clone())
        };
        match value {
            Value::Bool(true) => "是".into(),
            Value::Bool(false) => "否".into(),
            Value::String(id) => option(id),
            Value::Array(ids) if ids.is_empty() => "无".into(),
            Value::Array(ids) => ids.iter().filter_map(Value::as_str).map(option).collect::<Vec<_>>().join("、"),
            other => other.to_string(),
        }
    }

    fn owner(&mut self) {
        let owner = &self.input.system.owner;
        let value = match self.input.owner {
            Some(person) => format!("{}（{owner}）", person.name),
            None => owner.clone(),
        };
        self.field("责任人", Some(value), "system.owner, person");
    }

    fn tier(&mut self) {
        let value = self.input.assessment.map(|a| {
            format!(
                "{}（规则集 {}，摘要 {}）",
                a.tier.name().zh,
                a.ruleset_version,
                &a.ruleset_digest.get(..12).unwrap_or("")
            )
        });
        let source =
            self.input.assessment.map_or_else(|| "assessment".to_string(), |a| format!("assessment:#{}", a.id));
        if value.is_none() {
            self.push_gap("风险等级", "尚未开启评估（lunli assess）".into());
            if let Some(section) = self.sections.last_mut() {
                section.fields.push(Field { label: "风险等级".into(), value: None, source });
            }
            return;
        }
        self.field("风险等级", value, &source);
    }

    fn signoffs(&mut self) {
        let Some(a) = self.input.assessment else {
            return self.field("评估签批", None, "assessment");
        };
        let signed: Vec<String> = a.signoffs.iter().map(|s| format!("{}：{}（{}）", s.role, s.person, s.at)).collect();
        let missing = a.missing_roles();
        let value = if signed.is_empty() { "尚无签批".to_string() } else { signed.join("；") };
        self.field("评估签批", Some(value), &format!("assessment:#{} signoffs", a.id));
        if !missing.is_empty() {
            self.push_gap("评估签批", format!("尚缺签批角色：{}", missing.join("、")));
        }
    }
}

fn deployment(s: &System) -> String {
    let regions = if s.deployment.regions.is_empty() {
        String::new()
    } else {
        format!("（{}）", s.deployment.regions.join("、"))
    };
    format!("{}{regions}", s.deployment.exposure.name().zh)
}

fn model(s: &System) -> String {
    let mut value = s.model.source.name().zh.clone();
    if let Some(name) = &s.model.name {
        value.push_str(&format!("：{name}"));
    }
    if let Some(vendor) = &s.model.vendor {
        value.push_str(&format!("（供应商 {vendor}）"));
    }
    value
}

fn data_sources(s: &System) -> Option<String> {
    let lines: Vec<String> = s
        .data_sources
        .iter()
        .map(|d| {
            let vendor = d.vendor.as_ref().map(|v| format!("，供应商 {v}")).unwrap_or_default();
            format!("{}（{}{vendor}）", d.name, d.legal_basis.name().zh)
        })
        .collect();
    list(&lines)
}

fn list(items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| items.join("；"))
}

/// The filing categories of algorithms, as far as the intake tells: generation and synthesis
/// when the system generates content, scheduling and decision when it decides about people.
/// Personalised push, ranking and retrieval cannot be told from the intake, so they stay a gap.
fn algorithm_type(intake: Option<&IntakeRecord>) -> Option<String> {
    let answers = &intake?.answers;
    let mut types = Vec::new();
    if answers.get("Q-GENERATED-CONTENT").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        types.push("生成合成类");
    }
    if answers.get("Q-DECISIONS").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        types.push("调度决策类");
    }
    (!types.is_empty()).then(|| types.join("、"))
}

fn evidence(item: &EvidenceItem) -> String {
    match item {
        EvidenceItem::File { name, sha256, .. } => {
            format!("文件 {name}（SHA-256 {}…）", sha256.get(..12).unwrap_or(sha256))
        }
        EvidenceItem::Link { url } => format!("链接 {url}"),
        EvidenceItem::Attestation { text } => format!("声明“{text}”"),
        EvidenceItem::Audit { audit, passed, .. } => {
            format!("审计 {audit}（{}）", if *passed { "通过" } else { "未通过" })
        }
    }
}

/// The draft as Markdown, in Chinese: sections with a table of fields and sources, then gaps.
pub fn markdown(filing: &Filing) -> String {
    let mut md = format!("# {}\n\n", filing.title);
    md.push_str(&format!("- 系统：{}（第 {} 版）\n", filing.system, filing.version));
    if let Some(id) = filing.assessment {
        md.push_str(&format!("- 评估：#{id}\n"));
    }
    if let Some(id) = filing.intake {
        md.push_str(&format!("- 准入问卷：#{id}\n"));
    }
    md.push_str(&format!("- 依据：{}\n", filing.basis));
    md.push_str("- 说明：本草稿由 lunli 根据登记、问卷和评估记录生成，每项注明来源；章节划分为 lunli 自拟，提交前须人工核对补充。\n\n");
    for section in &filing.sections {
        md.push_str(&format!(
            "## {}\n\n依据：{}\n\n| 项目 | 内容 | 来源 |\n| --- | --- | --- |\n",
            section.title, section.basis
        ));
        for field in &section.fields {
            let value = field.value.as_deref().unwrap_or("**（待补充）**");
            md.push_str(&format!("| {} | {} | `{}` |\n", field.label, cell(value), field.source));
        }
        md.push('\n');
    }
    md.push_str(&format!("## 待补充事项（{} 项）\n\n", filing.gaps.len()));
    if filing.gaps.is_empty() {
        md.push_str("无。\n");
    }
    for (i, gap) in filing.gaps.iter().enumerate() {
        md.push_str(&format!("{}. {} · {}：{}\n", i + 1, gap.section, gap.field, gap.reason));
    }
    md
}

/// A value inside a Markdown table cell: no line breaks, no stray column separators.
fn cell(value: &str) -> String {
    value.replace('|', "\\|").replace('\n', " ")
}
