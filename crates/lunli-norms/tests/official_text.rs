//! The catalogue's articles must be the official text: Chinese character for character (only
//! whitespace normalised), English as in the translation the project ships beside it.

use std::path::PathBuf;

use lunli_norms::{Catalogue, chinese_ordinal};

fn sources() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/sources");
    assert!(
        dir.join("ethical-norms-zh.txt").is_file(),
        "the official texts are expected in {} (the repository is checked out with `shared/` beside it)",
        dir.display()
    );
    dir
}

fn read(name: &str) -> String {
    let path = sources().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn without_whitespace(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits the official Chinese file into articles by their 第N条 markers, dropping the chapter
/// headings that fall between them and the signature after the last one.
fn official_zh_articles() -> Vec<String> {
    let text = read("ethical-norms-zh.txt");
    let body = text.split_once("第一章 总则").expect("the Chinese text has chapter 1").1;
    // The issuer signs after Art. 25; Art. 23 names it too, so cut at the last mention.
    let body = body.rsplit_once("国家新一代人工智能治理专业委员会").expect("the Chinese text is signed").0;
    (1..=25u8)
        .map(|n| {
            let marker = format!("{} ", chinese_ordinal(n));
            let start = body.find(&marker).unwrap_or_else(|| panic!("{marker} not found")) + marker.len();
            let end = if n < 25 {
                body.find(&format!("{} ", chinese_ordinal(n + 1))).expect("next article marker")
            } else {
                body.len()
            };
            body[start..end].lines().filter(|line| !(line.starts_with('第') && line.contains('章'))).collect::<String>()
        })
        .collect()
}

/// Splits the English translation into articles by their "N. " paragraph numbers.
fn official_en_articles() -> Vec<String> {
    let text = read("ethical-norms-en.txt");
    let body = text.split_once("Chapter 1. General Principles").expect("chapter 1").1;
    (1..=25u8)
        .map(|n| {
            let marker = format!("\n{n}. ");
            let start = body.find(&marker).unwrap_or_else(|| panic!("{marker:?} not found")) + marker.len();
            let end = if n < 25 { body.find(&format!("\n{}. ", n + 1)).expect("next article") } else { body.len() };
            body[start..end]
                .lines()
                .filter(|line| !line.trim_start().starts_with("Chapter "))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[test]
fn every_article_is_the_official_chinese_text_character_for_character() {
    let catalogue = Catalogue::bundled().expect("bundled catalogue is valid");
    let official = official_zh_articles();
    assert_eq!(catalogue.articles().len(), 25);
    for (article, official) in catalogue.articles().iter().zip(&official) {
        assert_eq!(
            without_whitespace(&article.text.zh),
            without_whitespace(official),
            "article {} differs from the official Chinese text",
            article.number
        );
    }
}

#[test]
fn every_article_is_the_shipped_english_translation() {
    let catalogue = Catalogue::bundled().expect("bundled catalogue is valid");
    for (article, official) in catalogue.articles().iter().zip(official_en_articles()) {
        assert_eq!(
            collapse_whitespace(&article.text.en),
            collapse_whitespace(&official),
            "article {} differs from the English translation",
            article.number
        );
    }
}

#[test]
fn specific_norm_titles_are_their_opening_sentences() {
    let catalogue = Catalogue::bundled().expect("bundled catalogue is valid");
    for article in catalogue.articles() {
        if article.is_specific_norm() {
            assert!(!article.title_editorial, "article {} has an official title", article.number);
            assert!(
                article.text.zh.starts_with(&format!("{}。", article.title.zh)),
                "article {}: title {:?} is not the text's first sentence",
                article.number,
                article.title.zh
            );
            assert!(article.text.en.starts_with(&article.title.en), "article {} English title", article.number);
        } else {
            assert!(article.title_editorial, "article {} has no official title; mark it editorial", article.number);
        }
    }
}

#[test]
fn principles_and_activities_are_clauses_of_articles_3_and_2() {
    let catalogue = Catalogue::bundled().expect("bundled catalogue is valid");
    let art3 = catalogue.article(3).expect("article 3");
    let art2 = catalogue.article(2).expect("article 2");
    let ids: Vec<&str> = catalogue.principles().iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["P1", "P2", "P3", "P4", "P5", "P6"]);
    let numerals = ["（一）", "（二）", "（三）", "（四）", "（五）", "（六）"];
    for (principle, numeral) in catalogue.principles().iter().zip(numerals) {
        let clause = format!("{numeral}{}", principle.text.zh);
        assert!(
            without_whitespace(&art3.text.zh).contains(&without_whitespace(&clause)),
            "{} is not Art. 3 {numeral}",
            principle.id
        );
        assert!(
            collapse_whitespace(&art3.text.en).contains(&collapse_whitespace(&principle.text.en)),
            "{} English",
            principle.id
        );
        assert!(principle.text.zh.starts_with(&principle.name.zh));
    }
    assert_eq!(catalogue.activities().len(), 4);
    for (activity, numeral) in catalogue.activities().iter().zip(numerals) {
        let clause = format!("{numeral}{}", activity.text.zh);
        assert!(art2.text.zh.contains(&clause), "{} is not Art. 2 {numeral}", activity.id);
        assert!(art2.text.en.contains(&activity.text.en), "{} English", activity.id);
        let chapter = catalogue.chapter(activity.chapter).expect("activity chapter");
        for number in chapter.articles[0]..=chapter.articles[1] {
            assert_eq!(catalogue.article(number).and_then(|a| a.activity), Some(activity.id), "article {number}");
        }
    }
}
