//! The recogniser: one multi-pattern automaton finds every candidate in a single pass over the
//! text; the families ([`crate::cn`], [`crate::intl`]) decide what each candidate is, check its
//! digits, and weigh the context words around it ([`crate::context`]).

use regex_automata::dfa::{Automaton, dense};
use regex_automata::meta::Regex;
use regex_automata::util::primitives::StateID;
use regex_automata::{Anchored, Input, PatternID};

use crate::anchor::{Lookback, Start};
use crate::cn;
use crate::context::{Context, ContextReader, ContextWords};
use crate::entity::{Confidence, Entity};
use crate::intl;
use crate::patterns::*;

/// One recognised value: where it is in the text searched, what it is and how sure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub entity: Entity,
    pub confidence: Confidence,
    /// Byte range in the searched text.
    pub start: usize,
    pub end: usize,
    /// The shape fits but the check digit does not.
    pub checksum_failed: bool,
}

/// What a family says a candidate is, before the context is weighed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict {
    pub entity: Entity,
    pub confidence: Confidence,
    /// Reported only when a context word supports the entity (a bare date is not a birth date).
    pub needs_context: bool,
    pub checksum_failed: bool,
}

impl Verdict {
    pub fn new(entity: Entity, confidence: Confidence) -> Verdict {
        Verdict { entity, confidence, needs_context: false, checksum_failed: false }
    }

    pub fn failed(entity: Entity) -> Verdict {
        Verdict { entity, confidence: Confidence::Possible, needs_context: false, checksum_failed: true }
    }

    pub fn with_context(mut self) -> Verdict {
        self.needs_context = true;
        self
    }
}

/// Bytes before a candidate (within its line) where context words count: about 40 Chinese
/// characters or a short English clause.
const LOOKBACK: usize = 120;

/// The province-level names a street address (the pattern STREET_ADDRESS) starts with.
const PROVINCES: [&str; 31] = [
    "北京",
    "天津",
    "上海",
    "重庆",
    "河北",
    "山西",
    "辽宁",
    "吉林",
    "黑龙江",
    "江苏",
    "浙江",
    "安徽",
    "福建",
    "江西",
    "山东",
    "河南",
    "湖北",
    "湖南",
    "广东",
    "海南",
    "四川",
    "贵州",
    "云南",
    "陕西",
    "甘肃",
    "青海",
    "内蒙古",
    "广西",
    "西藏",
    "宁夏",
    "新疆",
];

/// No identifier of [`cn::token`] or [`intl::token`] is shorter (a Taiwan resident's permit
/// number, 8 digits; the others have 9 characters or more), so a shorter token is not
/// classified.
const SHORTEST_TOKEN: usize = 8;

/// Positions of ASCII text tried one by one with anchored searches before an unanchored search.
const ASCII_TRIES: usize = 8;

/// A token of more groups than this is no identifier.
const MAX_GROUPS: usize = 12;

/// Finds personal information in text. Build once and share: it is `Sync`.
pub struct Recogniser {
    candidates: Regex,
    /// Every pattern but the street address's, compiled whole for anchored searches (see
    /// [`Recogniser::candidate_at`]); with the street address's, the DFA would not fit in memory.
    anchored: dense::DFA<Vec<u32>>,
    /// Its start state for an anchored search, the same wherever the search starts (none of
    /// the patterns looks behind); `None` would mean it is not, and the DFA's own search is used.
    anchored_start: Option<StateID>,
    /// The names of provinces a street address starts with.
    provinces: aho_corasick::AhoCorasick,
    /// The context words that open a name or an address, for the prefilter.
    openers: aho_corasick::packed::Searcher,
    words: ContextWords,
}

/// A 4-byte aligned copy of bytes, as [`dense::DFA::from_bytes`] needs them.
#[repr(C)]
struct Aligned<B: ?Sized> {
    _align: [u32; 0],
    bytes: B,
}

/// The anchored DFA compiled by the build script from [`build_anchored`], in little-endian order.
static ANCHORED_DFA: &Aligned<[u8]> =
    &Aligned { _align: [], bytes: *include_bytes!(concat!(env!("OUT_DIR"), "/anchored.dfa")) };

/// The anchored DFA of the candidate patterns: read from the bytes the build script compiled
/// (checked as they are read; ~70 µs) instead of determinised anew (~4.5 ms a process). A
/// target of the other byte order cannot read them, and compiles the DFA itself.
fn anchored_dfa() -> dense::DFA<Vec<u32>> {
    match dense::DFA::from_bytes(&ANCHORED_DFA.bytes) {
        Ok((dfa, _)) => dfa.to_owned(),
        Err(_) => {
            #[expect(clippy::expect_used, reason = "constant patterns, compiled by the build script and the tests")]
            let dfa = build_anchored().expect("the candidate patterns but the street address's make a DFA");
            dfa
        }
    }
}

impl Default for Recogniser {
    fn default() -> Self {
        Self::new()
    }
}

