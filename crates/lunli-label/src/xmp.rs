//! The AIGC label inside an XMP packet: the property `AIGC` of the TC260 namespace
//! (`http://www.tc260.org.cn/ns/AIGC/1.0/`, usually prefixed `TC260`), whose value is the JSON of
//! the seven fields. A small reader over RDF/XML as XMP writers serialise it — element or
//! attribute form, any prefix bound to the namespace — not a general XML parser.

use crate::fields::Aigc;

pub const NAMESPACE: &str = "http://www.tc260.org.cn/ns/AIGC/1.0/";
pub const PREFIX: &str = "TC260";

/// One `AIGC` value found in a packet, unescaped; `declared` is false when the prefix `TC260`
/// was used without binding it to the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XmpValue {
    pub value: String,
    pub declared: bool,
}

/// Every AIGC property in the packet.
pub(crate) fn aigc_values(xmp: &str) -> Vec<XmpValue> {
    properties(xmp).into_iter().map(|p| p.value).collect()
}

/// One AIGC property and the bytes it spans (the whole element, or the attribute with the
/// whitespace before it), so that a replacement can remove it.
struct Property {
    value: XmpValue,
    span: (usize, usize),
}

fn properties(xmp: &str) -> Vec<Property> {
    let mut declared = declared_prefixes(xmp);
    // A prefix declared on several elements is one prefix.
    declared.sort_unstable();
    declared.dedup();
    let mut prefixes: Vec<(String, bool)> = declared.into_iter().map(|p| (p, true)).collect();
    if !prefixes.iter().any(|(p, _)| p == PREFIX) {
        prefixes.push((PREFIX.to_string(), false));
    }
    let mut out = Vec::new();
    for (prefix, declared) in prefixes {
        let qname = format!("{prefix}:AIGC");
        // Element form: <TC260:AIGC>…</TC260:AIGC> (attributes such as rdf:parseType allowed).
        let open = format!("<{qname}");
        let close = format!("</{qname}>");
        let mut from = 0;
        while let Some(i) = xmp[from..].find(&open).map(|i| i + from) {
            let after = i + open.len();
            from = after;
            let Some(next) = xmp[after..].chars().next() else { break };
            if next != '>' && !next.is_whitespace() && next != '/' {
                continue;
            }
            let Some(gt) = xmp[after..].find('>').map(|g| g + after) else { break };
            if xmp[..gt].ends_with('/') {
                out.push(Property { value: XmpValue { value: String::new(), declared }, span: (i, gt + 1) });
                continue;
            }
            let Some(end) = xmp[gt..].find(&close).map(|e| e + gt) else { break };
            from = end + close.len();
            out.push(Property { value: XmpValue { value: unescape(&xmp[gt + 1..end]), declared }, span: (i, from) });
        }
        // Attribute form: <rdf:Description TC260:AIGC="…"/>.
        let attr = format!("{qname}=");
        let mut from = 0;
        while let Some(i) = xmp[from..].find(&attr).map(|i| i + from) {
            let start = i + attr.len();
            from = start;
            let preceded = xmp[..i].chars().next_back().is_some_and(char::is_whitespace);
            let Some(quote) = xmp[start..].chars().next().filter(|q| *q == '"' || *q == '\'') else { continue };
            if !preceded {
                continue;
            }
            let Some(end) = xmp[start + 1..].find(quote).map(|e| e + start + 1) else { break };
            out.push(Property {
                value: XmpValue { value: unescape(&xmp[start + 1..end]), declared },
                span: (xmp[..i].trim_end().len(), end + 1),
            });
            from = end + 1;
        }
    }
    out
}

/// The packet with every AIGC property taken out (for `write --replace`); the rest is kept as
/// it was, including an emptied rdf:Description.
pub(crate) fn without_aigc(xmp: &str) -> String {
    let mut spans: Vec<(usize, usize)> = properties(xmp).into_iter().map(|p| p.span).collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(xmp.len());
    let mut at = 0;
    for (start, end) in spans {
        if start >= at {
            out.push_str(&xmp[at..start]);
            at = end;
        }
    }
    out.push_str(&xmp[at..]);
    out
}

