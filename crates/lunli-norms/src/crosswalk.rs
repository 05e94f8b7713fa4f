//! Crosswalks: how lunli's controls answer other AI rules — the EU AI Act, the NIST AI RMF,
//! ISO/IEC 42001, China's generative-AI and content-labelling measures. One file per framework
//! in `catalogue/crosswalks/<framework>.toml` lists the framework's items (ids and short titles
//! only, never its prose) and the mappings from controls to items, each with a strength and a
//! one-line rationale. Loaded and validated with the catalogue, so every mapping resolves to a
//! known control and a known item; [`Framework::coverage`] computes which items the controls
//! cover and how strongly.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::catalogue::Origin;
use crate::error::Problem;
use crate::model::Text;
use crate::source::SourceFile;

/// Where crosswalk files live, relative to the catalogue root.
pub(crate) const DIR: &str = "crosswalks/";

/// How much of a framework item a control delivers. Ordered: `Related < Partial < Equivalent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// The control supports the item without delivering its outcome.
    Related,
    /// The control delivers part of the item's outcome.
    Partial,
    /// The control delivers the item's outcome.
    Equivalent,
}

impl Strength {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Related => "related",
            Self::Partial => "partial",
            Self::Equivalent => "equivalent",
        }
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Self::Related => ("相关", "related"),
            Self::Partial => ("部分对应", "partial"),
            Self::Equivalent => ("等同", "equivalent"),
        };
        Text { zh: zh.into(), en: en.into() }
    }
}

/// One item of a framework: an article, a paragraph, a category, a control objective …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameworkItem {
    /// The framework's own id, e.g. `GOVERN 1.1`, `A.6.2.4`, `Art. 50(2)`.
    pub id: String,
    /// The item it belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What the framework calls it: function, category, subcategory, article, area …
    pub kind: String,
    /// True when the title is lunli's own summary, because the framework has no short title.
    #[serde(default)]
    pub own: bool,
    pub title: Text,
}

/// A control answering (part of) a framework item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub control: String,
    pub item: String,
    pub strength: Strength,
    pub rationale: Text,
}

/// A framework with its items and the mappings from lunli's controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Framework {
    /// The file stem: `eu-ai-act`, `nist-ai-rmf-1.0` …
    pub id: String,
    pub title: Text,
    pub issuer: Text,
    /// Date of publication, `YYYY-MM-DD`.
    pub published: String,
    /// The official reference (document number).
    pub reference: String,
    /// Items in file order; a parent always comes before its children.
    pub items: Vec<FrameworkItem>,
    pub mappings: Vec<Mapping>,
}

impl Framework {
    pub fn item(&self, id: &str) -> Option<&FrameworkItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// Items with no children: the ones controls map to and coverage is counted over.
    pub fn is_leaf(&self, id: &str) -> bool {
        !self.items.iter().any(|i| i.parent.as_deref() == Some(id))
    }

    /// How many items are of `kind` (e.g. NIST's 72 `subcategory` items).
    pub fn count(&self, kind: &str) -> usize {
        self.items.iter().filter(|i| i.kind == kind).count()
    }

    /// The mappings to `item`, strongest first, then by control id.
    pub fn mappings_to(&self, item: &str) -> Vec<&Mapping> {
        let mut found: Vec<&Mapping> = self.mappings.iter().filter(|m| m.item == item).collect();
        found.sort_by(|a, b| b.strength.cmp(&a.strength).then_with(|| a.control.cmp(&b.control)));
        found
    }