impl Recogniser {
    pub fn new() -> Recogniser {
        #[expect(clippy::expect_used, reason = "constant patterns, compiled by every test of this module")]
        let candidates = Regex::new_many(&PATTERNS).expect("the candidate patterns are valid");
        let anchored = anchored_dfa();
        #[expect(clippy::expect_used, reason = "constant words, compiled by every test of this module")]
        let openers = crate::anchor::openers().expect("the opening context words make a literal searcher");
        #[expect(clippy::expect_used, reason = "constant names, compiled by every test of this module")]
        let provinces = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostFirst)
            .build(PROVINCES)
            .expect("the province names make an automaton");
        let anchored_start = anchored.universal_start_state(Anchored::Yes);
        Recogniser { candidates, anchored, anchored_start, provinces, openers, words: ContextWords::new() }
    }

    /// The context a column's name gives every value in it (`customerPhone` → phone).
    pub fn column_context(&self, column: &str) -> Context {
        let mut words = String::with_capacity(column.len() + 4);
        let mut previous_lower = false;
        for c in column.chars() {
            if c.is_ascii_uppercase() && previous_lower {
                words.push('_');
            }
            previous_lower = c.is_ascii_lowercase();
            words.push(c.to_ascii_lowercase());
        }
        self.words.read(&words)
    }

    /// Appends to `out` every value recognised in `text`, in order; the words before each
    /// candidate on its line count as context.
    pub fn find(&self, text: &str, out: &mut Vec<Match>) {
        self.find_with(text, Context::default(), out, None);
    }

    /// Like [`Recogniser::find`], and sets `lines` to the newlines before each match's start
    /// (one number per match) and returns the newlines before `keep`. The newlines are counted
    /// by the same pass that finds where each candidate's line starts for its context words.
    pub(crate) fn find_lines(&self, text: &str, out: &mut Vec<Match>, lines: &mut Vec<u64>, keep: usize) -> u64 {
        lines.clear();
        let mut newlines = self.find_with(text, Context::default(), out, Some(lines));
        newlines.count_before(keep)
    }

    /// Like [`Recogniser::find`] for one cell of a table: the column's context (from
    /// [`Recogniser::column_context`]) supports every candidate, and a name or address column
    /// makes a whole cell of the right shape a name or an address.
    pub fn find_in_cell(&self, value: &str, column: Context, out: &mut Vec<Match>) {
        let before = out.len();
        self.find_with(value, column, out, None);
        if out.len() > before {
            return;
        }
        let trimmed = value.trim();
        let start = value.len() - value.trim_start().len();
        let end = start + trimmed.len();
        let whole = |entity| Match { entity, confidence: Confidence::High, start, end, checksum_failed: false };
        if column.supports.contains(Entity::Name) && cn::name_shape(trimmed) {
            out.push(whole(Entity::Name));
        } else if column.supports.contains(Entity::Address) && cn::address_shape(trimmed) {
            out.push(whole(Entity::Address));
        }
    }

    /// Finds the values of `text` (see [`Recogniser::find`]); with `lines`, pushes the newlines
    /// before each match's start there. Returns the newlines counted, for the caller to go on.
    fn find_with<'t>(
        &self,
        text: &'t str,
        extra: Context,
        out: &mut Vec<Match>,
        mut lines: Option<&mut Vec<u64>>,
    ) -> Newlines<'t> {
        let bytes = text.as_bytes();
        // Prose between candidates is skipped by the prefilter; from where it points, the
        // automaton finds the same leftmost candidate it would find from the search position.
        let mut anchors = crate::anchor::Anchors::new(bytes, &self.openers);
        let mut reader = self.words.reader();
        let mut newlines = Newlines::new(bytes);
        let mut search_from = 0;
        let mut counted = out.len();
        let mut separators = Separators::default();
        while let Some((start, end, pattern)) =
            anchors.next(search_from).and_then(|start| self.first_candidate(text, start, &mut separators))
        {
            let mut resume = end.max(start + 1);
            let mut context = |at: usize| context_before(&mut reader, &mut newlines, text, at).union(extra);
            let outside = intl::outside_token(bytes, start, end);
            let verdict = match pattern {
                EMAIL => intl::email(bytes, start, end),
                MAC => outside.then(|| Verdict::new(Entity::MacAddress, Confidence::Likely)),
                IPV6 => intl::ipv6(text, start, end),
                IPV4 => intl::ipv4(text, start, end),
                DATE => intl::date(text, start, end),
                PLATE => outside.then(|| Verdict::new(Entity::LicencePlate, Confidence::Likely)),
                LANDLINE_PARENS => outside.then(|| Verdict::new(Entity::Landline, Confidence::Likely)),
                STREET_ADDRESS => Some(Verdict::new(Entity::Address, Confidence::Likely)),
                trigger @ (NAME | ADDRESS) => {
                    // The value follows its context word; the word itself is not personal.
                    let (entity, span) = if trigger == NAME {
                        (Entity::Name, cn::name_after(text, start, end, &self.words))
                    } else {
                        (Entity::Address, cn::address_after(text, start, end))
                    };
                    if let Some((s, e)) = span {
                        let confidence = Confidence::Likely;
                        out.push(Match { entity, confidence, start: s, end: e, checksum_failed: false });
                        resume = e;
                    }
                    None
                }
                _ => {
                    if outside || bytes[start] == b'+' {
                        let known = separators.known.then_some(&separators);
                        self.token(text, start, end, known, &mut context, out);
                    }
                    None
                }
            };
            if let Some(v) = verdict {
                self.push(out, v, start, end, &mut context);
            }
            if let Some(lines) = lines.as_deref_mut() {
                // The matches' starts only grow, and so do the places of context words.
                for m in &out[counted..] {
                    lines.push(newlines.count_before(m.start));
                }
                counted = out.len();
            }
            if resume >= text.len() {
                break;
            }
            search_from = resume;
        }
        newlines
    }

    /// The leftmost candidate starting at or after `start.at`, as the automaton finds it; a
    /// token read by [`token_read`] comes with its `separators`.
    fn first_candidate(&self, text: &str, start: Start, separators: &mut Separators) -> Option<(usize, usize, usize)> {
        let bytes = text.as_bytes();
        separators.known = false;
        match start.lookback {
            Lookback::None => {}
            // Before its first letter, a plate's province.
            Lookback::Plate => {
                if let Some(found) = self.candidate_at(text, start.at) {
                    return Some(found);
                }
            }
            // Before the house number, or the context word, a street address starting with a
            // province's name: the automaton is tried at each name, without the reverse scan
            // an unanchored search needs to find where a match starts.
            Lookback::Street => {
                let mut from = start.at;
                while let Some(name) = self.provinces.find(aho_corasick::Input::new(bytes).range(from..start.plain)) {
                    if let Some(found) = self.automaton_at(text, name.start()) {
                        return Some(found);
                    }
                    from = name.start() + 1;
                }
            }
        }
        if let Some(opener) = start.opener {
            return Some((start.plain, opener.end, if opener.address { ADDRESS } else { NAME }));
        }
        // Most often a candidate starts right at the anchor, or a few bytes before it (the
        // letters before a number): at each position of ASCII text, the anchored searches are
        // exact, and cheaper than the reverse scan an unanchored search needs to find where a
        // match starts.
        let from = start.plain;
        let mut at = from;
        while at < bytes.len().min(from + ASCII_TRIES) && bytes[at].is_ascii() {
            if let Some((end, pattern)) = token_read(bytes, at, separators) {
                separators.known = pattern == TOKEN;
                return Some((at, end, pattern));
            }
            if let Some(end) = email_at(bytes, at) {
                return Some((at, end, EMAIL));
            }
            if let Some(found) = self.candidate_at(text, at) {
                return Some(found);
            }
            at += 1;
        }
        if at == from && at < bytes.len() {
            if let Some(found) = self.candidate_at(text, at) {
                return Some(found);
            }
            // Perhaps a street address.
            if let Some(found) = self.automaton_at(text, at) {
                return Some(found);
            }
        }
        self.candidates.search(&Input::new(text).range(at..)).map(span_and_pattern)
    }

    /// The candidate the multi-pattern automaton finds starting at `at`, street addresses
    /// included: its start, end and pattern.
    fn automaton_at(&self, text: &str, at: usize) -> Option<(usize, usize, usize)> {
        self.candidates.search(&Input::new(text).range(at..).anchored(Anchored::Yes)).map(span_and_pattern)
    }

    /// The candidate the automaton finds starting at `at`, if it is not a street address, by the
    /// anchored DFA of the other patterns: a DFA's search has none of the set-up of the
    /// automaton's. Where the DFA finds a candidate, so does the automaton, the same: a street
    /// address comes after every pattern but the token in priority, and a token starts with
    /// ASCII, a street address with a province's name. Where it finds none, a street address
    /// may start at `at`, or a candidate further on.
    fn candidate_at(&self, text: &str, at: usize) -> Option<(usize, usize, usize)> {
        let (end, pattern) = match self.anchored_start {
            Some(start) => self.walk_anchored(start, text.as_bytes(), at)?,
            None => {
                let input = Input::new(text).range(at..).anchored(Anchored::Yes);
                let found = self.anchored.try_search_fwd(&input).ok()??;
                (found.offset(), found.pattern())
            }
        };
        // The patterns after the street address's are one place earlier in the DFA.
        let pattern = pattern.as_usize();
        Some((at, end, if pattern >= STREET_ADDRESS { pattern + 1 } else { pattern }))
    }

    /// The anchored DFA's leftmost-first match from `at`, by walking its states from `start`:
    /// what its `try_search_fwd` finds, without the set-up per search (the input's checks, the
    /// start state's look-up), which cost about as much as the walk over a short candidate.
    /// A match state is entered one byte after its match ends; the last one before the dead
    /// state is the leftmost-first match. No byte makes it quit (no pattern has a word
    /// boundary); if one did, there would be no match, as `try_search_fwd` would fail.
    fn walk_anchored(&self, start: StateID, bytes: &[u8], at: usize) -> Option<(usize, PatternID)> {
        let dfa = &self.anchored;
        let mut state = start;
        let mut found = None;
        for (end, &b) in (at..).zip(&bytes[at..]) {
            state = dfa.next_state(state, b);
            if dfa.is_special_state(state) {
                if dfa.is_match_state(state) {
                    found = Some((end, dfa.match_pattern(state, 0)));
                } else if dfa.is_dead_state(state) {
                    return found;
                } else if dfa.is_quit_state(state) {
                    return None;
                }
            }
        }
        state = dfa.next_eoi_state(state);
        if dfa.is_match_state(state) {
            found = Some((bytes.len(), dfa.match_pattern(state, 0)));
        }
        found
    }

    /// A run of digits and capitals, perhaps in groups separated by spaces or hyphens: the
    /// longest run of groups that is an identifier wins, then the rest is tried.
    fn token(
        &self,
        text: &str,
        start: usize,
        end: usize,
        separators: Option<&Separators>,
        context: &mut dyn FnMut(usize) -> Context,
        out: &mut Vec<Match>,
    ) {
        if end - start < SHORTEST_TOKEN {
            return; // years, counts, article numbers: shorter than any identifier
        }
        let bytes = text.as_bytes();
        let whole = &bytes[start..end];
        if separators.map_or_else(|| !has_separator(whole), |s| s.count == 0) {
            // One group, the most common: classified as it stands, with nothing copied.
            if let Some(v) = cn::token(whole, false).or_else(|| intl::token(whole, &[whole.len()])) {
                self.push(out, v, start, end, context);
            }
            return;
        }
        // At most 12 groups, on the stack: no allocation per candidate.
        let mut groups = [(0usize, 0usize); MAX_GROUPS];
        let mut count = 0;
        let mut group_start = start;
        let mut separator = |i: usize| {
            if count < MAX_GROUPS {
                groups[count] = (group_start, i);
            }
            count += 1;
            group_start = i + 1;
        };
        match separators {
            // Where the token reader met them.
            Some(s) => s.at[..s.count.min(MAX_GROUPS)].iter().for_each(|&i| separator(i)),
            None => {
                for (i, &b) in (start..).zip(&bytes[start..end]) {
                    if matches!(b, b' ' | b'-') {
                        separator(i);
                    }
                }
            }
        }
        if count >= MAX_GROUPS {
            return;
        }
        groups[count] = (group_start, end);
        let groups = &groups[..=count];
        // The token without its separators, once: the groups `first..=last` are the stretch
        // `offsets[first]..offsets[last + 1]` of it, so no run of groups is copied for each try.
        let mut short = [0u8; 64];
        let mut long = Vec::new();
        let compact: &mut [u8] = if end - start <= short.len() {
            &mut short
        } else {
            long.resize(end - start, 0);
            &mut long
        };
        let mut offsets = [0usize; MAX_GROUPS + 1];
        let mut lengths = [0usize; MAX_GROUPS];
        for (k, &(s, e)) in groups.iter().enumerate() {
            offsets[k + 1] = offsets[k] + e - s;
            lengths[k] = e - s;
        }
        without_separators(&bytes[start..end], compact);
        let mut first = 0;
        'outer: while first < groups.len() {
            for last in (first..groups.len()).rev() {
                let area_separated = last > first && lengths[first] <= 4;
                let compact = &compact[offsets[first]..offsets[last + 1]];
                if let Some(v) =
                    cn::token(compact, area_separated).or_else(|| intl::token(compact, &lengths[first..=last]))
                {
                    let (s, e) = (groups[first].0, groups[last].1);
                    self.push(out, v, s, e, context);
                    first = last + 1;
                    continue 'outer;
                }
            }
            first += 1;
        }
    }

    fn push(
        &self,
        out: &mut Vec<Match>,
        v: Verdict,
        start: usize,
        end: usize,
        context: &mut dyn FnMut(usize) -> Context,
    ) {
        // A failed check digit, or a high confidence no word can lower, is reported as it is:
        // the words before it are not read.
        let settled = !v.needs_context
            && (v.checksum_failed || (v.confidence == Confidence::High && !lowered_by_look_alikes(v.entity)));
        let context = if settled { Context::default() } else { context(start) };
        let supported = context.supports.contains(v.entity);
        if v.needs_context && !supported {
            return;
        }
        let confidence = if v.checksum_failed {
            Confidence::Possible
        } else if supported && !v.needs_context {
            v.confidence.raised()
        } else if context.look_alike && !supported && lowered_by_look_alikes(v.entity) {
            Confidence::Possible
        } else {
            v.confidence
        };
        out.push(Match { entity: v.entity, confidence, start, end, checksum_failed: v.checksum_failed });
    }
}