/// The prefixes bound to the TC260 namespace (`xmlns:P="…"`).
fn declared_prefixes(xmp: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quoted in [format!("\"{NAMESPACE}\""), format!("'{NAMESPACE}'")] {
        let mut from = 0;
        while let Some(i) = xmp[from..].find(&quoted).map(|i| i + from) {
            from = i + quoted.len();
            let before = xmp[..i].trim_end();
            let Some(before) = before.strip_suffix('=') else { continue };
            let before = before.trim_end();
            let Some(colon) = before.rfind("xmlns:") else { continue };
            let prefix = &before[colon + "xmlns:".len()..];
            if !prefix.is_empty() && prefix.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') {
                out.push(prefix.to_string());
            }
        }
    }
    out
}

/// XML character data: the five predefined entities, character references and CDATA sections.
pub(crate) fn unescape(text: &str) -> String {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix("<![CDATA[").and_then(|t| t.strip_suffix("]]>")) {
        return inner.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "quot" => Some('"'),
            "apos" => Some('\''),
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The rdf:Description lunli writes.
fn description(aigc: &Aigc) -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:{PREFIX}=\"{NAMESPACE}\"><{PREFIX}:AIGC>{}</{PREFIX}:AIGC></rdf:Description>",
        escape(&aigc.to_json())
    )
}

/// A whole XMP packet holding only the label.
pub(crate) fn packet(aigc: &Aigc) -> String {
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         {}</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>",
        description(aigc)
    )
}

/// An existing packet with the label added as one more rdf:Description, keeping everything it
/// held except an AIGC property it had (which the new label replaces); `None` when the packet
/// has no `</rdf:RDF>` to add it before.
pub(crate) fn merged(existing: &str, aigc: &Aigc) -> Option<String> {
    let existing = without_aigc(existing);
    let at = existing.rfind("</rdf:RDF>")?;
    Some(format!("{}{}{}", &existing[..at], description(aigc), &existing[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_and_attribute_forms_with_any_prefix_are_found() {
        let aigc = Aigc::generated("acme & co", "id<1>", "");
        let values = aigc_values(&packet(&aigc));
        assert_eq!(values, vec![XmpValue { value: aigc.to_json(), declared: true }]);

        let attr = r#"<rdf:Description xmlns:ai="http://www.tc260.org.cn/ns/AIGC/1.0/" ai:AIGC='{&quot;Label&quot;:&quot;1&quot;}'/>"#;
        assert_eq!(aigc_values(attr), vec![XmpValue { value: r#"{"Label":"1"}"#.into(), declared: true }]);

        let undeclared = "<TC260:AIGC>{&#34;Label&#x22;:1}</TC260:AIGC>";
        assert_eq!(aigc_values(undeclared), vec![XmpValue { value: r#"{"Label":1}"#.into(), declared: false }]);

        assert!(aigc_values("<x:xmpmeta><TC260:AIGCX>1</TC260:AIGCX></x:xmpmeta>").is_empty());
    }

    #[test]
    fn a_label_joins_an_existing_packet() {
        let existing = "<x:xmpmeta><rdf:RDF><rdf:Description dc:title='t'/></rdf:RDF></x:xmpmeta>";
        let aigc = Aigc::generated("acme", "1", "");
        let joined = merged(existing, &aigc).expect("merged");
        assert!(joined.contains("dc:title='t'"));
        assert_eq!(aigc_values(&joined).len(), 1);
        assert_eq!(merged("<x/>", &aigc), None);

        // A packet that holds a label already has it replaced, in either form.
        let other = Aigc::generated("other", "2", "");
        let replaced = merged(&joined, &other).expect("merged");
        assert_eq!(aigc_values(&replaced), vec![XmpValue { value: other.to_json(), declared: true }]);
        assert!(replaced.contains("dc:title='t'"));
        let attr = r#"<rdf:RDF><rdf:Description xmlns:ai="http://www.tc260.org.cn/ns/AIGC/1.0/" ai:AIGC='{}' a='b'/></rdf:RDF>"#;
        assert_eq!(
            without_aigc(attr),
            r#"<rdf:RDF><rdf:Description xmlns:ai="http://www.tc260.org.cn/ns/AIGC/1.0/" a='b'/></rdf:RDF>"#
        );
    }
}
