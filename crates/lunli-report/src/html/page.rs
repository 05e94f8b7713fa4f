//! The bilingual building blocks every section uses: a text in the page's languages, a badge, a
//! table of facts, a table head, and the small formats (times, absent values, lists).

use lunli_norms::{Languages, Text};
use maud::{Markup, html};

use crate::model::{IncidentSummary, Named};

/// How the page shows text: in one language, or Chinese beside English.
pub(crate) struct Page {
    pub lang: Languages,
}

impl Page {
    pub fn new(lang: Languages) -> Self {
        Self { lang }
    }

    /// A short text inline: one language, or Chinese then English.
    pub fn t(&self, text: &Text) -> Markup {
        self.l(&text.zh, &text.en)
    }

    /// [`Page::t`] of words written here.
    pub fn l(&self, zh: &str, en: &str) -> Markup {
        match self.lang {
            Languages::Zh => html! { span lang="zh-CN" { (zh) } },
            Languages::En => html! { span lang="en" { (en) } },
            Languages::Both if zh == en => html! { (zh) },
            Languages::Both => html! {
                span lang="zh-CN" { (zh) } span class="sep" { " / " } span lang="en" class="en2" { (en) }
            },
        }
    }

    /// A paragraph-sized text: in `both`, two columns side by side.
    pub fn block(&self, text: &Text, class: &str) -> Markup {
        match self.lang {
            Languages::Zh => html! { p class=(class) lang="zh-CN" { (text.zh) } },
            Languages::En => html! { p class=(class) lang="en" { (text.en) } },
            Languages::Both => html! {
                div class={ "pair " (class) } { p lang="zh-CN" { (text.zh) } p lang="en" { (text.en) } }
            },
        }
    }

    /// A section heading with the anchor `id`.
    pub fn h2(&self, id: &str, zh: &str, en: &str) -> Markup {
        html! { h2 id=(id) { (self.l(zh, en)) } "\n" }
    }

    /// A machine id's name as a coloured badge: `s-<id>` picks the colour.
    pub fn badge(&self, named: &Named) -> Markup {
        html! { span class={ "badge s-" (named.id) } { (self.t(&named.name)) } }
    }

    /// A table's head row.
    pub fn head(&self, columns: &[(&str, &str)]) -> Markup {
        html! { thead { tr { @for (zh, en) in columns { th { (self.l(zh, en)) } } } } }
    }

    /// The table of a list of incidents; `with_system` adds the system's column.
    pub fn incident_table(&self, incidents: &[IncidentSummary], with_system: bool) -> Markup {
        if incidents.is_empty() {
            return html! { p { (self.l("无。", "None.")) } "\n" };
        }
        let mut head = vec![("事件", "Incident")];
        if with_system {
            head.push(("系统", "System"));
        }
        head.extend([
            ("严重程度", "Severity"),
            ("状态", "Status"),
            ("负责人", "Owner"),
            ("开启", "Opened"),
            ("解决期限", "Resolve by"),
        ]);
        html! {
            table {
                (self.head(&head))
                tbody {
                    @for i in incidents {
                        tr {
                            td { "#" (i.id) " " (i.title) }
                            @if with_system { td class="id" { (i.system) } }
                            td { (self.badge(&i.severity)) }
                            td {
                                (self.t(&i.status.name))
                                @if let Some(o) = &i.overdue { " " span class="bad" { (self.t(&o.name)) } }
                            }
                            td { (i.owner) }
                            td { (time(&i.opened_at)) }
                            td { (time(&i.resolve_by)) }
                        }
                    }
                }
            }
            "\n"
        }
    }
}

/// A two-column table of facts.
pub(crate) fn facts(rows: &[(Markup, Markup)]) -> Markup {
    html! { table class="facts" { @for (k, v) in rows { tr { th { (k) } td { (v) } } } } "\n" }
}

pub(crate) fn time(t: &jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A value, or a dash when there is none.
pub(crate) fn opt<T: std::fmt::Display>(v: &Option<T>) -> Markup {
    match v {
        Some(v) => html! { (v) },
        None => html! { "—" },
    }
}

/// A bulleted list, or a dash when empty.
pub(crate) fn list(items: &[String]) -> Markup {
    if items.is_empty() {
        return html! { "—" };
    }
    html! { ul { @for i in items { li { (i) } } } }
}

/// Items one per line, or a dash when there are none.
pub(crate) fn lines(items: impl IntoIterator<Item = Markup>) -> Markup {
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return html! { "—" };
    }
    html! { @for (n, item) in items.enumerate() { @if n > 0 { br; } (item) } }
}