/// The context words before `at` on its line, at most [`LOOKBACK`] bytes back.
fn context_before(reader: &mut ContextReader<'_>, newlines: &mut Newlines<'_>, text: &str, at: usize) -> Context {
    newlines.count_before(at);
    let mut from = at.saturating_sub(LOOKBACK).max(newlines.line_start);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    reader.read(text.as_bytes(), from, at)
}

/// The newlines of a text before positions that grow from one question to the next (the
/// candidates', as the search finds them): one search for each newline passed, and the start of
/// the line of the last position asked about (for its context words) comes with the count.
pub(crate) struct Newlines<'t> {
    bytes: &'t [u8],
    /// Newlines before `line_start`, the start of the line of the last position asked about.
    count: u64,
    line_start: usize,
    /// The first newline at or after `line_start` (the text's length if none).
    next: usize,
}

impl<'t> Newlines<'t> {
    pub(crate) fn new(bytes: &'t [u8]) -> Newlines<'t> {
        Newlines { bytes, count: 0, line_start: 0, next: memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()) }
    }

    /// The newlines in the text before `at` (at most the text's length); its line's start is
    /// then `line_start`. A position before the last one asked about is counted afresh.
    pub(crate) fn count_before(&mut self, at: usize) -> u64 {
        let bytes = self.bytes;
        if at < self.line_start {
            *self = Newlines::new(bytes);
        }
        while self.next < at {
            self.count += 1;
            self.line_start = self.next + 1;
            self.next = memchr::memchr(b'\n', &bytes[self.line_start..]).map_or(bytes.len(), |i| self.line_start + i);
        }
        self.count
    }
}

