//! Questions asked of a valid catalogue: which controls match a filter, what mentions a word.

use serde::{Deserialize, Serialize};

use crate::catalogue::Catalogue;
use crate::model::{ActivityId, Article, Control, ControlKind, Lang, Text, Tier};

/// Which controls to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlFilter {
    /// Controls citing this article (primary or not).
    pub article: Option<u8>,
    /// Controls serving this principle, `P1`..`P6`.
    pub principle: Option<String>,
    pub activity: Option<ActivityId>,
    /// Controls a system of this tier must satisfy (tiers are cumulative).
    pub tier: Option<Tier>,
    pub kind: Option<ControlKind>,
}

impl ControlFilter {
    pub fn matches(&self, control: &Control) -> bool {
        self.article.is_none_or(|n| control.cites_article(n))
            && self.principle.as_deref().is_none_or(|p| control.cites_principle(p))
            && self.activity.is_none_or(|a| control.activity == a)
            && self.tier.is_none_or(|t| t.requires(control.tier))
            && self.kind.is_none_or(|k| control.kind == k)
    }
}

/// What a search hit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HitKind {
    Article,
    Principle,
    Control,
}

/// One catalogue item that mentions every search term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub kind: HitKind,
    /// Article number, principle id or control id.
    pub id: String,
    pub title: Text,
    /// Which field matched best, e.g. `title.en` or `text.zh`.
    pub field: String,
    /// The matching passage, about 60 characters, with the first term inside `[` `]`.
    pub snippet: String,
}

impl Catalogue {
    /// Controls matching `filter`, in catalogue order (primary article, then id).
    pub fn controls_matching(&self, filter: &ControlFilter) -> Vec<&Control> {
        self.controls().iter().filter(|c| filter.matches(c)).collect()
    }

    /// Controls citing an article, those whose primary article it is first.
    pub fn controls_for_article(&self, number: u8) -> Vec<&Control> {
        let mut controls: Vec<&Control> = self.controls().iter().filter(|c| c.cites_article(number)).collect();
        controls.sort_by_key(|c| (c.primary_article() != number, c.primary_article(), c.id.clone()));
        controls
    }

    /// Full-text search in Chinese and English over articles, principles and controls.
    /// Whitespace separates terms; an item matches when one of its fields holds every term,
    /// ignoring ASCII case. Items whose title matches come first.
    pub fn search(&self, query: &str) -> Vec<SearchHit> {
        let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if terms.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<(bool, SearchHit)> = Vec::new();
        for article in self.articles() {
            let fields = article_fields(article);
            if let Some((field, value)) = best_field(&fields, &terms) {
                hits.push(hit(HitKind::Article, article.number.to_string(), &article.title, field, value, &terms));
            }
        }
        for principle in self.principles() {
            let fields = [
                ("name.zh", principle.name.zh.as_str()),
                ("name.en", principle.name.en.as_str()),
                ("text.zh", principle.text.zh.as_str()),
                ("text.en", principle.text.en.as_str()),
            ];
            if let Some((field, value)) = best_field(&fields, &terms) {
                hits.push(hit(HitKind::Principle, principle.id.clone(), &principle.name, field, value, &terms));
            }
        }
        for control in self.controls() {
            let fields = [
                ("id", control.id.as_str()),
                ("title.zh", control.title.zh.as_str()),
                ("title.en", control.title.en.as_str()),
                ("guidance.zh", control.guidance.zh.as_str()),
                ("guidance.en", control.guidance.en.as_str()),
                ("evidence.zh", control.evidence.zh.as_str()),
                ("evidence.en", control.evidence.en.as_str()),
            ];
            if let Some((field, value)) = best_field(&fields, &terms) {
                hits.push(hit(HitKind::Control, control.id.clone(), &control.title, field, value, &terms));
            }
        }
        // Stable sort keeps catalogue order within each group.
        hits.sort_by_key(|(in_title, h)| (!in_title, h.kind));
        hits.into_iter().map(|(_, h)| h).collect()
    }
}

fn article_fields(article: &Article) -> [(&'static str, &str); 4] {
    [
        ("title.zh", article.title.zh.as_str()),
        ("title.en", article.title.en.as_str()),
        ("text.zh", article.text.zh.as_str()),
        ("text.en", article.text.en.as_str()),
    ]
}

/// The first field (fields are listed best first) that holds every term.
fn best_field<'a>(fields: &[(&'static str, &'a str)], terms: &[String]) -> Option<(&'static str, &'a str)> {
    fields.iter().copied().find(|(_, value)| {
        let lower = value.to_lowercase();
        terms.iter().all(|t| lower.contains(t.as_str()))
    })
}

fn hit(kind: HitKind, id: String, title: &Text, field: &str, value: &str, terms: &[String]) -> (bool, SearchHit) {
    let in_title = field == "id" || field.starts_with("title") || field.starts_with("name");
    let snippet = snippet(value, &terms[0]);
    (in_title, SearchHit { kind, id, title: title.clone(), field: field.to_string(), snippet })
}

const SNIPPET_CONTEXT: usize = 28;

/// A window of `value` around the first occurrence of `term`, counted in characters so that
/// Chinese text is never cut inside a character.
fn snippet(value: &str, term: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let lower: Vec<char> = value.chars().flat_map(char::to_lowercase).collect();
    let term: Vec<char> = term.chars().collect();
    // Lower-casing keeps one char per char for the scripts the catalogue uses; if it did not,
    // fall back to showing the start of the text.
    let position = if lower.len() == chars.len() {
        lower.windows(term.len().max(1)).position(|w| w == term.as_slice())
    } else {
        None
    };
    let Some(start) = position else {
        let head: String = chars.iter().take(2 * SNIPPET_CONTEXT).collect();
        return if chars.len() > 2 * SNIPPET_CONTEXT { format!("{head}…") } else { head };
    };
    let end = start + term.len();
    let from = start.saturating_sub(SNIPPET_CONTEXT);
    let to = (end + SNIPPET_CONTEXT).min(chars.len());
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.extend(&chars[from..start]);
    out.push('[');
    out.extend(&chars[start..end]);
    out.push(']');
    out.extend(&chars[end..to]);
    if to < chars.len() {
        out.push('…');
    }
    out
}

/// Which language a search hit's field is in, if any.
pub fn field_lang(field: &str) -> Option<Lang> {
    if field.ends_with(".zh") {
        Some(Lang::Zh)
    } else if field.ends_with(".en") {
        Some(Lang::En)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::snippet;

    #[test]
    fn snippet_marks_the_term_and_cuts_on_characters() {
        assert_eq!(
            snippet("为用户选择使用或退出人工智能模式提供简便易懂的解决方案", "退出"),
            "为用户选择使用或[退出]人工智能模式提供简便易懂的解决方案"
        );
        let long = "a".repeat(100) + "needle" + &"b".repeat(100);
        let s = snippet(&long, "needle");
        assert!(s.starts_with('…') && s.ends_with('…') && s.contains("[needle]"), "{s}");
        assert_eq!(s.chars().count(), 2 + 2 + 6 + 2 * super::SNIPPET_CONTEXT);
    }
}
