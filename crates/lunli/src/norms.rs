//! `lunli norms …`: reading the catalogue. Each command builds a view (the stable JSON shape of
//! docs/json.md) and renders it either for scripts or as text for people.

use anyhow::Result;
use lunli_norms::{
    Activity, ActivityId, Article, Catalogue, Chapter, Control, ControlFilter, NotFound, Principle, SearchHit, Text,
    parse_article_ref,
};
use serde::{Deserialize, Serialize};

use crate::cli::{ControlsArgs, NormsCommand};
use crate::output::{Out, row};

pub fn run(catalogue: &Catalogue, command: &NormsCommand, out: &mut Out) -> Result<()> {
    match command {
        NormsCommand::List => list(catalogue, out),
        NormsCommand::Show { id } => show(catalogue, id, out),
        NormsCommand::Search { text } => search(catalogue, &text.join(" "), out),
        NormsCommand::Controls(args) => controls(catalogue, args, out),
    }
}

/// `norms list`: one entry per article.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ArticleList {
    pub articles: Vec<ArticleSummary>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ArticleSummary {
    pub number: u8,
    pub chapter: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityId>,
    pub title: Text,
    pub title_editorial: bool,
    /// Ids of the controls citing the article.
    pub controls: Vec<String>,
}

/// `norms show`: exactly one of the four keys is present.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ShowView {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub article: Option<Article>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chapter: Option<Chapter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principle: Option<Principle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Control>,
    /// Controls implementing the article, principle or activity (empty for a control).
    #[serde(default)]
    pub controls: Vec<Control>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SearchView {
    pub query: String,
    pub hits: Vec<SearchHit>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct ControlsView {
    pub controls: Vec<Control>,
}

fn list(catalogue: &Catalogue, out: &mut Out) -> Result<()> {
    let view = ArticleList {
        articles: catalogue
            .articles()
            .iter()
            .map(|a| ArticleSummary {
                number: a.number,
                chapter: a.chapter,
                activity: a.activity,
                title: a.title.clone(),
                title_editorial: a.title_editorial,
                controls: catalogue.controls_for_article(a.number).iter().map(|c| c.id.clone()).collect(),
            })
            .collect(),
    };
    if !out.is_table() {
        return out.data(&view);
    }
    let document = catalogue.document();
    out.line(out.short(&document.title));
    out.line(format!("{} · {}", out.short(&document.issuer), document.issued));
    for chapter in catalogue.chapters() {
        let label = Text {
            zh: format!("第{}章 {}", lunli_norms::chinese_number(chapter.number), chapter.title.zh),
            en: format!("Chapter {}. {}", chapter.number, chapter.title.en),
        };
        out.heading(out.short(&label));
        let mut table =
            out.table(vec![out.label("条", "Art."), out.label("标题", "Title"), out.label("控制项", "Controls")]);
        for summary in view.articles.iter().filter(|a| a.chapter == chapter.number) {
            let title = if summary.title_editorial {
                format!("({})", out.short(&summary.title))
            } else {
                out.short(&summary.title)
            };
            table.add_row(vec![summary.number.to_string(), title, summary.controls.len().to_string()]);
        }
        out.push_table(&table);
    }
    out.blank();
    out.line(out.label(
        "括号中的标题为编者所加，原文无标题。`lunli norms show <条号>` 查看全文。",
        "Titles in brackets are editorial; the official text has none. `lunli norms show <article>` prints the full text.",
    ));
    Ok(())
}

fn show(catalogue: &Catalogue, id: &str, out: &mut Out) -> Result<()> {
    let mut view =
        ShowView { article: None, chapter: None, principle: None, activity: None, control: None, controls: Vec::new() };
    if let Some(number) = parse_article_ref(id) {
        let article = catalogue.article(number).ok_or_else(|| NotFound {
            what: "article",
            given: id.to_string(),
            hint: "the norms have articles 1–25".into(),
        })?;
        view.chapter = catalogue.chapter(article.chapter).cloned();
        view.article = Some(article.clone());
        view.controls = catalogue.controls_for_article(number).into_iter().cloned().collect();
    } else if let Some(principle) = catalogue.principle(id) {
        view.principle = Some(principle.clone());
        let filter = ControlFilter { principle: Some(principle.id.clone()), ..Default::default() };
        view.controls = catalogue.controls_matching(&filter).into_iter().cloned().collect();
    } else if let Some(activity) = id.parse::<ActivityId>().ok().and_then(|a| catalogue.activity(a)) {
        view.activity = Some(activity.clone());
        let filter = ControlFilter { activity: Some(activity.id), ..Default::default() };
        view.controls = catalogue.controls_matching(&filter).into_iter().cloned().collect();
    } else if let Some(control) = catalogue.control(id) {
        view.control = Some(control.clone());
    } else {
        return Err(NotFound {
            what: "article, principle, activity or control",
            given: id.to_string(),
            hint: "try an article number (16 or 第十六条), a principle (P1–P6), an activity (management, research, \
                   supply, use) or a control id from `lunli norms controls`"
                .into(),
        }
        .into());
    }
    if !out.is_table() {
        return out.data(&view);
    }
    if let Some(article) = &view.article {
        render_article(catalogue, article, view.chapter.as_ref(), out);
        render_control_table(out, &view.controls, &out.label("实施本条的控制项", "Controls implementing this article"));
    } else if let Some(principle) = &view.principle {
        let label = Text {
            zh: format!("{} {}（第三条）", principle.id, principle.name.zh),
            en: format!("{} {} (Art. 3)", principle.id, principle.name.en),
        };
        out.heading(out.short(&label));
        out.paragraph(&principle.text, 0);
        render_control_table(
            out,
            &view.controls,
            &out.label("服务于该原则的控制项", "Controls serving this principle"),
        );
    } else if let Some(activity) = &view.activity {
        let label = Text {
            zh: format!("{}活动（第二条）", activity.name.zh),
            en: format!("{} activities (Art. 2)", activity.name.en),
        };
        out.heading(out.short(&label));
        out.paragraph(&activity.text, 0);
        render_control_table(out, &view.controls, &out.label("该活动的控制项", "Controls for this activity"));
    } else if let Some(control) = &view.control {
        render_control(catalogue, control, out);
    }
    Ok(())
}

fn render_article(catalogue: &Catalogue, article: &Article, chapter: Option<&Chapter>, out: &mut Out) {
    let label = article.label();
    let title =
        Text { zh: format!("{} {}", label.zh, article.title.zh), en: format!("{} · {}", label.en, article.title.en) };
    let langs = out.langs();
    out.blank();
    for lang in langs {
        out.line(title.get(*lang));
    }
    let mut facts = Vec::new();
    if let Some(chapter) = chapter {
        facts.push(out.short(&Text {
            zh: format!("第{}章 {}", lunli_norms::chinese_number(chapter.number), chapter.title.zh),
            en: format!("Chapter {}. {}", chapter.number, chapter.title.en),
        }));
    }
    if let Some(activity) = article.activity.and_then(|a| catalogue.activity(a)) {
        facts.push(format!("{}: {}", out.label("活动", "activity"), out.short(&activity.name)));
    }
    if article.title_editorial {
        facts.push(out.label("标题为编者所加", "editorial title"));
    }
    out.line(facts.join(" · "));
    out.line("─".repeat(out.width.min(60)));
    out.paragraph(&article.text, 0);
}

fn render_control_table(out: &mut Out, controls: &[Control], caption: &str) {
    out.blank();
    out.line(format!("{caption} ({})", controls.len()));
    if controls.is_empty() {
        return;
    }
    let mut table = out.table(vec![
        out.label("编号", "Id"),
        out.label("等级", "Tier"),
        out.label("类型", "Kind"),
        out.label("标题", "Title"),
    ]);
    for control in controls {
        table.add_row(row![
            control.id.clone(),
            out.short(&control.tier.name()),
            out.short(&control.kind.name()),
            out.cell(&control.title),
        ]);
    }
    out.push_table(&table);
}

fn render_control(catalogue: &Catalogue, control: &Control, out: &mut Out) {
    out.blank();
    for lang in out.langs() {
        out.line(format!("{}  {}", control.id, control.title.get(*lang)));
    }
    out.line("─".repeat(out.width.min(60)));
    let articles: Vec<String> = control
        .articles
        .iter()
        .filter_map(|n| catalogue.article(*n))
        .map(|a| {
            out.short(&Text {
                zh: format!("{} {}", a.label().zh, a.title.zh),
                en: format!("Art. {} {}", a.number, a.title.en),
            })
        })
        .collect();
    out.line(format!("{}: {}", out.label("条款", "Articles"), articles.join("; ")));
    let principles: Vec<String> = control
        .principles
        .iter()
        .filter_map(|p| catalogue.principle(p))
        .map(|p| format!("{} {}", p.id, out.short(&p.name)))
        .collect();
    out.line(format!("{}: {}", out.label("原则", "Principles"), principles.join("; ")));
    let activity =
        catalogue.activity(control.activity).map_or_else(|| control.activity.to_string(), |a| out.short(&a.name));
    out.line(format!(
        "{}: {} · {}: {} · {}: {}",
        out.label("活动", "Activity"),
        activity,
        out.label("最低等级", "Lowest tier"),
        out.short(&control.tier.name()),
        out.label("类型", "Kind"),
        out.short(&control.kind.name()),
    ));
    if let Some(automation) = control.automation {
        out.line(format!("{}: {automation}", out.label("自动化", "Automation")));
    }
    out.blank();
    out.line(format!("{}:", out.label("实施指引", "Guidance")));
    out.paragraph(&control.guidance, 2);
    out.blank();
    let accepts: Vec<&str> = control.evidence.accepts.iter().map(|e| e.as_str()).collect();
    out.line(format!("{} ({}: {}):", out.label("证据", "Evidence"), out.label("接受", "accepts"), accepts.join(", ")));
    out.paragraph(&control.evidence.text(), 2);
}

fn search(catalogue: &Catalogue, query: &str, out: &mut Out) -> Result<()> {
    let view = SearchView { query: query.to_string(), hits: catalogue.search(query) };
    if !out.is_table() {
        return out.data(&view);
    }
    if view.hits.is_empty() {
        out.line(out.label(format!("没有找到「{query}」。").as_str(), format!("Nothing mentions “{query}”.").as_str()));
        return Ok(());
    }
    out.line(out.label(
        format!("「{query}」共 {} 处匹配", view.hits.len()).as_str(),
        format!("{} matches for “{query}”", view.hits.len()).as_str(),
    ));
    let mut table =
        out.table(vec![out.label("条目", "Item"), out.label("标题", "Title"), out.label("匹配内容", "Match")]);
    for hit in &view.hits {
        let item = match (hit.kind, hit.id.parse::<u8>()) {
            (lunli_norms::HitKind::Article, Ok(n)) => {
                out.short(&Text { zh: lunli_norms::chinese_ordinal(n), en: format!("Art. {n}") })
            }
            _ => hit.id.clone(),
        };
        table.add_row(row![item, out.cell(&hit.title), hit.snippet.clone()]);
    }
    out.push_table(&table);
    Ok(())
}

fn controls(catalogue: &Catalogue, args: &ControlsArgs, out: &mut Out) -> Result<()> {
    if let Some(principle) = &args.principle
        && catalogue.principle(principle).is_none()
    {
        return Err(
            NotFound { what: "principle", given: principle.clone(), hint: "principles are P1–P6".into() }.into()
        );
    }
    let filter = ControlFilter {
        article: args.article,
        principle: args.principle.clone(),
        activity: args.activity,
        tier: args.tier,
        kind: args.kind,
    };
    let view = ControlsView { controls: catalogue.controls_matching(&filter).into_iter().cloned().collect() };
    if !out.is_table() {
        return out.data(&view);
    }
    let mut table = out.table(vec![
        out.label("编号", "Id"),
        out.label("条款", "Art."),
        out.label("原则", "Principles"),
        out.label("等级", "Tier"),
        out.label("类型", "Kind"),
        out.label("标题", "Title"),
    ]);
    for control in &view.controls {
        let articles: Vec<String> = control.articles.iter().map(u8::to_string).collect();
        table.add_row(row![
            control.id.clone(),
            articles.join(","),
            control.principles.join(","),
            out.short(&control.tier.name()),
            out.short(&control.kind.name()),
            out.cell(&control.title),
        ]);
    }
    out.push_table(&table);
    out.line(out.label(
        format!("共 {} 项控制。", view.controls.len()).as_str(),
        format!("{} controls.", view.controls.len()).as_str(),
    ));
    Ok(())
}
