//! The crosswalks: each framework's item list pinned to its official structure, every mapping
//! resolving to a known control and a known item, coverage figures reproducible, and a broken
//! crosswalk file rejected with its file, line and reason.

use std::path::Path;

use lunli_norms::{Catalogue, CatalogueError, Framework, Problem, Strength};

fn catalogue() -> Catalogue {
    Catalogue::bundled().unwrap_or_else(|e| panic!("bundled catalogue must be valid:\n{e}"))
}

fn framework<'a>(catalogue: &'a Catalogue, id: &str) -> &'a Framework {
    catalogue.crosswalk(id).unwrap_or_else(|| panic!("crosswalk {id} is bundled"))
}

fn ids_of_kind(framework: &Framework, kind: &str) -> Vec<String> {
    framework.items.iter().filter(|i| i.kind == kind).map(|i| i.id.clone()).collect()
}

#[test]
fn the_five_frameworks_are_bundled() {
    let ids: Vec<String> = catalogue().crosswalks().iter().map(|f| f.id.clone()).collect();
    assert_eq!(
        ids,
        [
            "cn-ai-content-labelling-measures-2025",
            "cn-genai-interim-measures-2023",
            "eu-ai-act",
            "iso-iec-42001-2023",
            "nist-ai-rmf-1.0"
        ]
    );
}

#[test]
fn nist_ai_rmf_has_4_functions_19_categories_72_subcategories() {
    let catalogue = catalogue();
    let nist = framework(&catalogue, "nist-ai-rmf-1.0");
    assert_eq!(ids_of_kind(nist, "function"), ["GOVERN", "MAP", "MEASURE", "MANAGE"]);
    assert_eq!(nist.count("category"), 19);
    assert_eq!(nist.count("subcategory"), 72);
    // Subcategories per category, in the order of the AI RMF Core (NIST AI 100-1, Tables 1–4).
    let per_category = [
        ("GOVERN", vec![7, 3, 2, 3, 2, 2]),
        ("MAP", vec![6, 3, 5, 2, 2]),
        ("MEASURE", vec![3, 13, 3, 3]),
        ("MANAGE", vec![4, 4, 2, 3]),
    ];
    let mut expected = Vec::new();
    for (function, counts) in per_category {
        for (category, count) in counts.iter().enumerate() {
            let category_id = format!("{function} {}", category + 1);
            let item = nist.item(&category_id).unwrap_or_else(|| panic!("{category_id} listed"));
            assert_eq!(item.parent.as_deref(), Some(function));
            for sub in 1..=*count {
                expected.push(format!("{category_id}.{sub}"));
            }
        }
    }
    assert_eq!(ids_of_kind(nist, "subcategory"), expected);
    for sub in nist.items.iter().filter(|i| i.kind == "subcategory") {
        let category = sub.id.rsplit_once('.').map(|(c, _)| c.to_string());
        assert_eq!(sub.parent, category, "{} sits under its category", sub.id);
    }
}

#[test]
fn iso_42001_annex_a_has_38_controls_under_a2_to_a10() {
    let catalogue = catalogue();
    let iso = framework(&catalogue, "iso-iec-42001-2023");
    let controls = ids_of_kind(iso, "control");
    assert_eq!(controls.len(), 38);
    let top: Vec<&str> = iso.items.iter().filter(|i| i.parent.is_none()).map(|i| i.id.as_str()).collect();
    assert_eq!(top, ["A.2", "A.3", "A.4", "A.5", "A.6", "A.7", "A.8", "A.9", "A.10"]);
    let per_objective =
        [("A.2", 3), ("A.3", 2), ("A.4", 5), ("A.5", 4), ("A.6", 9), ("A.7", 5), ("A.8", 4), ("A.9", 3), ("A.10", 3)];
    for (objective, count) in per_objective {
        let n = controls.iter().filter(|c| c.starts_with(&format!("{objective}."))).count();
        assert_eq!(n, count, "controls under {objective}");
    }
    let a624 = iso.item("A.6.2.4").expect("A.6.2.4 listed");
    assert_eq!(a624.title.en, "AI system verification and validation");
    assert!(!a624.own, "ISO control titles are the official ones");
}