    /// For every item, the strongest mapping and the controls behind it; and the figures.
    /// Deterministic: items in file order, controls strongest first then by id.
    pub fn coverage(&self) -> Coverage {
        let mut items = Vec::with_capacity(self.items.len());
        let mut summary = CoverageSummary::default();
        for item in &self.items {
            let leaf = self.is_leaf(&item.id);
            let controls: Vec<ControlLink> = self
                .mappings_to(&item.id)
                .into_iter()
                .map(|m| ControlLink {
                    control: m.control.clone(),
                    strength: m.strength,
                    rationale: m.rationale.clone(),
                })
                .collect();
            let strength = controls.first().map(|c| c.strength);
            if leaf {
                summary.count(strength);
            }
            items.push(ItemCoverage {
                id: item.id.clone(),
                parent: item.parent.clone(),
                kind: item.kind.clone(),
                own: item.own,
                title: item.title.clone(),
                leaf,
                strength,
                controls,
            });
        }
        let mut groups = Vec::new();
        for top in self.items.iter().filter(|i| i.parent.is_none()) {
            let mut group = CoverageSummary::default();
            for covered in items.iter().filter(|c| c.leaf && self.is_under(&c.id, &top.id)) {
                group.count(covered.strength);
            }
            group.finish();
            groups.push(GroupCoverage { id: top.id.clone(), title: top.title.clone(), summary: group });
        }
        summary.finish();
        Coverage {
            framework: self.id.clone(),
            title: self.title.clone(),
            controls_mapped: self
                .mappings
                .iter()
                .map(|m| m.control.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            summary,
            groups,
            items,
        }
    }

    /// Whether `id` is `ancestor` or lies under it.
    fn is_under(&self, id: &str, ancestor: &str) -> bool {
        let mut current = Some(id);
        // Parents come before children (validated), so this walk ends.
        while let Some(at) = current {
            if at == ancestor {
                return true;
            }
            current = self.item(at).and_then(|i| i.parent.as_deref());
        }
        false
    }
}

/// What `lunli crosswalk FRAMEWORK` shows: each item's coverage and the figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub framework: String,
    pub title: Text,
    /// How many distinct controls map to the framework.
    pub controls_mapped: usize,
    /// Over the leaf items (those controls map to).
    pub summary: CoverageSummary,
    /// Per top-level item (function, objective, chapter …), over the leaves under it.
    pub groups: Vec<GroupCoverage>,
    pub items: Vec<ItemCoverage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCoverage {
    pub id: String,
    pub title: Text,
    pub summary: CoverageSummary,
}

/// Counts of leaf items by their strongest mapping.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    pub items: usize,
    pub equivalent: usize,
    pub partial: usize,
    pub related: usize,
    pub uncovered: usize,
    /// Share of items with any mapping, in percent, one decimal.
    pub covered_percent: f64,
}

impl CoverageSummary {
    fn count(&mut self, strength: Option<Strength>) {
        self.items += 1;
        match strength {
            Some(Strength::Equivalent) => self.equivalent += 1,
            Some(Strength::Partial) => self.partial += 1,
            Some(Strength::Related) => self.related += 1,
            None => self.uncovered += 1,
        }
    }

