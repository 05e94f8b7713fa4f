//! The prefilter of the candidate search: where the next candidate can start, found at the
//! speed of a byte loop so that prose between identifiers is skipped without running the
//! multi-pattern automaton over it.
//!
//! Every candidate the patterns of [`crate::recognise`] can match holds an *anchor*: an ASCII
//! digit; an `@` between a local-part and a domain character (email); a `:` with another `:`
//! at most five bytes on (IPv6, MAC), a `-` between hex pairs followed by another `-` three
//! bytes on (MAC); a capital letter after a province's abbreviation (licence plates without a
//! digit); a context word that opens a name or an address (`姓名`, `name`, `地址`, …). The part
//! of a candidate before its first anchor is either ASCII of `[A-Za-z0-9._%+\-(]` (an email's
//! local part, `+`, capitals, hex letters, a parenthesis), or, for a street address or a
//! plate, at most [`HAN_BEFORE`] bytes — and then the anchor is a plate's letter (3 bytes
//! after the start), a street address's house number (right after its road word, 路 街 道 巷
//! 弄 村) or a context word inside the address. So no candidate starts between the search position
//! and where [`Anchors::next`] points: searching from there finds the same leftmost candidate as
//! searching from the search position, and the findings are unchanged. It also says what may
//! start in the Chinese text it looks back over ([`Start`]): a street address only at a
//! province's name, and only before a road word's number or a context word followed by Chinese
//! text on to one; a plate only at its province; so the recogniser tries those places alone.

use aho_corasick::packed::{self, Searcher};

/// The most bytes a candidate holds before its first anchor when they are not all ASCII: a
/// street address's province (9 bytes), `自治区` (9), up to 12 Han characters (48, at 4 bytes
/// for the rarest), a city word (3), up to 16 Han characters (64) and a road word (3) come to
/// 136; a plate to 13.
pub(crate) const HAN_BEFORE: usize = 160;

/// Context words that open a name or an address (the NAME and ADDRESS patterns); ASCII ones
/// case-insensitive.
const OPENERS: [&str; 17] = [
    "姓名",
    "名字",
    "联系人",
    "收件人",
    "收货人",
    "持卡人",
    "户名",
    "患者",
    "家庭住址",
    "收货地址",
    "地址",
    "住址",
    "住所",
    "户籍地",
    "居住地",
    "name",
    "address",
];

/// The Chinese words of [`OPENERS`], first those that open a name.
const CHINESE_OPENERS: usize = 15;
const NAME_OPENERS: usize = 8;

/// The province abbreviations that open a licence plate.
const PLATE_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// The context words of [`OPENERS`] for a SIMD literal search: the Chinese words as they are,
/// the first three letters of `name` and of `address` in every mix of cases.
pub(crate) fn openers() -> Option<Searcher> {
    let mut config = packed::Config::new().builder();
    for word in &OPENERS[..CHINESE_OPENERS] {
        config.add(word);
    }
    // Three letters in 8 cases each keep the searcher at 31 words, within the fast (slim)
    // form of the SIMD search; the rest of the word is checked after.
    for word in ["nam", "add"] {
        for mask in 0..8u8 {
            let variant: Vec<u8> = word
                .bytes()
                .enumerate()
                .map(|(i, b)| if mask & (1 << i) != 0 { b.to_ascii_uppercase() } else { b })
                .collect();
            config.add(variant);
        }
    }
    config.build()
}

/// A road word (the end of a street address before its house number) ends at `at`.
fn road_word_before(bytes: &[u8], at: usize) -> bool {
    at >= 3 && ["路", "街", "道", "巷", "弄", "村"].iter().any(|w| &bytes[at - 3..at] == w.as_bytes())
}

/// Whether a street address may hold the context word at `at`: up to its house number, which
/// follows a road word, a street address is Chinese characters, less than [`HAN_BEFORE`] bytes
/// of them. (Most context words are followed by punctuation, a full-width colon or comma, and
/// then the text before them need not be searched.)
fn street_through(bytes: &[u8], at: usize) -> bool {
    let ahead = &bytes[at..bytes.len().min(at + HAN_BEFORE)];
    for (i, &b) in ahead.iter().enumerate() {
        if b.is_ascii() {
            return b.is_ascii_digit() && road_word_before(bytes, at + i);
        }
        // Full-width forms (U+FF00 to U+FF7F: `，` `：` `；` `（`) and `、` `。` are no Chinese
        // characters.
        let rest = &ahead[i..];
        if rest.starts_with(&[0xEF, 0xBC])
            || rest.starts_with(&[0xEF, 0xBD])
            || rest.starts_with("、".as_bytes())
            || rest.starts_with("。".as_bytes())
        {
            return false;
        }
    }
    false
}

