//! Mainland Chinese identifiers: resident ID (GB 11643, 18 and 15 digits), mobile and landline
//! numbers, Unified Social Credit Codes (GB 32100), bank cards (Luhn, UnionPay and the
//! international schemes), passports, travel permits to Hong Kong, Macau and Taiwan; and names
//! and addresses after a context word.

use crate::checksum;
use crate::context::ContextWords;
use crate::entity::{Confidence, Entity};
use crate::recognise::Verdict;

/// Classifies a token of digits and capitals without its separators. `area_separated`: the
/// token had a separator after a short first group (`010-`, `0755 `), as landlines are written.
pub(crate) fn token(t: &[u8], area_separated: bool) -> Option<Verdict> {
    let (plus, body) = match t.split_first() {
        Some((b'+', rest)) => (true, rest),
        _ => (false, t),
    };
    let all_digits = !body.is_empty() && checksum::all_digits(body);
    // +86 / 0086 / 86 before a mobile or a landline without its leading 0.
    let national = body
        .strip_prefix(b"0086")
        .or_else(|| if plus { body.strip_prefix(b"86") } else { None })
        .or_else(|| if body.len() == 13 { body.strip_prefix(b"86") } else { None });
    if let Some(rest) = national.filter(|_| all_digits) {
        if mobile(rest) {
            return Some(Verdict::new(Entity::Mobile, Confidence::Likely));
        }
        if (9..=11).contains(&rest.len()) && rest[0] != b'0' && rest[0] != b'1'
            || rest.starts_with(b"10") && rest.len() == 10
        {
            return Some(Verdict::new(Entity::Landline, Confidence::Likely));
        }
    }
    if plus {
        return None;
    }
    let last_x = body.last().is_some_and(|b| matches!(b, b'X' | b'x'));
    if all_digits || (last_x && checksum::all_digits(&body[..body.len() - 1])) {
        return digits(body, area_separated);
    }
    letters_and_digits(body)
}

fn mobile(d: &[u8]) -> bool {
    d.len() == 11 && d[0] == b'1' && (b'3'..=b'9').contains(&d[1]) && checksum::all_digits(d)
}

fn digits(d: &[u8], area_separated: bool) -> Option<Verdict> {
    let n = d.len();
    if n == 18 && checksum::resident_id_shape(d) {
        return Some(if checksum::resident_id_check(d) {
            Verdict::new(Entity::ResidentId, Confidence::High)
        } else {
            Verdict::failed(Entity::ResidentId)
        });
    }
    if d.last().is_some_and(|b| !b.is_ascii_digit()) {
        return None;
    }
    if n == 15 && checksum::resident_id_shape(d) {
        return Some(Verdict::new(Entity::ResidentId, Confidence::Likely));
    }
    if mobile(d) {
        return Some(Verdict::new(Entity::Mobile, Confidence::Likely));
    }
    if d[0] == b'0' && landline(d) {
        let confidence = if area_separated { Confidence::Likely } else { Confidence::Possible };
        return Some(Verdict::new(Entity::Landline, confidence));
    }
    if ((16..=19).contains(&n) || (n == 15 && matches!(&d[..2], b"34" | b"37"))) && checksum::card_issuer(d) {
        return Some(if checksum::luhn(d) {
            Verdict::new(Entity::BankCard, Confidence::Likely)
        } else {
            Verdict::failed(Entity::BankCard).with_context()
        });
    }
    if n == 8 {
        // 台湾居民来往大陆通行证: eight digits, only where a word says so.
        return Some(Verdict::new(Entity::TaiwanPermit, Confidence::Likely).with_context());
    }
    None
}

/// Area codes: 010 and 02x are followed by 8 digits; 0[3-9]xx by 7 or 8.
fn landline(d: &[u8]) -> bool {
    match d.get(1) {
        Some(b'1') => d.len() == 11 && d[2] == b'0',
        Some(b'2') => d.len() == 11,
        Some(b'3'..=b'9') => d.len() == 11 || d.len() == 12,
        _ => false,
    }
}