/// Where the candidate starting at `at` ends and its pattern, when it is certainly a token (the
/// last pattern), an IPv4 address or a date: none of the patterns before it can match at `at`,
/// and its can. Then the automaton would find that candidate there, and is not run.
///
/// At `at`, only the email, MAC, IPv6, IPv4 and date patterns could start with a digit, `+` or
/// a capital followed by a digit (the others start with `(`, a Chinese character or a context
/// word), and each needs a byte a token has no use for at a known place, followed by what the
/// pattern goes on with: an email an `@` right after its local part, then a domain character; a
/// MAC `:` or `-` after its first hex pair, then a hex digit; an IPv6 address `:` after at most
/// four hex digits; an IPv4 address `.` after at most three digits, then a digit; a date `-`,
/// `/`, `.` or `年` after four digits, or `/` after one or two, then a digit. Without those, the
/// token is `+`, at most two capitals, a digit, digits and capitals, then groups of them after
/// single spaces or hyphens (as greedy as the pattern). With the IPv4 address's, the first of
/// those two patterns is tried ([`ipv4_end`]); with the date's, it is ([`date_end`]); and where
/// it does not match, nothing before the token's does.
/// The separators of the token are recorded in `separators` (see [`groups_end`]).
fn token_read(bytes: &[u8], at: usize, separators: &mut Separators) -> Option<(usize, usize)> {
    let byte = |i: usize| bytes.get(i).copied();
    let is = |i: usize, test: fn(&u8) -> bool| bytes.get(i).is_some_and(test);
    let first = byte(at)?;
    if !(first.is_ascii_digit() || first.is_ascii_uppercase() || first == b'+') {
        return None;
    }
    let run = |from: usize, class: u8| {
        bytes.get(from..).map_or(0, |b| b.iter().take_while(|&&b| CLASSES[usize::from(b)] & class != 0).count())
    };
    let digits = digit_run(bytes, at);
    // Digits followed by a byte that none of the patterns before the token's goes on with there
    // (nor an email's local part: no letter, digit, `.`, `_`, `%`, `+` or `-`; no `@`, `:`, `/`
    // or `年`): the token is the digits and the groups after them, as the tests below would
    // find after three more runs over the bytes.
    if digits > 0
        && byte(at + digits).is_none_or(|b| {
            CLASSES[usize::from(b)] & LOCAL == 0
                && !matches!(b, b'@' | b':' | b'/')
                && !bytes[at + digits..].starts_with("年".as_bytes())
        })
    {
        return Some((groups_end(bytes, at + digits, separators), TOKEN));
    }
    // The runs from `at` of digits, of hex digits and of an email's local part, each the start of
    // the next: each byte is looked at once, by a loop of one test.
    let hex = digits + run(at + digits, HEX);
    let local = hex + local_run(bytes, at + hex);
    if local > 0 && byte(at + local) == Some(b'@') && is(at + local + 1, |&b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let mac = hex >= 2 && matches!(byte(at + 2), Some(b':' | b'-')) && is(at + 3, u8::is_ascii_hexdigit);
    if mac || (hex <= 4 && byte(at + hex) == Some(b':')) {
        return None;
    }
    let after = byte(at + digits);
    let then_digit = |separator: usize| is(at + digits + separator, u8::is_ascii_digit);
    let dotted = (1..=3).contains(&digits) && after == Some(b'.') && then_digit(1);
    let year_first = digits == 4
        && ((matches!(after, Some(b'-' | b'/' | b'.')) && then_digit(1))
            || (bytes[at + digits..].starts_with("年".as_bytes()) && then_digit(3)));
    let slashed = (1..=2).contains(&digits) && after == Some(b'/') && then_digit(1);
    let found = if dotted {
        ipv4_end(bytes, at).map(|end| (end, IPV4))
    } else if year_first || slashed {
        date_end(bytes, at, digits).map(|end| (end, DATE))
    } else {
        None
    };
    if found.is_some() {
        return found;
    }
    let mut p = at + usize::from(first == b'+');
    let capitals = run(p, UPPER);
    p += capitals;
    if capitals > 2 || !byte(p).is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    // From a digit at `at`, the run of digits is the start of the token's.
    let from = if p == at { at + digits } else { p };
    Some((groups_end(bytes, from + token_run(bytes, from), separators), TOKEN))
}

/// The bytes of a word of eight that are not an email's local part (ASCII letters and digits,
/// `.`, `_`, `%`, `+`, `-`), as a nonzero high bit; ranges as in [`not_token_bytes`], single
/// bytes by a zero test of their difference (with the high bit cleared, `y + 0x7F` sets the
/// high bit of every byte but a zero one, without a carry).
fn not_local(w: &[u8; 8]) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(*w);
    let low = x & !HIGH;
    let at_least = |c: u8| low + u64::from_le_bytes([0x80 - c; 8]);
    let within = |from: u8, to: u8| at_least(from) & !at_least(to + 1);
    let is = |c: u8| !((low ^ u64::from_le_bytes([c; 8])) + !HIGH);
    let local = within(b'0', b'9')
        | within(b'A', b'Z')
        | within(b'a', b'z')
        | within(b'-', b'.')
        | is(b'_')
        | is(b'%')
        | is(b'+');
    !(local & !x) & HIGH
}

/// The run of an email's local-part bytes at `at`, eight bytes at a time (a local part, or a
/// token's letters and separators, ends at a length that varies: the byte loop's exit was
/// mispredicted).
fn local_run(bytes: &[u8], at: usize) -> usize {
    let s = bytes.get(at..).unwrap_or_default();
    crate::checksum::run_of(s, not_local, |b| CLASSES[usize::from(b)] & LOCAL != 0)
}

/// [`token_read`] without the separators (for tests).
#[cfg(test)]
fn token_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    token_read(bytes, at, &mut Separators::default())
}

/// The spaces and hyphens between a token's groups, as [`groups_end`] passes them: where the
/// first [`MAX_GROUPS`] are, and how many there are; so that [`Recogniser::token`] need not look
/// for them again. `known`: they are those of the token the last candidate search found.
#[derive(Debug, Default, PartialEq, Eq)]
struct Separators {
    at: [usize; MAX_GROUPS],
    count: usize,
    known: bool,
}

/// Where a token whose first group ends at `end` ends: groups of digits and capitals after
/// single spaces or hyphens, as greedy as the pattern. The separators passed are recorded.
fn groups_end(bytes: &[u8], mut end: usize, separators: &mut Separators) -> usize {
    let token_byte = |i: usize| bytes.get(i).is_some_and(|&b| CLASSES[usize::from(b)] & TOKEN_BYTE != 0);
    separators.count = 0;
    while matches!(bytes.get(end), Some(b' ' | b'-')) && token_byte(end + 1) {
        if let Some(slot) = separators.at.get_mut(separators.count) {
            *slot = end;
        }
        separators.count += 1;
        end += 1 + token_run(bytes, end + 1);
    }
    end
}

/// The bytes of a word of eight that are not digits or capitals, as a nonzero high bit: with
/// the high bit cleared, adding `0x80 - c` to a byte sets its high bit when it is `c` or more,
/// and no sum carries into the next byte.
fn not_token_bytes(w: &[u8; 8]) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let x = u64::from_le_bytes(*w);
    let low = x & !HIGH;
    let at_least = |c: u8| low + u64::from_le_bytes([0x80 - c; 8]);
    let digit = at_least(b'0') & !at_least(b'9' + 1);
    let capital = at_least(b'A') & !at_least(b'Z' + 1);
    !((digit | capital) & !x) & HIGH
}

/// The run of digits and capitals at `at`, eight bytes at a time (a group of a token: the byte
/// loop cost a mispredicted exit at each group's end).
fn token_run(bytes: &[u8], at: usize) -> usize {
    let s = bytes.get(at..).unwrap_or_default();
    crate::checksum::run_of(s, not_token_bytes, |b| CLASSES[usize::from(b)] & TOKEN_BYTE != 0)
}