fn hex(b: Option<&u8>) -> bool {
    b.is_some_and(u8::is_ascii_hexdigit)
}

fn local_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

/// Before the first anchor, an ASCII candidate holds only these bytes (looked up in a table:
/// the walk back over them is made before every candidate).
fn before_anchor(b: u8) -> bool {
    BEFORE_ANCHOR[usize::from(b)]
}

const BEFORE_ANCHOR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'(');
        b += 1;
    }
    table
};

/// A byte that may be an anchor, or (a byte of 0x80 or more before a capital) precede one.
#[inline(always)]
fn maybe(b: u8, next: u8) -> bool {
    b.wrapping_sub(b'0') < 11 || b == b'@' || b == b'-' || (b >= 0x80 && next.wrapping_sub(b'A') < 26)
}

/// Whether the byte at `at` is an anchor (other than a context word).
fn anchor(bytes: &[u8], at: usize) -> bool {
    match bytes[at] {
        b'0'..=b'9' => true,
        b':' => bytes[at + 1..bytes.len().min(at + 6)].contains(&b':'),
        b'@' => {
            at > 0
                && local_part(bytes[at - 1])
                && bytes.get(at + 1).is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'-')
        }
        b'-' => {
            at >= 2
                && hex(bytes.get(at - 2))
                && hex(bytes.get(at - 1))
                && hex(bytes.get(at + 1))
                && hex(bytes.get(at + 2))
                && bytes.get(at + 3) == Some(&b'-')
        }
        b'A'..=b'Z' => {
            !matches!(bytes[at], b'I' | b'O')
                && at >= 3
                && std::str::from_utf8(&bytes[at - 3..at]).is_ok_and(|c| PLATE_PROVINCES.contains(c))
        }
        _ => false,
    }
}

/// Eight flags of 0 or 1 as the low eight bits, byte `k`'s as bit `k`: the multiplier has one
/// term per byte that moves its flag to bit `56 + k`, and no two products land on one bit (so
/// none carries).
#[inline(always)]
fn pack(flags: &[u8; 8]) -> u32 {
    (u64::from_le_bytes(*flags).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// The first anchor byte at or after `from`, in blocks of 32 bytes: whether each byte of a
/// block may be an anchor is computed without branches (one byte of 0 or 1 each, which the
/// compiler vectorises), the flags are packed into a 32-bit mask, and only the bytes that may
/// be are looked at, lowest first. One mask rather than four words of byte flags: which word
/// held the first flag was a mispredicted branch in most blocks of dense text.
fn next_anchor_byte(bytes: &[u8], from: usize) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut at = from;
    while at < bytes.len() {
        let end = bytes.len().min(at + BLOCK);
        let block = bytes.get(at..at + BLOCK).and_then(|b| <&[u8; BLOCK]>::try_from(b).ok());
        let next = bytes.get(at + 1..at + 1 + BLOCK).and_then(|b| <&[u8; BLOCK]>::try_from(b).ok());
        let mut flags = [0u8; BLOCK];
        if let (Some(block), Some(next)) = (block, next) {
            for i in 0..BLOCK {
                flags[i] = u8::from(maybe(block[i], next[i]));
            }
        } else {
            // The last bytes: fewer than a block and the byte after.
            for (i, flag) in flags[..end - at].iter_mut().enumerate() {
                *flag = u8::from(maybe(bytes[at + i], bytes.get(at + i + 1).copied().unwrap_or(0)));
            }
        }
        let (words, _) = flags.as_chunks::<8>();
        // Most blocks of prose have no flag: they are passed over before the packing.
        if words.iter().fold(0, |any, word| any | u64::from_le_bytes(*word)) == 0 {
            at = end;
            continue;
        }
        let mut mask = words.iter().enumerate().fold(0u32, |mask, (k, word)| mask | pack(word) << (8 * k));
        while mask != 0 {
            let i = at + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if bytes[i] >= 0x80 {
                if anchor(bytes, i + 1) {
                    return Some(i + 1);
                }
            } else if anchor(bytes, i) {
                return Some(i);
            }
        }
        at = end;
    }
    None
}

/// Where the next candidate can start: none starts before `at`; between `at` and `plain`, only
/// the candidates `lookback` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Start {
    pub at: usize,
    /// Where a candidate of the anchor starts but for a look back over Chinese text: the anchor,
    /// or the start of the ASCII run before it that a candidate may begin with.
    pub plain: usize,
    pub lookback: Lookback,
    /// A Chinese context word that opens a name or an address starts at `at`.
    pub opener: Option<Opener>,
}