#[test]
fn eu_ai_act_has_annex_iii_areas_1_to_8_and_art_50_paragraphs() {
    let catalogue = catalogue();
    let eu = framework(&catalogue, "eu-ai-act");
    let areas: Vec<String> = (1..=8).map(|n| format!("Annex III({n})")).collect();
    assert_eq!(ids_of_kind(eu, "area"), areas);
    let paragraphs: Vec<String> = (1..=5).map(|n| format!("Art. 50({n})")).collect();
    assert_eq!(ids_of_kind(eu, "paragraph"), paragraphs);
    let mut articles: Vec<String> = (1..=27).map(|n| format!("Art. {n}")).collect();
    articles.extend(["Art. 50", "Art. 53", "Art. 55", "Art. 72", "Art. 73", "Art. 86"].map(String::from));
    assert_eq!(ids_of_kind(eu, "article"), articles);
    assert_eq!(eu.item("Art. 9").map(|i| i.title.en.as_str()), Some("Risk management system"));
}

#[test]
fn china_measures_have_24_and_14_articles() {
    let catalogue = catalogue();
    let genai = framework(&catalogue, "cn-genai-interim-measures-2023");
    let articles: Vec<String> = (1..=24).map(|n| format!("Art. {n}")).collect();
    assert_eq!(ids_of_kind(genai, "article"), articles);
    assert_eq!(genai.count("chapter"), 5);
    // Chapters hold articles 1–3, 4–8, 9–15, 16–21, 22–24.
    for (chapter, range) in [(1, 1..=3), (2, 4..=8), (3, 9..=15), (4, 16..=21), (5, 22..=24)] {
        for n in range {
            let item = genai.item(&format!("Art. {n}")).expect("listed");
            assert_eq!(item.parent.as_deref(), Some(format!("Ch. {chapter}").as_str()), "Art. {n}");
        }
    }
    let labelling = framework(&catalogue, "cn-ai-content-labelling-measures-2025");
    let articles: Vec<String> = (1..=14).map(|n| format!("Art. {n}")).collect();
    assert_eq!(ids_of_kind(labelling, "article"), articles);
    assert!(labelling.items.iter().all(|i| i.own), "the measures have no official article titles");
}

#[test]
fn every_mapping_resolves_to_a_control_and_a_leaf_item() {
    let catalogue = catalogue();
    for framework in catalogue.crosswalks() {
        assert!(!framework.mappings.is_empty(), "{} has mappings", framework.id);
        for mapping in &framework.mappings {
            assert!(catalogue.control(&mapping.control).is_some(), "{}: {}", framework.id, mapping.control);
            assert!(framework.item(&mapping.item).is_some(), "{}: {}", framework.id, mapping.item);
            assert!(framework.is_leaf(&mapping.item), "{}: {} is a leaf", framework.id, mapping.item);
        }
    }
}

#[test]
fn coverage_figures_add_up_and_are_reproducible() {
    let catalogue = catalogue();
    let mut figures = String::new();
    for framework in catalogue.crosswalks() {
        let coverage = framework.coverage();
        assert_eq!(coverage, framework.coverage(), "deterministic");
        let s = &coverage.summary;
        assert_eq!(s.items, s.equivalent + s.partial + s.related + s.uncovered);
        let leaves = framework.items.iter().filter(|i| framework.is_leaf(&i.id)).count();
        assert_eq!(s.items, leaves);
        let group_total: usize = coverage.groups.iter().map(|g| g.summary.items).sum();
        assert_eq!(group_total, s.items, "{}: groups partition the leaves", framework.id);
        for item in coverage.items.iter().filter(|i| i.leaf) {
            let strongest = framework.mappings.iter().filter(|m| m.item == item.id).map(|m| m.strength).max();
            assert_eq!(item.strength, strongest, "{} {}", framework.id, item.id);
        }
        figures.push_str(&format!(
            "{}: {} items, {} equivalent, {} partial, {} related, {} uncovered, {}% covered, {} controls\n",
            framework.id,
            s.items,
            s.equivalent,
            s.partial,
            s.related,
            s.uncovered,
            s.covered_percent,
            coverage.controls_mapped
        ));
    }
    insta::assert_snapshot!(figures);
}

#[test]
fn strengths_are_ordered() {
    assert!(Strength::Related < Strength::Partial && Strength::Partial < Strength::Equivalent);
}

// ── Broken crosswalk files ──────────────────────────────────────────────────────────────────────

const HEADER: &str = r#"framework = "acme-rules"
title = { zh = "某规则", en = "Acme rules" }
issuer = { zh = "某机构", en = "Acme" }
published = "2026-01-01"
reference = "ACME-1"
"#;