/// Copies the bytes of `token` but its spaces and hyphens to the start of `out` (at least as long
/// as `token`): one loop without a branch per byte, instead of a copy of each group (a call of
/// `memcpy` with a length that varies, and its mispredicted branches).
fn without_separators(token: &[u8], out: &mut [u8]) {
    let mut n = 0;
    for (&b, i) in token.iter().zip(0..out.len()) {
        // Each byte is written where the next one kept goes; `n` moves on past a kept one.
        out[n.min(i)] = b;
        n += usize::from(b != b' ' && b != b'-');
    }
}

/// Whether `s` holds a space or a hyphen (a token of more than one group), eight bytes at a
/// time: the loop of a byte at a time cost a mispredicted exit at a length that varies.
fn has_separator(s: &[u8]) -> bool {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    // The zero bytes of `x` as their high bits: exact, as no sum carries into the next byte.
    let zero = |x: u64| !(((x & LOW7) + LOW7) | x) & !LOW7;
    let separators = |w: &[u8; 8]| {
        let x = u64::from_le_bytes(*w);
        zero(x ^ 0x2020_2020_2020_2020) | zero(x ^ 0x2D2D_2D2D_2D2D_2D2D)
    };
    let (words, rest) = s.as_chunks::<8>();
    match s.last_chunk::<8>() {
        // The last eight bytes cover the rest (overlapping is no matter to "any").
        Some(last) => words.iter().fold(separators(last), |acc, w| acc | separators(w)) != 0,
        None => rest.iter().any(|&b| matches!(b, b' ' | b'-')),
    }
}

/// The run of ASCII digits at `at`.
fn digit_run(bytes: &[u8], at: usize) -> usize {
    bytes.get(at..).map_or(0, crate::checksum::digit_run)
}

/// Where the IPv4 pattern, four groups of one to three digits, ends when it matches from `at`,
/// as the automaton finds it: each of the first three groups is a whole run of digits (a group
/// cut short would be followed by a digit, not a dot), the last as many of its run as it can.
fn ipv4_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut p = at;
    for _ in 0..3 {
        let run = digit_run(bytes, p);
        if !(1..=3).contains(&run) || bytes.get(p + run) != Some(&b'.') {
            return None;
        }
        p += run + 1;
    }
    let run = digit_run(bytes, p);
    (run > 0).then(|| p + run.min(3))
}

/// Where the date pattern ends when it matches from `at`, a run of `digits` digits, as the
/// automaton finds it: four digits, then `-`, `/` or `.`, one or two, the same separator, one or
/// two; or four digits, `年`, one or two, `月`, one or two, `日`; or one or two digits, `/`, one
/// or two, `/`, four. A group of one or two before a separator is a whole run (cut short, it
/// would be followed by a digit); the last takes what it can.
fn date_end(bytes: &[u8], at: usize, digits: usize) -> Option<usize> {
    // A group of one or two digits at `p` followed by `then`: where `then` ends.
    let group = |p: usize, then: &[u8]| {
        let run = digit_run(bytes, p);
        ((1..=2).contains(&run) && bytes.get(p + run..).is_some_and(|rest| rest.starts_with(then)))
            .then(|| p + run + then.len())
    };
    let p = at + digits;
    let sep = *bytes.get(p)?;
    if digits == 4 && matches!(sep, b'-' | b'/' | b'.') {
        let q = group(p + 1, &[sep])?;
        let last = digit_run(bytes, q);
        (last > 0).then(|| q + last.min(2))
    } else if digits == 4 {
        let q = group(p + "年".len(), "月".as_bytes())?;
        bytes[p..].starts_with("年".as_bytes()).then_some(())?;
        group(q, "日".as_bytes())
    } else if (1..=2).contains(&digits) && sep == b'/' {
        let q = group(p + 1, b"/")?;
        (digit_run(bytes, q) >= 4).then_some(q + 4)
    } else {
        None
    }
}

/// Where the email pattern ends when it matches from `at`, as the automaton finds it there (the
/// first pattern in priority, so nothing else is tried where it matches): a DFA walks a long
/// address at a cache miss per byte, this loop at a few cycles.
///
/// The local part is the whole run of its characters (none is `@`), then `@`. The domain is
/// labels of letters, digits and hyphens separated by single dots, each whole (a label that stopped
/// early would have to be followed by a dot); the top-level domain is the longest prefix of
/// letters, 2 to 24 of them, of a label after the first: the last label that has one, since the
/// repetition before it takes as many labels as it can.
fn email_at(bytes: &[u8], at: usize) -> Option<usize> {
    let run = |from: usize, class: u8| {
        bytes.get(from..).map_or(0, |b| b.iter().take_while(|&&b| CLASSES[usize::from(b)] & class != 0).count())
    };
    let local = local_run(bytes, at);
    if local == 0 || bytes.get(at + local) != Some(&b'@') {
        return None;
    }
    let mut p = at + local + 1;
    let first = run(p, LABEL);
    if first == 0 {
        return None;
    }
    p += first;
    let mut end = None;
    while bytes.get(p) == Some(&b'.') {
        let label = run(p + 1, LABEL);
        if label == 0 {
            break;
        }
        let letters = run(p + 1, LETTER).min(24);
        if letters >= 2 {
            end = Some(p + 1 + letters);
        }
        p += 1 + label;
    }
    end
}

/// A match of the automaton as its start, end and pattern.
fn span_and_pattern(m: regex_automata::Match) -> (usize, usize, usize) {
    (m.start(), m.end(), m.pattern().as_usize())
}

// Classes of bytes for `token_at`, looked up in one table rather than tested in turn.
const LOCAL: u8 = 1;
const HEX: u8 = 2;
const DIGIT: u8 = 4;
const UPPER: u8 = 8;
const TOKEN_BYTE: u8 = DIGIT | UPPER;
const LETTER: u8 = 16;
const LABEL: u8 = 32;

/// The classes of each byte: an email's local part, a hex digit, a digit, a capital, a letter,
/// a domain label's character.
const CLASSES: [u8; 256] = {
    let mut classes = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-') {
            class |= LOCAL;
        }
        if c.is_ascii_hexdigit() {
            class |= HEX;
        }
        if c.is_ascii_digit() {
            class |= DIGIT;
        }
        if c.is_ascii_uppercase() {
            class |= UPPER;
        }
        if c.is_ascii_alphabetic() {
            class |= LETTER;
        }
        if c.is_ascii_alphanumeric() || c == b'-' {
            class |= LABEL;
        }
        classes[b] = class;
        b += 1;
    }
    classes
};