/// A Chinese context word opening a name or an address, as the automaton finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Opener {
    pub end: usize,
    /// It opens an address (the ADDRESS pattern), not a name.
    pub address: bool,
}

/// What may start in Chinese text before an anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookback {
    None,
    /// A plate, at its province three bytes before its first letter (`at`).
    Plate,
    /// A street address, at a province's name.
    Street,
}

/// Finds where candidates can start in one text.
pub(crate) struct Anchors<'t> {
    bytes: &'t [u8],
    openers: &'t Searcher,
    /// The first context word at or after `word_from` (its start and pattern in `openers`), if
    /// searched.
    word: Option<Option<(usize, usize)>>,
    word_from: usize,
}

impl<'t> Anchors<'t> {
    pub(crate) fn new(bytes: &'t [u8], openers: &'t Searcher) -> Anchors<'t> {
        Anchors { bytes, openers, word: None, word_from: 0 }
    }

    /// The first context word of [`OPENERS`] at or after `from`: its start and pattern.
    fn next_word(&self, mut from: usize) -> Option<(usize, usize)> {
        while from < self.bytes.len() {
            let m = self.openers.find_in(self.bytes, aho_corasick::Span::from(from..self.bytes.len()))?;
            let rest = &self.bytes[m.start()..];
            let word = |w: &[u8]| rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w);
            if !rest[0].is_ascii() || word(b"name") || word(b"address") {
                return Some((m.start(), m.pattern().as_usize()));
            }
            from = m.start() + 1;
        }
        None
    }

    /// A position at or after `from` before which no candidate starts (see the module's
    /// docs), or `None` when no candidate starts at or after `from`.
    #[cfg(test)]
    fn next_start(&mut self, from: usize) -> Option<usize> {
        self.next(from).map(|start| start.at)
    }

    /// Where the next candidate can start, at or after `from` (see [`Start`]), or `None` when
    /// no candidate starts at or after `from`.
    #[inline(always)]
    pub(crate) fn next(&mut self, from: usize) -> Option<Start> {
        let bytes = self.bytes;
        if self.word.is_none() || from < self.word_from || self.word.flatten().is_some_and(|(w, _)| w < from) {
            self.word = Some(self.next_word(from));
            self.word_from = from;
        }
        let (word, pattern) = self.word.flatten().unzip();
        let byte = next_anchor_byte(bytes, from).filter(|&b| word.is_none_or(|w| b < w));
        let at = byte.or(word)?;
        let mut start = at;
        while start > from && before_anchor(bytes[start - 1]) {
            start -= 1;
        }
        if start > from && bytes[start - 1] >= 0x80 {
            // Text that is not ASCII before the anchor belongs to a candidate only as a plate's
            // province (before its letter), or as a street address before its house number
            // (right after the road word) or before a context word inside it.
            let (lookback, kind) = if (word == Some(at) && street_through(bytes, at)) || road_word_before(bytes, at) {
                (HAN_BEFORE, Lookback::Street)
            } else if bytes[at].is_ascii_uppercase() {
                (3, Lookback::Plate)
            } else {
                (0, Lookback::None)
            };
            let back = start.min(at.saturating_sub(lookback)).max(from);
            if back < start {
                return Some(Start { at: back, plain: start, lookback: kind, opener: None });
            }
        }
        // A Chinese context word is the candidate there (the automaton's NAME or ADDRESS): no
        // other pattern starts with a Chinese word, and none of them is the start of another.
        let opener = pattern
            .filter(|&p| word == Some(start) && p < CHINESE_OPENERS)
            .map(|p| Opener { end: start + OPENERS[p].len(), address: p >= NAME_OPENERS });
        Some(Start { at: start, plain: start, lookback: Lookback::None, opener })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn before_anchor_is_a_local_part_or_a_parenthesis() {
        for b in 0..=255u8 {
            assert_eq!(before_anchor(b), local_part(b) || b == b'(', "{b}");
        }
    }

    /// Every pattern of eight flags packs into the bits a loop sets one at a time.
    #[test]
    fn pack_as_bit_by_bit() {
        for bits in 0..=255u32 {
            let flags: [u8; 8] = std::array::from_fn(|k| u8::from(bits & 1 << k != 0));
            let expected = (0..8).fold(0, |mask, k| mask | u32::from(flags[k]) << k);
            assert_eq!(pack(&flags), expected, "{flags:?}");
        }
    }

    /// The first anchor byte, as a loop of a byte at a time finds it.
    fn next_anchor_byte_bytewise(bytes: &[u8], from: usize) -> Option<usize> {
        (from..bytes.len()).find_map(|i| {
            let next = bytes.get(i + 1).copied().unwrap_or(0);
            if !maybe(bytes[i], next) {
                None
            } else if bytes[i] >= 0x80 {
                anchor(bytes, i + 1).then_some(i + 1)
            } else {
                anchor(bytes, i).then_some(i)
            }
        })
    }

    /// The block test finds the anchor byte the byte loop finds, from every position of dense
    /// and ordinary text (and of short texts, where blocks are cut short).
    #[test]
    fn anchor_bytes_as_a_byte_at_a_time() {
        let mut texts: Vec<String> = crate::corpus::generate(14, 1000).into_iter().map(|l| l.text).collect();
        texts.extend(crate::corpus::prose(14, 10).into_iter().map(|l| l.text));
        texts.push(texts.join("\n"));
        texts.extend(["", "7", "京A", "ab-cd-ef-", "x@y", "a:b::c", "车牌京AB", "你好世界"].map(String::from));
        let (mut checked, mut found) = (0, 0);
        for text in &texts {
            let bytes = text.as_bytes();
            for from in 0..=bytes.len() {
                let expected = next_anchor_byte_bytewise(bytes, from);
                assert_eq!(next_anchor_byte(bytes, from), expected, "{text} from {from}");
                checked += 1;
                found += usize::from(expected.is_some());
            }
        }
        assert!(checked > 100_000 && found > checked / 2, "{found} of {checked}");
    }

    #[test]
    fn anchors() {
        let openers = openers().expect("builds");
        let next_start = |bytes: &[u8], from: usize| Anchors::new(bytes, &openers).next_start(from);
        assert_eq!(next_start(b"an ADDRESS: and", 0), Some(3));
        assert_eq!(next_start(b"an addressee", 0), Some(3), "the pattern has no word boundary");
        assert_eq!(next_start(b"an addr", 0), None);
        let t = "plain words without anything, then 138 and more";
        assert_eq!(next_start(t.as_bytes(), 0), Some(t.find("138").unwrap_or(0)));
        let t = "mail li.wei@example.com now";
        assert_eq!(next_start(t.as_bytes(), 0), Some(5), "back to the local part");
        assert_eq!(next_start(b"words: and more: words", 0), None, "a lone colon");
        assert_eq!(next_start(b"mac ab-cd-ef-ab-cd-ef", 0), Some(4));
        assert_eq!(next_start(b"well-known", 0), None);
        let t = "车牌京A·BCDEF";
        assert_eq!(next_start(t.as_bytes(), 0), Some(6), "a plate: back to its province");
        // No street address holds a Latin word, but a plate may end in capitals.
        assert_eq!(next_start("他的Name：".as_bytes(), 0), Some(3));
        assert_eq!(next_start("他的name：".as_bytes(), 0), Some(6));
        assert_eq!(next_start("文字而已".as_bytes(), 0), None);
        // A street address may hold a context word before its house number: only Chinese
        // text from the word to a road word and a number.
        assert_eq!(next_start("请写住址大道8号".as_bytes(), 0), Some(0));
        assert_eq!(next_start("请写住址".as_bytes(), 0), Some(6));
        assert_eq!(next_start("请写住址：大道8号".as_bytes(), 0), Some(6));
        assert_eq!(next_start("请写住址大道8号，".as_bytes(), 0), Some(0));
        assert_eq!(next_start("请写住址。大道8号".as_bytes(), 0), Some(6));
        assert_eq!(next_start("请写住址大门8号".as_bytes(), 0), Some(6));
        let t = "寄到北京市朝阳区建国路88号";
        assert_eq!(next_start(t.as_bytes(), 0), Some(0), "back from the house number");
        let t = "截至二〇二〇年底完成45%";
        assert_eq!(next_start(t.as_bytes(), 0), Some(t.find('4').unwrap_or(0)), "no look back");
        let t = "一二三四五六车辆京A12345驶入";
        assert_eq!(next_start(t.as_bytes(), 0), Some(t.find('京').unwrap_or(0)));
        assert_eq!(next_start(b"Dear Sir, thank you", 0), None);
    }
}