fn letters_and_digits(t: &[u8]) -> Option<Verdict> {
    let n = t.len();
    if n == 18 && checksum::uscc_shape(t) {
        return Some(if checksum::uscc_check(t) {
            Verdict::new(Entity::Uscc, Confidence::High)
        } else {
            Verdict::failed(Entity::Uscc)
        });
    }
    let digits_from = |i: usize| n > i && checksum::all_digits(&t[i..]);
    let letter = |b: u8| b.is_ascii_uppercase() && b != b'I' && b != b'O';
    match (t.first(), n) {
        // Ordinary passports: E + 8 digits, E + letter + 7 digits; older G + 8 digits.
        (Some(b'E'), 9) if digits_from(1) || (letter(t[1]) && digits_from(2)) => {
            Some(Verdict::new(Entity::Passport, Confidence::Likely))
        }
        (Some(b'G'), 9) if digits_from(1) => Some(Verdict::new(Entity::Passport, Confidence::Possible)),
        // 往来港澳通行证: C + 8 digits, or C + letter + 7 digits.
        (Some(b'C'), 9) if digits_from(1) || (letter(t[1]) && digits_from(2)) => {
            Some(Verdict::new(Entity::HkMacauPermit, Confidence::Likely))
        }
        // 港澳居民来往内地通行证 (回乡证): H or M + 8 or 10 digits.
        (Some(b'H' | b'M'), 9 | 11) if digits_from(1) => {
            Some(Verdict::new(Entity::HkMacauPermit, Confidence::Possible))
        }
        // 大陆居民往来台湾通行证: L or T + 8 digits.
        (Some(b'L' | b'T'), 9) if digits_from(1) => Some(Verdict::new(Entity::TaiwanPermit, Confidence::Possible)),
        _ => None,
    }
}

pub(crate) fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// A whole value shaped like a name: 2–4 Chinese characters (with `·` in transcribed names), or
/// two or three capitalised Latin words.
pub(crate) fn name_shape(value: &str) -> bool {
    let han = value.chars().filter(|&c| is_han(c)).count();
    if han > 0 {
        return (2..=4).contains(&han) && value.chars().all(|c| is_han(c) || c == '·')
            || (han <= 8 && value.contains('·'));
    }
    let words: Vec<&str> = value.split_whitespace().collect();
    (2..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut chars = w.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && chars.all(|c| c.is_ascii_lowercase() || c == '\'' || c == '-')
        })
}

/// Words that make a Chinese text an address.
const ADDRESS_MARKERS: &[char] =
    &['省', '市', '区', '县', '路', '街', '道', '号', '村', '镇', '乡', '巷', '弄', '栋', '室', '楼'];

/// A whole value shaped like an address: Chinese with an address word and at least 5
/// characters, or Latin text with a house number and a street word.
pub(crate) fn address_shape(value: &str) -> bool {
    if value.chars().any(is_han) {
        return value.chars().count() >= 5 && value.chars().filter(|c| ADDRESS_MARKERS.contains(c)).count() >= 2;
    }
    let lower = value.to_ascii_lowercase();
    value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().filter(|b| b.is_ascii_alphabetic()).count() >= 4
        && [" st", " street", " road", " rd", " ave", " avenue", " lane", " way", " drive", " blvd", " square"]
            .iter()
            .any(|w| lower.contains(w))
}

/// Words that often follow a name without punctuation (性别, 年龄 are no identifiers).
const FOLLOWERS: &[&str] = &["性别", "年龄", "先生", "女士", "的"];

/// After a word such as 姓名 or `name`, a separator, then the name: 2–4 Chinese characters (cut
/// at the next context word, as in 联系人张伟电话…) or two or three capitalised words.
pub(crate) fn name_after(text: &str, start: usize, end: usize, words: &ContextWords) -> Option<(usize, usize)> {
    let trigger = &text[start..end];
    let latin = trigger.is_ascii();
    let bytes = text.as_bytes();
    if latin && start > 0 && bytes[start - 1].is_ascii_alphabetic() {
        return None; // username, rename
    }
    let value_start = after_separator(text, end, latin)?;
    let rest = &text[value_start..];
    if latin {
        let mut taken = 0;
        let mut count = 0;
        for word in rest.split(' ') {
            let ok = word.len() >= 2
                && word.as_bytes()[0].is_ascii_uppercase()
                && word[1..].bytes().all(|b| b.is_ascii_lowercase() || b == b'\'' || b == b'-');
            if !ok || count == 3 {
                break;
            }
            taken += word.len() + usize::from(count > 0);
            count += 1;
        }
        return (count >= 2).then(|| (value_start, value_start + taken));
    }
    let len: usize = rest.chars().take_while(|&c| is_han(c) || c == '·').take(4).map(char::len_utf8).sum();
    let mut value = &rest[..len];
    // Cut at a following context word (电话, 身份证, 地址, …).
    for cut in value.char_indices().map(|(i, _)| i).skip(2) {
        let tail = &value[cut..];
        if !words.read(tail).supports.is_empty() || FOLLOWERS.iter().any(|w| tail.starts_with(w)) {
            value = &value[..cut];
            break;
        }
    }
    let n = value.chars().count();
    (2..=4).contains(&n).then(|| (value_start, value_start + value.len()))
}