/// Entities whose shape an order, tracking or invoice number can take; a checksum-validated
/// identifier (resident ID, USCC, IBAN) keeps its confidence.
fn lowered_by_look_alikes(entity: Entity) -> bool {
    matches!(
        entity,
        Entity::BankCard
            | Entity::Mobile
            | Entity::Landline
            | Entity::Phone
            | Entity::Passport
            | Entity::HkMacauPermit
            | Entity::TaiwanPermit
            | Entity::UsSsn
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Entity, Confidence, String)> {
        let r = Recogniser::new();
        let mut out = Vec::new();
        r.find(text, &mut out);
        out.into_iter().map(|m| (m.entity, m.confidence, text[m.start..m.end].to_string())).collect()
    }

    /// `fixed` lines, then `dense` lines of the generated corpus and `prose` of its prose, from `seed`.
    fn corpus_texts(fixed: &[&str], seed: u64, dense: usize, prose: usize) -> Vec<String> {
        let generated = crate::corpus::generate(seed, dense).into_iter().chain(crate::corpus::prose(seed, prose));
        fixed.iter().map(|line| line.to_string()).chain(generated.map(|line| line.text)).collect()
    }

    /// The run of digits and capitals counted eight bytes at a time is the byte-by-byte run, at
    /// every length up to 20 and with every byte after it (those next to `0`, `9`, `A` and `Z`,
    /// and those a high bit away from a digit or capital, included).
    #[test]
    fn token_run_as_bytes() {
        let checked = crate::checksum::assert_run_as_bytes(
            |s| token_run(s, 0),
            |b| b.is_ascii_digit() || b.is_ascii_uppercase(),
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            7,
            20,
            b"12AB5678",
        );
        assert_eq!(token_run(b"AB", 5), 0, "past the end");
        assert!(checked > 5000);
    }

    /// A token without its separators is its groups copied one after the other, for every token
    /// the token reader takes in dense and prose text.
    #[test]
    fn without_separators_as_the_groups_copied() {
        let texts = corpus_texts(
            &["6229 9913 4300 1527 +86-187-5415-9559 GB82 WEST 1234 5698 7654 32 1- 2 -3 - a"],
            24,
            2000,
            5,
        );
        let mut grouped = 0;
        for text in &texts {
            let bytes = text.as_bytes();
            for at in 0..bytes.len() {
                let Some((end, TOKEN)) = token_at(bytes, at) else { continue };
                let token = &bytes[at..end];
                let expected: Vec<u8> = token.split(|&b| b == b' ' || b == b'-').flatten().copied().collect();
                let mut out = vec![0xAA; token.len() + 3];
                without_separators(token, &mut out);
                assert_eq!(&out[..expected.len()], &expected[..], "{text} at {at}");
                grouped += usize::from(expected.len() < token.len());
            }
        }
        assert!(grouped > 1000, "{grouped} tokens with groups");
    }

    /// The run of local-part bytes counted eight bytes at a time is the byte-by-byte run, at
    /// every length up to 20 and with every byte after it.
    #[test]
    fn local_run_as_bytes() {
        let checked = crate::checksum::assert_run_as_bytes(
            |s| local_run(s, 0),
            |b| CLASSES[usize::from(b)] & LOCAL != 0,
            b"09AZaz.-_%+mQ5",
            5,
            20,
            b"ab.c-d_e",
        );
        assert_eq!(local_run(b"ab", 5), 0, "past the end");
        assert!(checked > 5000);
    }

    /// Wherever the token reader takes a token, the separators it passes on are the spaces and
    /// hyphens in the token, as the byte loop of `token` finds them.
    #[test]
    fn separators_as_the_token_holds_them() {
        let texts = corpus_texts(
            &[
                "6229 9913 4300 1527 on +86-187-5415-9559 GB82 WEST 1234 5698 7654 32 A1 B2-C3 D4",
                "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 1-2-3-4-5-6-7-8-9-10-11-12 1-2-3-4-5-6-7-8-9-10-11-12-13",
                "12  34 12 -3 12- 3 AB1-CD- E1234567 - 1234 X 110105194912310021 X",
            ],
            23,
            3000,
            10,
        );
        let (mut tokens, mut grouped, mut many) = (0, 0, 0);
        for text in &texts {
            let bytes = text.as_bytes();
            for at in 0..bytes.len() {
                let mut separators = Separators::default();
                let Some((end, TOKEN)) = token_read(bytes, at, &mut separators) else { continue };
                let expected: Vec<usize> = (at..end).filter(|&i| matches!(bytes[i], b' ' | b'-')).collect();
                assert_eq!(separators.count, expected.len(), "{text} at {at}");
                let recorded = expected.len().min(MAX_GROUPS);
                assert_eq!(&separators.at[..recorded], &expected[..recorded], "{text} at {at}");
                tokens += 1;
                grouped += usize::from(separators.count > 0);
                many += usize::from(separators.count >= MAX_GROUPS);
            }
        }
        assert!(tokens > 20_000 && grouped > 2000 && many >= 2, "{tokens} tokens, {grouped} grouped, {many} long");
    }

    /// The words-at-a-time test says what the byte-by-byte one says, at every length up to 40,
    /// with bytes that differ from a space or a hyphen by one bit (0xA0, 0xAD, 0x21, 0x2C).
    #[test]
    fn has_separator_as_bytes() {
        use rand_chacha::rand_core::{Rng, SeedableRng};
        let alphabet = b"0123456789AX\xa0\xad\x21\x2c\x00\xff";
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
        let (mut with, mut without) = (0, 0);
        for len in 0..=40 {
            for _ in 0..2000 {
                // Mostly bytes that are not separators, so that both answers come up.
                let mut s = Vec::with_capacity(len);
                for _ in 0..len {
                    let k = rng.next_u32() as usize;
                    // A separator one time in 32.
                    s.push(if k.is_multiple_of(32) {
                        [b' ', b'-'][k / 32 % 2]
                    } else {
                        alphabet[k / 32 % alphabet.len()]
                    });
                }
                let expected = s.iter().any(|&b| matches!(b, b' ' | b'-'));
                assert_eq!(has_separator(&s), expected, "{s:?}");
                if expected { with += 1 } else { without += 1 }
            }
        }
        assert!(with > 10_000 && without > 10_000, "{with} with, {without} without");
    }

    /// The newlines before positions that grow, and the starts of their lines, as counted byte
    /// by byte; a position behind the last is counted afresh.
    #[test]
    fn newlines_as_counted_byte_by_byte() {
        let mut texts = corpus_texts(&["", "\n", "\n\n\nx", "a\r\nb\r\n", "no newline"], 11, 300, 5);
        texts.push(texts[5..].join("\n"));
        texts.push(texts[5..].join("\r\n\n"));
        let mut checked = 0;
        for text in &texts {
            let bytes = text.as_bytes();
            let expected = |at: usize| {
                let count = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
                let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
                (count, line_start)
            };
            for step in [1, 2, 7, 55, 300] {
                let mut newlines = Newlines::new(bytes);
                let mut at = 0;
                while at <= bytes.len() {
                    let count = newlines.count_before(at);
                    assert_eq!((count, newlines.line_start), expected(at), "step {step} at {at}");
                    // Now and then a position behind.
                    if at % 97 == 3 && at > 50 {
                        let back = at - 50;
                        assert_eq!((newlines.count_before(back), newlines.line_start), expected(back), "back {back}");
                    }
                    checked += 1;
                    at += step;
                }
            }
        }
        assert!(checked > 100_000, "{checked} positions");
    }

    /// The line of every match and the newlines before where the next window starts, as counted
    /// byte by byte; the matches are those of `find`.
    #[test]
    fn find_lines_counts_as_byte_by_byte() {
        let r = Recogniser::new();
        let texts = corpus_texts(&["", "13812345678", "\n\n13812345678\n"], 12, 0, 0);
        let mut text = texts.join("\n");
        text.push_str(&crate::corpus::generate(13, 2000).into_iter().map(|l| l.text + "\n").collect::<String>());
        text.push_str(&crate::corpus::prose(13, 20).into_iter().map(|l| l.text + "\n").collect::<String>());
        let bytes = text.as_bytes();
        let newlines_before = |at: usize| bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64;
        let mut plain = Vec::new();
        r.find(&text, &mut plain);
        assert!(plain.len() > 2000, "{} matches", plain.len());
        let (mut found, mut lines) = (Vec::new(), Vec::new());
        for keep in [0, 1, 100, text.len() / 2, text.len() - 1, text.len()] {
            found.clear();
            let kept = r.find_lines(&text, &mut found, &mut lines, keep);
            assert_eq!(found, plain);
            assert_eq!(kept, newlines_before(keep), "keep {keep}");
            let expected: Vec<u64> = found.iter().map(|m| newlines_before(m.start)).collect();
            assert_eq!(lines, expected);
        }
    }

    /// Wherever `token_at` takes a token without the automaton, the automaton finds the same
    /// token there; and it takes most of the tokens the automaton finds.
    #[test]
    fn tokens_as_the_automaton_finds_them() {
        let r = Recogniser::new();
        let texts = corpus_texts(
            &[
                "第3条",
                "in 2019 by",
                "45%",
                "2020年底",
                "13812345678，",
                "12:34",
                "12-ab-cd-ef-01-02",
                "1.2.3.4",
                "12/31/1999",
                "1/2/2020 and 12/3 and 12/x 1/2/203 12/345/2020 123/4/2020 1/2/2020/3 2020/12/1/2",
                "1.2.3 1.2.3.4.5 255.255.255.2555 1234.5.6.7 1.2.3.x 1..2.3.4 v1.2.3.4 1.2.3.4@a.bc",
                "2020-1-2 2020-01-022 2020-001-02 2020.1.2.3 2020/1/2 2020-1/2 2020年12月31日 2020年1月31 2020年123月1日",
                "2025年底 2025年1月 2025-x 2025.x 12.x 1.2 12-ab 12-xy 12:x 123@ 123@- 123@.",
                "2020-01-02 2020.1.2 2020/1/2 2020年1月2日",
                "123@qq.com",
                "110105194912310021 X",
                "110105194912310021 x",
                "AB12 CD",
                "ABC123 AB-12 1A:2B 9F: 12345: 1234:5",
                "+86-187-5415-9559 +44 20 7946 0958",
                "GB82 WEST 1234 5698 7654 32",
                "123.45 1234.5 12 -3 12- 3 12  34 12 a AB1-CD- E1234567 -",
                "7",
                "9 ",
                "1234567890123456789012345678901234567890123456789012345678901234567890 end",
                "4111 1111 1111 1111。",
            ],
            3,
            1000,
            20,
        );
        // Per pattern: how many times `token_at` took a candidate, and the automaton found one.
        let (mut taken, mut found) = ([0; PATTERNS.len()], [0; PATTERNS.len()]);
        for text in &texts {
            let bytes = text.as_bytes();
            for at in 0..bytes.len() {
                let m = r.automaton_at(text, at);
                if let Some((end, pattern)) = token_at(bytes, at) {
                    assert_eq!(m, Some((at, end, pattern)), "{text} at {at}");
                    taken[pattern] += 1;
                }
                if let Some((_, _, pattern)) = m {
                    found[pattern] += 1;
                }
            }
        }
        let (tokens, ipv4, dates) = (taken[TOKEN], taken[IPV4], taken[DATE]);
        assert!(tokens > 10_000 && tokens * 10 > found[TOKEN] * 9, "{tokens} of {} tokens taken", found[TOKEN]);
        assert!(ipv4 > 50 && ipv4 == found[IPV4], "{ipv4} of {} IPv4 addresses taken", found[IPV4]);
        assert!(dates > 50 && dates == found[DATE], "{dates} of {} dates taken", found[DATE]);
        assert_eq!(token_at(b"x 2019 by", 2), Some((6, TOKEN)));
        assert_eq!(token_at(b"6229 9913 4300 1527 on", 0), Some((19, TOKEN)));
        assert_eq!(token_at(b"45%", 0), Some((2, TOKEN)));
        assert_eq!(token_at(b"123@qq.com", 0), None);
        assert_eq!(token_at(b"2020-01-02", 0), Some((10, DATE)));
        assert_eq!(token_at(b"2020-1-234", 0), Some((9, DATE)));
        assert_eq!(token_at(b"2020-123-4", 0), Some((10, TOKEN)));
        assert_eq!(token_at(b"2020/1-2", 0), Some((4, TOKEN)));
        assert_eq!(token_at("2025年底".as_bytes(), 0), Some((4, TOKEN)));
        assert_eq!(token_at("2025年1月2日".as_bytes(), 0), Some((15, DATE)));
        assert_eq!(token_at("2025年1月".as_bytes(), 0), Some((4, TOKEN)));
        assert_eq!(token_at(b"12/31/19991", 0), Some((10, DATE)));
        assert_eq!(token_at(b"12/31/199", 0), Some((2, TOKEN)));
        assert_eq!(token_at(b"1.22.333.4444", 0), Some((12, IPV4)));
        assert_eq!(token_at(b"1.22.3333.4", 0), Some((1, TOKEN)));
        assert_eq!(token_at(b"12.x 12-ab 123@ ", 0), Some((2, TOKEN)));
    }

    /// Wherever `email_at` takes an email without the automaton, the automaton finds the same
    /// one there; and it takes every email the automaton finds.
    #[test]
    fn emails_as_the_automaton_finds_them() {
        let r = Recogniser::new();
        let texts = corpus_texts(
            &[
                "li.wei@example.com a@b.cc.dd a@b.co1 a@b.c1.de2 a@b..com a@b.c a@b-c.d-e.fgh a@-b.com",
                "x@1.2.3 x@a.b1c.de x@a.bc1 x@a.b.c.d.e x@a._b.com u@host.ABCDEFGHIJKLMNOPQRSTUVWXYZ1",
                "+1.x_y%z-@a.bc.@ @a.bc a@@b.cc 123@qq.com 123@qq.com. a@b.cc- a@b.c-c a@b.cc-dd.e",
                "2001:db8::1@x.com ab:cd@e.fg 12-34@ab.cd NAME@x.com name@x.com (010)1@a.bc 京A@b.cc",
            ],
            7,
            2000,
            10,
        );
        let (mut taken, mut emails) = (0, 0);
        for text in &texts {
            for at in 0..text.len() {
                let m = r.automaton_at(text, at);
                if let Some(end) = email_at(text.as_bytes(), at) {
                    assert_eq!(m, Some((at, end, EMAIL)), "{text} at {at}");
                    taken += 1;
                }
                emails += usize::from(m.is_some_and(|m| m.2 == EMAIL));
            }
        }
        assert!(taken > 1000 && taken == emails, "{taken} of {emails} emails taken");
    }

    /// The DFA compiled by the build script is the one the patterns make now: the same states
    /// and transitions, byte for byte (a stale or differently configured one would not be).
    #[test]
    fn anchored_dfa_is_built_from_the_patterns() {
        let built = build_anchored().expect("the patterns make a DFA");
        let read = dense::DFA::from_bytes(&ANCHORED_DFA.bytes).expect("the build script's DFA reads").0;
        let bytes = |dfa: &dense::DFA<&[u32]>| {
            let (bytes, padding) = dfa.to_bytes_little_endian();
            bytes[padding..].to_vec()
        };
        assert_eq!(bytes(&read), bytes(&built.as_ref()));
        assert_eq!(bytes(&anchored_dfa().as_ref()), bytes(&built.as_ref()));
        assert!(ANCHORED_DFA.bytes.len() > 100_000, "{} bytes", ANCHORED_DFA.bytes.len());
    }

    /// Wherever the DFA finds a candidate, the automaton finds the same one; where it finds
    /// none, the automaton finds none or a street address.
    #[test]
    fn anchored_dfa_finds_what_the_automaton_finds() {
        let r = Recogniser::new();
        assert!(r.anchored_start.is_some(), "the walk of the DFA's states is what is tested");
        let texts = corpus_texts(
            &[
                "北京市朝阳区建国路88号 寄到北京市朝阳区建国路88号 家庭住址：上海市浦东新区世纪大道100号",
                "京A12345 京A·12345 粤B•D12345 name: Li Wei NAME@x.com address@x.com (010)12345678",
                "li.wei@example.com a@b.cc.dd a@b.co1 2001:db8::1 ::1 ab:cd:ef:01:23:45 12-34-56-78-9a-bc",
                "2020年1月2日 1/2/2020 192.168.1.1 +86 138 0013 8000 姓名张伟 收货地址 户籍地 居住地",
            ],
            4,
            1000,
            10,
        );
        let (mut found, mut streets) = (0, 0);
        for text in &texts {
            for at in 0..text.len() {
                let m = r.automaton_at(text, at);
                match (r.candidate_at(text, at), m) {
                    (None, Some((_, _, STREET_ADDRESS))) => streets += 1,
                    (dfa, m) => assert_eq!(dfa, m, "{text} at {at}"),
                }
                found += usize::from(m.is_some());
            }
        }
        assert!(found > 10_000 && streets > 50, "{found} candidates, {streets} street addresses");
    }

    /// No candidate starts before where the prefilter points: from every position of a corpus,
    /// the automaton's leftmost candidate starts at or after it (so searching from there finds
    /// the same one); `name` and `address` in any case included.
    #[test]
    fn anchors_skip_no_candidate() {
        let r = Recogniser::new();
        let texts = corpus_texts(
            &[
                "NaMe: Li Lei; AdDrEsS: 1 Main St; surname nAmE ADDRESS add na Canada bad dad named",
                "他的Name：李雷 京NAME 京A12345 住址Address：北京市朝阳区建国路88号 name",
                "an addr, a nam, NAMES, Addressee, (010)12345678 li@x.cn 12:34:56 ab-cd-ef-01-23-45",
            ],
            9,
            300,
            3,
        );
        let mut checked = 0;
        for text in &texts {
            let mut anchors = crate::anchor::Anchors::new(text.as_bytes(), &r.openers);
            for from in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                let Some(m) = r.candidates.search(&Input::new(text).range(from..)) else { continue };
                let start = anchors.next(from);
                assert!(start.is_some_and(|s| s.at <= m.start()), "{text} from {from}: {start:?}, {m:?}");
                checked += 1;
            }
        }
        assert!(checked > 10_000, "{checked} positions");
    }

    /// Where the prefilter says a Chinese context word starts, the automaton finds it there.
    #[test]
    fn openers_as_the_automaton_finds_them() {
        let r = Recogniser::new();
        let mut texts: Vec<String> = crate::corpus::generate(6, 2000).into_iter().map(|l| l.text).collect();
        texts.push("家庭住址收货地址户籍地居住地地址住址住所：姓名名字联系人收件人收货人持卡人户名患者".into());
        texts.push("北京市朝阳区住址路8号，收货地址：北京市朝阳区建国路88号".into());
        let mut openers = 0;
        for text in &texts {
            let mut anchors = crate::anchor::Anchors::new(text.as_bytes(), &r.openers);
            let mut from = 0;
            while let Some(start) = anchors.next(from) {
                if let Some(opener) = start.opener {
                    let pattern = if opener.address { ADDRESS } else { NAME };
                    let m = r.automaton_at(text, start.plain);
                    assert_eq!(m, Some((start.plain, opener.end, pattern)), "{text} at {}", start.plain);
                    openers += 1;
                }
                from = start.plain + 1;
            }
        }
        assert!(openers > 200, "{openers} context words");
    }

    #[test]
    fn provinces_are_the_street_address_s() {
        assert!(PATTERNS[STREET_ADDRESS].starts_with(&format!("(?:{})(", PROVINCES.join("|"))));
    }

    /// The shortcut for short tokens: no rule says anything of a token shorter than
    /// [`SHORTEST_TOKEN`] (every string of up to five digits, and random ones of up to seven
    /// characters that identifiers are made of).
    #[test]
    fn short_tokens_are_nothing() {
        use rand_chacha::rand_core::{Rng, SeedableRng};
        let classify = |t: &[u8]| cn::token(t, true).or_else(|| intl::token(t, &[t.len()])).is_some();
        for n in 1..=5u32 {
            for i in 0..10u32.pow(n) {
                let t = format!("{i:0width$}", width = n as usize);
                assert!(!classify(t.as_bytes()), "{t}");
            }
        }
        let alphabet = b"0123456789XEGCHMLTUS+";
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
        for _ in 0..200_000 {
            let n = 1 + (rng.next_u32() as usize % (SHORTEST_TOKEN - 1));
            let t: Vec<u8> = (0..n).map(|_| alphabet[rng.next_u32() as usize % alphabet.len()]).collect();
            assert!(!classify(&t), "{}", String::from_utf8_lossy(&t));
        }
        // And the shortest one is found.
        assert!(cn::token(b"12345678", false).is_some());
    }

    #[test]
    fn chinese_sentence() {
        let f = found("客户王芳，身份证号11010519491231002X，手机138-1234-5678，住在北京。");
        assert_eq!(f[0], (Entity::ResidentId, Confidence::High, "11010519491231002X".into()));
        assert_eq!(f[1], (Entity::Mobile, Confidence::High, "138-1234-5678".into()));
        assert_eq!(f.len(), 2, "{f:?}");
    }

    #[test]
    fn checksum_failure_is_possible() {
        let f = found("身份证号110105194912310021");
        assert_eq!(f, vec![(Entity::ResidentId, Confidence::Possible, "110105194912310021".into())]);
    }

    #[test]
    fn look_alikes_are_not_identifiers() {
        assert!(found("订单号 202611270000123456 已发货").iter().all(|f| f.1 == Confidence::Possible));
        assert!(found("at 2026-11-27 08:30:45 the job ran").is_empty());
        assert!(found("tracking SF1234567890123 shipped").is_empty());
    }

    #[test]
    fn international() {
        let f = found("Mail li.wei@example.com or call +44 20 7946 0958; IBAN GB82 WEST 1234 5698 7654 32.");
        let kinds: Vec<Entity> = f.iter().map(|x| x.0).collect();
        assert_eq!(kinds, vec![Entity::Email, Entity::Phone, Entity::Iban], "{f:?}");
    }
}