fn problems_of(name: &str, body: &str) -> Vec<Problem> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("crosswalks").join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, format!("{HEADER}{body}")).expect("write");
    match Catalogue::with_overlay(dir.path()) {
        Ok(_) => panic!("{name} should be rejected"),
        Err(CatalogueError::Invalid(problems)) => {
            for p in &problems {
                assert!(Path::new(&p.file).ends_with(Path::new("crosswalks").join(name)), "problem in the file: {p}");
            }
            problems
        }
        Err(other) => panic!("expected problems, got {other}"),
    }
}

const ITEMS: &str = r#"items = [
  { id = "R1", kind = "rule", title = { zh = "一", en = "One" } },
  { id = "R1.a", parent = "R1", kind = "clause", title = { zh = "甲", en = "A" } },
]
"#;

fn mapping(control: &str, item: &str, strength: &str) -> String {
    format!(
        "{ITEMS}mappings = [\n  {{ control = \"{control}\", item = \"{item}\", strength = \"{strength}\", rationale = {{ zh = \"理由\", en = \"why\" }} }},\n]\n"
    )
}

#[test]
fn a_good_overlay_crosswalk_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("crosswalks")).expect("mkdir");
    std::fs::write(
        dir.path().join("crosswalks/acme-rules.toml"),
        format!("{HEADER}{}", mapping("c-16-01", "R1.a", "partial")),
    )
    .expect("write");
    let catalogue = Catalogue::with_overlay(dir.path()).expect("valid");
    let acme = catalogue.crosswalk("acme-rules").expect("loaded");
    assert_eq!(acme.mappings[0].control, "C-16-01", "control ids are canonicalised");
    assert_eq!(acme.coverage().summary.partial, 1);
}

#[test]
fn an_unknown_strength_is_rejected_at_its_line() {
    let problems = problems_of("acme-rules.toml", &mapping("C-16-01", "R1.a", "strong"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, 11);
    assert!(problems[0].column > 1);
    assert!(problems[0].reason.contains("unknown variant `strong`"), "{}", problems[0].reason);
    assert!(problems[0].reason.contains("equivalent"), "{}", problems[0].reason);
}

#[test]
fn an_unknown_control_or_item_is_rejected() {
    let problems = problems_of("acme-rules.toml", &mapping("C-99-01", "R1.a", "related"));
    assert!(problems[0].reason.contains("control `C-99-01`, which is not in the catalogue"), "{problems:?}");
    assert_eq!(problems[0].line, 11);
    let problems = problems_of("acme-rules.toml", &mapping("C-16-01", "R9", "related"));
    assert!(problems[0].reason.contains("item `R9`, which framework acme-rules does not list"), "{problems:?}");
}

#[test]
fn a_mapping_to_an_item_with_sub_items_is_rejected() {
    let problems = problems_of("acme-rules.toml", &mapping("C-16-01", "R1", "related"));
    assert!(problems[0].reason.contains("has sub-items"), "{problems:?}");
}

#[test]
fn duplicate_items_and_dangling_parents_are_rejected() {
    let body = r#"items = [
  { id = "R1", kind = "rule", title = { zh = "一", en = "One" } },
  { id = "R1", kind = "rule", title = { zh = "一", en = "One again" } },
  { id = "R2.a", parent = "R2", kind = "clause", title = { zh = "乙", en = "B" } },
]
"#;
    let problems = problems_of("acme-rules.toml", body);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!((problems[0].line, problems[1].line), (8, 9));
    assert!(problems[0].reason.contains("duplicate item `R1`; first defined at"), "{}", problems[0]);
    assert!(problems[1].reason.contains("parent `R2`, which is not an item defined above it"), "{}", problems[1]);
}

#[test]
fn a_file_must_be_named_after_its_framework() {
    let problems = problems_of("other-name.toml", ITEMS);
    assert!(problems[0].reason.contains("does not match the file name"), "{problems:?}");
    assert_eq!(problems[0].line, 1);
}

#[test]
fn a_missing_translation_is_rejected() {
    let body = r#"items = [
  { id = "R1", kind = "rule", title = { zh = "", en = "One" } },
]
"#;
    let problems = problems_of("acme-rules.toml", body);
    assert!(problems[0].reason.contains("item `R1` title has no zh text"), "{problems:?}");
}