/// After 地址 or `address`, a separator, then the address up to the next clause mark: it must
/// look like an address (see [`address_shape`]). 邮箱地址, IP 地址, `email address` are not.
pub(crate) fn address_after(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let latin = text[start..end].is_ascii();
    let bytes = text.as_bytes();
    if latin && start > 0 && bytes[start - 1].is_ascii_alphabetic() {
        return None;
    }
    let mut from = start.saturating_sub(12);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    // Compared without case, and without making a lower-case copy.
    let before = text[from..start].trim_end().as_bytes();
    let ends_with =
        |w: &str| before.len() >= w.len() && before[before.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes());
    if ["ip", "mac", "邮箱", "邮件", "email", "e-mail", "web", "网络", "网页", "物理", "服务器", "ipv4", "ipv6"]
        .iter()
        .any(|w| ends_with(w))
    {
        return None;
    }
    let value_start = after_separator(text, end, latin)?;
    let rest = &text[value_start..];
    let stop = |c: char| {
        matches!(
            c,
            '\n' | '\r'
                | '\t'
                | '，'
                | '。'
                | '；'
                | ';'
                | '！'
                | '!'
                | '？'
                | '?'
                | '、'
                | '）'
                | ')'
                | '"'
                | '“'
                | '”'
        ) || (!latin && (c == ' ' || c == ','))
    };
    let mut len = rest.find(stop).unwrap_or(rest.len());
    if latin {
        // An English address ends at a full stop followed by a space or the end.
        if let Some(dot) = rest[..len].find(". ") {
            len = dot;
        }
        len = rest[..len].trim_end_matches(['.', ' ']).len();
    }
    let limit = if latin { 100 } else { 180 };
    if len == 0 || len > limit {
        return None;
    }
    address_shape(&rest[..len]).then(|| (value_start, value_start + len))
}

/// Skips the separator after a context word: `：`, `:`, spaces, `为`/`是` or ` is`. A Latin word
/// needs one, so `name of the file` is not a name.
fn after_separator(text: &str, mut at: usize, latin: bool) -> Option<usize> {
    let rest = &text[at..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    at += skipped;
    let rest = &text[at..];
    for sep in ["：", ":", "为", "是", "is "] {
        if let Some(r) = rest.strip_prefix(sep) {
            at += sep.len();
            at += r.len() - r.trim_start_matches([' ', '\t']).len();
            return Some(at);
        }
    }
    if latin { None } else { Some(at) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_tokens() {
        let e =
            |t: &str| token(t.as_bytes(), false).map(|v| (v.entity, v.confidence, v.checksum_failed, v.needs_context));
        assert_eq!(e("11010519491231002X"), Some((Entity::ResidentId, Confidence::High, false, false)));
        assert_eq!(e("110105491231002"), Some((Entity::ResidentId, Confidence::Likely, false, false)));
        assert_eq!(e("13812345678"), Some((Entity::Mobile, Confidence::Likely, false, false)));
        assert_eq!(e("+8613812345678"), Some((Entity::Mobile, Confidence::Likely, false, false)));
        assert_eq!(e("008613812345678"), Some((Entity::Mobile, Confidence::Likely, false, false)));
        assert_eq!(e("01012345678"), Some((Entity::Landline, Confidence::Possible, false, false)));
        assert_eq!(e("4111111111111111"), Some((Entity::BankCard, Confidence::Likely, false, false)));
        assert_eq!(e("4111111111111112"), Some((Entity::BankCard, Confidence::Possible, true, true)));
        assert_eq!(e("91350100M000100Y43"), Some((Entity::Uscc, Confidence::High, false, false)));
        assert_eq!(e("E12345678"), Some((Entity::Passport, Confidence::Likely, false, false)));
        assert_eq!(e("202611271234567890"), None, "an order number starting with a year");
    }

    #[test]
    fn names_and_addresses() {
        let words = ContextWords::new();
        let t = "联系人张伟电话13812345678";
        let (s, e) = name_after(t, 0, "联系人".len(), &words).expect("a name");
        assert_eq!(&t[s..e], "张伟");
        let t = "my name is Li Wei and";
        assert_eq!(name_after(t, 3, 7, &words).map(|(s, e)| &t[s..e]), Some("Li Wei"));
        let t = "the file name of the report";
        assert_eq!(name_after(t, 9, 13, &words), None);
        let t = "家庭住址：北京市朝阳区建国路88号，邮编";
        let (s, e) = address_after(t, 0, "家庭住址".len()).expect("an address");
        assert_eq!(&t[s..e], "北京市朝阳区建国路88号");
        let t = "IP地址：10.0.0.1";
        assert_eq!(address_after(t, 2, 2 + "地址".len()), None);
        assert!(name_shape("欧阳娜娜") && name_shape("John Smith") && !name_shape("hello world"));
    }
}
