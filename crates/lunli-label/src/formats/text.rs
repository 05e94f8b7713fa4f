//! Text, Markdown and HTML: the explicit label at the start or end of the text (GB 45438-2025,
//! 4.1 and the text rules of its explicit-label clause: a prompt with 人工智能 or AI, and 生成 or
//! 合成), and an implicit label where such a file has a place for metadata — lunli's reading,
//! since the standard names none (docs/labels.md): an HTML `<meta name="AIGC" content="…">` and
//! a Markdown front-matter key `AIGC:`. Only the first and last 8 KiB are read.

use std::io::{Read, Seek};

use super::{Found, is_aigc_key};
use crate::error::Parse;
use crate::source::Source;

const EDGE: u64 = 8 << 10;
/// How far into the visible text (from either end) the explicit label is looked for.
const REACH: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain,
    Markdown,
    Html,
}

/// What the edges of a text file hold.
pub(crate) struct Edges {
    /// Where the explicit label was found (`start` or `end`) and its words.
    pub explicit: Option<(&'static str, String)>,
}

pub(crate) fn scan<R: Read + Seek>(src: &mut Source<R>, kind: Kind, found: &mut Vec<Found>) -> Parse<Edges> {
    let len = src.len();
    let (head, tail) = if len <= EDGE * 2 {
        let whole = String::from_utf8_lossy(&src.read_at(0, len, "the text")?).into_owned();
        (whole.clone(), whole)
    } else {
        let head = src.read_at(0, EDGE, "the start of the text")?;
        let tail = src.read_at(len - EDGE, EDGE, "the end of the text")?;
        (String::from_utf8_lossy(&head).into_owned(), String::from_utf8_lossy(&tail).into_owned())
    };
    match kind {
        Kind::Html => html_meta(&head, found),
        Kind::Markdown => front_matter(&head, found),
        Kind::Plain => {}
    }
    let (start, end) = match kind {
        Kind::Html => (visible(body_start(&head)), visible(&tail)),
        Kind::Markdown => (strip_front_matter(&head).to_string(), tail.clone()),
        Kind::Plain => (head.clone(), tail.clone()),
    };
    // The first and the last line of text (a prompt at the start or the end, 4.1.1 of the
    // standard), each up to REACH characters from its edge.
    let first: String =
        start.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().chars().take(REACH).collect();
    let last: String = {
        let line = end.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or_default();
        let n = line.chars().count();
        line.chars().skip(n.saturating_sub(REACH)).collect()
    };
    let explicit = label_words(&first).map(|w| ("start", w)).or_else(|| label_words(&last).map(|w| ("end", w)));
    Ok(Edges { explicit })
}

/// The explicit label in `text`: a sentence naming 人工智能 or AI together with 生成 or 合成.
pub(crate) fn label_words(text: &str) -> Option<String> {
    for sentence in text.split(['\n', '。', '.', '!', '！', '|', '】', '】']) {
        let has_ai = sentence.contains("人工智能") || sentence.contains("AI");
        let has_made = sentence.contains("生成") || sentence.contains("合成");
        if has_ai && has_made {
            return Some(sentence.trim().chars().take(60).collect());
        }
    }
    None
}

fn body_start(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    match lower.find("<body") {
        Some(i) => &html[i..],
        None => html,
    }
}

/// The text of HTML without tags, scripts and styles (roughly: enough to see the first words).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let lower: String = rest[lt..].chars().take(8).collect::<String>().to_ascii_lowercase();
        let skip_to = if lower.starts_with("<script") {
            rest[lt..].to_ascii_lowercase().find("</script>").map(|e| lt + e + 9)
        } else if lower.starts_with("<style") {
            rest[lt..].to_ascii_lowercase().find("</style>").map(|e| lt + e + 8)
        } else {
            rest[lt..].find('>').map(|e| lt + e + 1)
        };
        match skip_to {
            Some(e) => {
                out.push('\n');
                rest = &rest[e..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    let lines: Vec<String> =
        out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect();
    crate::xmp::unescape(&lines.join("\n"))
}

fn html_meta(head: &str, found: &mut Vec<Found>) {
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<meta").map(|i| i + from) {
        let Some(end) = lower[i..].find('>').map(|e| e + i) else { break };
        from = end;
        let tag = &head[i..end];
        let (Some(name), Some(content)) = (attribute(tag, "name"), attribute(tag, "content")) else { continue };
        if is_aigc_key(&name) {
            found.push(Found {
                location: format!("HTML <meta name=\"{name}\">"),
                value: crate::xmp::unescape(&content),
                problems: Vec::new(),
            });
        }
    }
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| i + from) {
        from = i + name.len();
        let before_ok = lower[..i].chars().next_back().is_some_and(char::is_whitespace);
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - after.len() + 1;
        let rest = tag[value_start..].trim_start();
        let quote = rest.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let inner = &rest[1..];
        return inner.find(quote).map(|e| inner[..e].to_string());
    }
    None
}

fn front_matter_block(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = body.strip_prefix("---\n").or_else(|| body.strip_prefix("---\r\n"))?;
    let end = rest.find("\n---")?;
    let after = rest[end + 4..].trim_start_matches(['\r', '\n', '-']);
    Some((&rest[..end], after))
}

fn strip_front_matter(text: &str) -> &str {
    front_matter_block(text).map_or(text, |(_, after)| after)
}

fn front_matter(head: &str, found: &mut Vec<Found>) {
    let Some((block, _)) = front_matter_block(head) else { return };
    for line in block.lines() {
        if let Some((key, value)) = line.split_once(':')
            && is_aigc_key(key.trim())
        {
            let value = value.trim();
            let value = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(value);
            found.push(Found {
                location: format!("Markdown front matter {}", key.trim()),
                value: value.to_string(),
                problems: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_words_need_ai_and_generation() {
        assert!(label_words("本内容由人工智能生成").is_some());
        assert!(label_words("AI生成图片").is_some());
        assert!(label_words("由AI合成的语音").is_some());
        assert!(label_words("人工智能简介").is_none());
        assert!(label_words("Generated by AI").is_none());
    }

    #[test]
    fn html_text_skips_tags_scripts_and_styles() {
        assert_eq!(visible("<p>本内容由AI生成</p><script>var a='<p>';</script> x <i>y</i>"), "本内容由AI生成\nx\ny");
    }
}