    fn finish(&mut self) {
        let covered = self.items - self.uncovered;
        #[allow(clippy::cast_precision_loss)] // item counts are small
        let percent = if self.items == 0 { 0.0 } else { covered as f64 * 100.0 / self.items as f64 };
        self.covered_percent = (percent * 10.0).round() / 10.0;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemCoverage {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    pub kind: String,
    pub own: bool,
    pub title: Text,
    /// Whether controls map to it (it has no children).
    pub leaf: bool,
    /// The strongest mapping; none when no control covers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<Strength>,
    pub controls: Vec<ControlLink>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlLink {
    pub control: String,
    pub strength: Strength,
    pub rationale: Text,
}

// ── Loading ─────────────────────────────────────────────────────────────────────────────────────

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFramework {
    framework: Spanned<String>,
    title: Spanned<Text>,
    issuer: Spanned<Text>,
    published: String,
    reference: String,
    #[serde(default)]
    items: Vec<Spanned<RawItem>>,
    #[serde(default)]
    mappings: Vec<Spanned<RawMapping>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    id: Spanned<String>,
    #[serde(default)]
    parent: Option<Spanned<String>>,
    kind: Spanned<String>,
    #[serde(default)]
    own: bool,
    title: Spanned<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    control: Spanned<String>,
    item: Spanned<String>,
    strength: Strength,
    rationale: Spanned<Text>,
}

/// Parses and validates the crosswalk files against the controls a catalogue defines
/// (`control_ids`: upper-cased id → canonical id). Problems carry file, line and column.
pub(crate) fn load(files: &[&SourceFile], control_ids: &HashMap<String, String>) -> (Vec<Framework>, Vec<Problem>) {
    let mut frameworks = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let raw = match toml::from_str::<RawFramework>(&file.contents) {
            Ok(raw) => raw,
            Err(e) => {
                let reason = e.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
                problems.push(file.problem(e.span().unwrap_or(0..0), reason));
                continue;
            }
        };
        if let Some(framework) = load_one(file, raw, control_ids, &mut problems) {
            frameworks.push(framework);
        }
    }
    frameworks.sort_by(|a, b| a.id.cmp(&b.id));
    (frameworks, problems)
}

fn load_one(
    file: &SourceFile,
    raw: RawFramework,
    control_ids: &HashMap<String, String>,
    problems: &mut Vec<Problem>,
) -> Option<Framework> {
    let before = problems.len();
    // One file per framework, named after it, so `lunli crosswalk ID` and overlays find it.
    let stem = file.relative.strip_prefix(DIR).unwrap_or(&file.relative).trim_end_matches(".toml").to_string();
    let id_at = Origin::at(file, raw.framework.span());
    let id = raw.framework.into_inner();
    if id != stem {
        problems.push(id_at.problem(format!(
            "framework = \"{id}\" does not match the file name; a crosswalk file is named after its framework ({stem}.toml holds framework = \"{stem}\")"
        )));
    }
    for (what, text) in [("title", &raw.title), ("issuer", &raw.issuer)] {
        check_text(&Origin::at(file, text.span()), &format!("framework {what}"), text.get_ref(), problems);
    }

    let mut items: Vec<FrameworkItem> = Vec::with_capacity(raw.items.len());
    let mut item_at: HashMap<String, Origin> = HashMap::new();
    for raw_item in raw.items {
        let raw_item = raw_item.into_inner();
        let at = Origin::at(file, raw_item.id.span());
        let item_id = raw_item.id.into_inner();
        if item_id.trim().is_empty() || item_id.trim() != item_id {
            problems.push(at.problem(format!("item id `{item_id}` is empty or has surrounding spaces")));
            continue;
        }
        if let Some(first) = item_at.get(&item_id) {
            problems.push(at.problem(format!("duplicate item `{item_id}`; first defined at {first}")));
            continue;
        }
        let parent = raw_item.parent.map(|p| {
            let parent_at = Origin::at(file, p.span());
            let parent = p.into_inner();
            // A parent must come first: that keeps the hierarchy free of cycles and readable.
            if !item_at.contains_key(&parent) {
                problems.push(parent_at.problem(format!(
                    "item `{item_id}` names parent `{parent}`, which is not an item defined above it"
                )));
            }
            parent
        });
        let kind_at = Origin::at(file, raw_item.kind.span());
        let kind = raw_item.kind.into_inner();
        if kind.trim().is_empty() {
            problems.push(kind_at.problem(format!("item `{item_id}` has an empty kind (e.g. article, subcategory)")));
        }
        let title_at = Origin::at(file, raw_item.title.span());
        let title = raw_item.title.into_inner();
        check_text(&title_at, &format!("item `{item_id}` title"), &title, problems);
        item_at.insert(item_id.clone(), at);
        items.push(FrameworkItem { id: item_id, parent, kind, own: raw_item.own, title });
    }
    if items.is_empty() {
        problems.push(id_at.problem(format!("framework {id} lists no items")));
    }

    let mut mappings = Vec::with_capacity(raw.mappings.len());
    let mut seen: BTreeMap<(String, String), Origin> = BTreeMap::new();
    for raw_mapping in raw.mappings {
        let at = Origin::at(file, raw_mapping.span());
        let raw_mapping = raw_mapping.into_inner();
        let control_at = Origin::at(file, raw_mapping.control.span());
        let item_ref_at = Origin::at(file, raw_mapping.item.span());
        let given = raw_mapping.control.into_inner();
        let item = raw_mapping.item.into_inner();
        let Some(control) = control_ids.get(&given.to_ascii_uppercase()).cloned() else {
            problems
                .push(control_at.problem(format!("mapping names control `{given}`, which is not in the catalogue")));
            continue;
        };
        if !item_at.contains_key(&item) {
            problems
                .push(item_ref_at.problem(format!("mapping names item `{item}`, which framework {id} does not list")));
            continue;
        }
        if items.iter().any(|i| i.parent.as_deref() == Some(item.as_str())) {
            problems.push(item_ref_at.problem(format!(
                "mapping names item `{item}`, which has sub-items; map to the most specific item instead"
            )));
            continue;
        }
        if let Some(first) = seen.get(&(control.clone(), item.clone())) {
            problems.push(at.problem(format!("duplicate mapping {control} → {item}; first at {first}")));
            continue;
        }
        seen.insert((control.clone(), item.clone()), at);
        let rationale_at = Origin::at(file, raw_mapping.rationale.span());
        let rationale = raw_mapping.rationale.into_inner();
        check_text(&rationale_at, &format!("mapping {control} → {item} rationale"), &rationale, problems);
        if rationale.zh.contains('\n') || rationale.en.contains('\n') {
            problems.push(rationale_at.problem("a rationale is one line"));
        }
        mappings.push(Mapping { control, item, strength: raw_mapping.strength, rationale });
    }

    (problems.len() == before).then(|| Framework {
        id,
        title: raw.title.into_inner(),
        issuer: raw.issuer.into_inner(),
        published: raw.published,
        reference: raw.reference,
        items,
        mappings,
    })
}

fn check_text(at: &Origin, what: &str, text: &Text, problems: &mut Vec<Problem>) {
    for (lang, value) in [("zh", &text.zh), ("en", &text.en)] {
        if value.trim().is_empty() {
            problems.push(at.problem(format!("{what} has no {lang} text; every text needs both zh and en")));
        }
    }
}
