//! Context words in Chinese and English. A word shortly before a candidate, or in the name of
//! the column it sits in, raises the recogniser's confidence in the entities that word speaks
//! of; a word that names a look-alike (order, tracking, invoice numbers) lowers it.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use std::hash::BuildHasher;

use aho_corasick::{Anchored, MatchKind};

use crate::entity::Entity;

/// A set of entities, as bits indexed by `Entity as u32`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntitySet(u32);

impl EntitySet {
    pub const EMPTY: EntitySet = EntitySet(0);

    pub fn of(entities: &[Entity]) -> EntitySet {
        EntitySet(entities.iter().fold(0, |bits, e| bits | 1 << *e as u32))
    }

    pub fn contains(self, entity: Entity) -> bool {
        self.0 & (1 << entity as u32) != 0
    }

    pub fn union(self, other: EntitySet) -> EntitySet {
        EntitySet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What the words around a candidate say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// Entities a context word speaks for.
    pub supports: EntitySet,
    /// A word naming a look-alike (order, tracking, invoice, serial number) is near.
    pub look_alike: bool,
}

impl Context {
    pub fn union(self, other: Context) -> Context {
        Context { supports: self.supports.union(other.supports), look_alike: self.look_alike || other.look_alike }
    }
}

use Entity::*;

/// Each context word and the entities it supports. ASCII words match case-insensitively and
/// only as whole words in text (so `ship` does not contain `ip`).
const WORDS: &[(&str, &[Entity])] = &[
    ("身份证", &[ResidentId]),
    ("身份号码", &[ResidentId]),
    ("证件号", &[ResidentId, Passport, HkMacauPermit, TaiwanPermit]),
    ("公民身份", &[ResidentId]),
    ("id card", &[ResidentId]),
    ("id number", &[ResidentId]),
    ("id_number", &[ResidentId]),
    ("id_card", &[ResidentId]),
    ("idcard", &[ResidentId]),
    ("identity", &[ResidentId]),
    ("citizen id", &[ResidentId]),
    ("手机", &[Mobile]),
    ("电话", &[Mobile, Landline, Phone]),
    ("联系方式", &[Mobile, Landline, Phone, Email]),
    ("座机", &[Landline]),
    ("传真", &[Landline]),
    ("致电", &[Mobile, Landline, Phone]),
    ("phone", &[Mobile, Landline, Phone]),
    ("mobile", &[Mobile, Phone]),
    ("cell", &[Mobile, Phone]),
    ("cellphone", &[Mobile, Phone]),
    ("phone_number", &[Mobile, Landline, Phone]),
    ("tel", &[Mobile, Landline, Phone]),
    ("telephone", &[Mobile, Landline, Phone]),
    ("fax", &[Landline, Phone]),
    ("call", &[Mobile, Landline, Phone]),
    ("银行卡", &[BankCard]),
    ("卡号", &[BankCard]),
    ("信用卡", &[BankCard]),
    ("借记卡", &[BankCard]),
    ("储蓄卡", &[BankCard]),
    ("银联", &[BankCard]),
    ("账号", &[BankCard, Iban]),
    ("账户", &[BankCard, Iban]),
    ("card", &[BankCard]),
    ("credit card", &[BankCard]),
    ("debit card", &[BankCard]),
    ("card number", &[BankCard]),
    ("card_no", &[BankCard]),
    ("visa", &[BankCard]),
    ("mastercard", &[BankCard]),
    ("account", &[BankCard, Iban]),
    ("统一社会信用代码", &[Uscc]),
    ("信用代码", &[Uscc]),
    ("纳税人识别号", &[Uscc]),
    ("税号", &[Uscc]),
    ("uscc", &[Uscc]),
    ("credit code", &[Uscc]),
    ("护照", &[Passport]),
    ("passport", &[Passport]),
    ("港澳", &[HkMacauPermit]),
    ("回乡证", &[HkMacauPermit]),
    ("台湾", &[TaiwanPermit]),
    ("台胞证", &[TaiwanPermit]),
    ("通行证", &[HkMacauPermit, TaiwanPermit]),
    ("permit", &[HkMacauPermit, TaiwanPermit]),
    ("车牌", &[LicencePlate]),
    ("号牌", &[LicencePlate]),
    ("牌照", &[LicencePlate]),
    ("plate", &[LicencePlate]),
    ("licence", &[LicencePlate]),
    ("license", &[LicencePlate]),
    ("vehicle", &[LicencePlate]),
    ("邮箱", &[Email]),
    ("邮件", &[Email]),
    ("email", &[Email]),
    ("e-mail", &[Email]),
    ("mail", &[Email]),
    ("iban", &[Iban]),
    ("ip", &[Ipv4, Ipv6]),
    ("ip地址", &[Ipv4, Ipv6]),
    ("ipv4", &[Ipv4]),
    ("ipv6", &[Ipv6]),
    ("host", &[Ipv4, Ipv6]),
    ("服务器", &[Ipv4, Ipv6]),
    ("登录", &[Ipv4, Ipv6]),
    ("login", &[Ipv4, Ipv6]),
    ("mac", &[MacAddress]),
    ("物理地址", &[MacAddress]),
    ("网卡", &[MacAddress]),
    ("设备", &[MacAddress]),
    ("device", &[MacAddress]),
    ("出生", &[DateOfBirth]),
    ("生日", &[DateOfBirth]),
    ("birth", &[DateOfBirth]),
    ("birthday", &[DateOfBirth]),
    ("date of birth", &[DateOfBirth]),
    ("dob", &[DateOfBirth]),
    ("born", &[DateOfBirth]),
    ("ssn", &[UsSsn]),
    ("social security", &[UsSsn]),
    ("姓名", &[Name]),
    ("名字", &[Name]),
    ("联系人", &[Name]),
    ("收件人", &[Name]),
    ("收货人", &[Name]),
    ("持卡人", &[Name]),
    ("户名", &[Name]),
    ("患者", &[Name]),
    ("name", &[Name]),
    ("full_name", &[Name]),
    ("customer", &[Name]),
    ("patient", &[Name]),
    ("contact", &[Name, Mobile, Landline, Phone, Email]),
    ("地址", &[Address]),
    ("住址", &[Address]),
    ("住所", &[Address]),
    ("户籍", &[Address]),
    ("居住地", &[Address]),
    ("address", &[Address]),
    ("addr", &[Address]),
    ("street", &[Address]),
];

/// Words naming things that look like identifiers but are not about a person.
const LOOK_ALIKES: &[&str] = &[
    "订单",
    "单号",
    "运单",
    "快递",
    "流水",
    "编号",
    "发票",
    "批次",
    "工单",
    "时间戳",
    "序列号",
    "order",
    "tracking",
    "invoice",
    "serial",
    "timestamp",
    "transaction",
    "sku",
    "batch",
    "version",
];

/// The context words, compiled once into a DFA that is walked byte by byte: every word that
/// ends at a byte is known from the state reached there, so a stretch of text is read in one
/// pass with no per-word search set-up.
///
/// The DFA reads each byte as its symbol ([`ContextWords::symbols`]): the bytes the words are
/// made of are numbered from 1 (an ASCII capital as its small letter, which makes the words
/// ASCII case-insensitive), every other byte is 0, which no word holds. A word matches the text
/// where its symbols match the text's, so the words found are the same, and the DFA has some 100
/// symbols instead of over 128 classes of bytes: half the size (384 KB), more of it in cache.
pub struct ContextWords {
    dfa: DFA,
    start: StateID,
    /// Each byte's symbol.
    symbols: [u8; 256],
    /// Per pattern: the entities it supports; `None` for a look-alike word.
    meaning: Vec<Option<EntitySet>>,
    ascii: Vec<bool>,
    /// The bytes that start no word: from the start state, the walk stays there.
    starts_none: [bool; 256],
}

impl ContextWords {
    pub fn new() -> ContextWords {
        let mut patterns: Vec<&str> = WORDS.iter().map(|(w, _)| *w).collect();
        patterns.extend(LOOK_ALIKES);
        let mut meaning: Vec<Option<EntitySet>> = WORDS.iter().map(|(_, e)| Some(EntitySet::of(e))).collect();
        meaning.extend(LOOK_ALIKES.iter().map(|_| None));
        let ascii = patterns.iter().map(|p| p.is_ascii()).collect();
        let mut symbols = [0u8; 256];
        let mut next = 1u8;
        for b in patterns.iter().flat_map(|p| p.bytes()).map(|b| b.to_ascii_lowercase()) {
            if symbols[usize::from(b)] == 0 {
                symbols[usize::from(b)] = next;
                next += 1;
            }
        }
        for b in b'A'..=b'Z' {
            symbols[usize::from(b)] = symbols[usize::from(b.to_ascii_lowercase())];
        }
        let spelt: Vec<Vec<u8>> =
            patterns.iter().map(|p| p.bytes().map(|b| symbols[usize::from(b)]).collect()).collect();
        // Standard semantics: a state's matches are every word ending there, overlapping ones
        // included (`cellphone` says `cell` and `phone`).
        #[expect(clippy::expect_used, reason = "built from constant word lists, tested in this module")]
        let dfa = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&spelt)
            .expect("the context word list is a valid automaton");
        #[expect(clippy::expect_used, reason = "an unanchored start state exists for every DFA built above")]
        let start = dfa.start_state(Anchored::No).expect("an unanchored search is supported");
        let starts_none = std::array::from_fn(|b| dfa.next_state(Anchored::No, start, symbols[b]) == start);
        ContextWords { dfa, start, symbols, meaning, ascii, starts_none }
    }

    /// The state after `state` on the byte `b`.
    #[inline(always)]
    fn next_state(&self, state: StateID, b: u8) -> StateID {
        self.dfa.next_state(Anchored::No, state, self.symbols[usize::from(b)])
    }

    /// The context in `text`. An ASCII word counts only when no ASCII letter touches it (so
    /// `ship` does not say `ip`); underscores and digits separate words (`ip_addr`, `phone2`).
    pub fn read(&self, text: &str) -> Context {
        let bytes = text.as_bytes();
        let mut context = Context::default();
        let mut state = self.start;
        for (i, &b) in bytes.iter().enumerate() {
            state = self.next_state(state, b);
            if self.dfa.is_match(state) {
                for word in self.words_at(state, i + 1) {
                    self.add(&mut context, bytes, 0, bytes.len(), word);
                }
            }
        }
        context
    }

    /// Reads the stretches before the candidates of one text, which move forward: each byte is
    /// walked at most once while the stretches overlap, and a stretch read before is not walked
    /// again.
    pub(crate) fn reader(&self) -> ContextReader<'_> {
        ContextReader {
            words: self,
            from: 0,
            to: 0,
            state: self.start,
            found: Vec::new(),
            reads: 0,
            memo: Box::default(),
            hasher: foldhash::fast::FixedState::with_seed(0),
        }
    }

    /// The words (start, end, pattern) that end at `end` in state `state`.
    fn words_at(&self, state: StateID, end: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        (0..self.dfa.match_len(state)).map(move |k| {
            let pattern = self.dfa.match_pattern(state, k);
            (end - self.dfa.pattern_len(pattern), end, pattern.as_usize())
        })
    }

    /// Adds what the word `(start, end, pattern)` says to `context`, reading `bytes[from..to]`
    /// alone: an ASCII word touched by an ASCII letter inside the stretch does not count.
    fn add(
        &self,
        context: &mut Context,
        bytes: &[u8],
        from: usize,
        to: usize,
        (start, end, id): (usize, usize, usize),
    ) {
        if self.ascii[id] {
            let before = (start > from).then(|| bytes[start - 1]);
            let after = (end < to).then(|| bytes[end]);
            if before.is_some_and(|b| b.is_ascii_alphabetic()) || after.is_some_and(|b| b.is_ascii_alphabetic()) {
                return;
            }
        }
        match self.meaning[id] {
            Some(set) => context.supports = context.supports.union(set),
            None => context.look_alike = true,
        }
    }
}

/// Slots of the memo of [`ContextReader`] (a power of two).
const MEMO_SLOTS: usize = 1024;
/// Reads of one text before the memo is made.
const MEMO_AFTER: usize = 16;
/// The longest stretch the memo keeps (a candidate's context is read at most 120 bytes back).
const MEMO_BYTES: usize = 120;

/// A stretch read before and what its words said. The stretch is where it was last seen in the
/// text, not a copy: the memo stays small enough for the caches (16 bytes a slot), and the
/// text it is compared with was read a moment ago.
#[derive(Clone, Copy)]
struct Remembered {
    /// The stretch's hash, its start in the text and its length; `len` is `u32::MAX` for an
    /// empty slot.
    hash: u32,
    len: u32,
    at: u32,
    context: Context,
}

impl Default for Remembered {
    fn default() -> Self {
        Remembered { hash: 0, len: u32::MAX, at: 0, context: Context::default() }
    }
}

/// The context words of stretches `from..to` of one text, each starting and ending no earlier
/// than the one before (as the candidates of a text do). The walk goes on from where the last
/// one ended while the stretches overlap, and starts afresh when they do not, so the words found
/// are those [`ContextWords::read`] finds in each stretch alone.
pub(crate) struct ContextReader<'w> {
    words: &'w ContextWords,
    /// The words of the walk from `from` on are in `found`; it has read up to `to`.
    from: usize,
    to: usize,
    state: StateID,
    /// The words (start, end, pattern) the walk met that start at or after the last stretch's
    /// start.
    found: Vec<(usize, usize, usize)>,
    /// Stretches read before, by their hash: the words before candidates are often the same
    /// text (a form's label, a log line's prefix), and a hash and a comparison cost less than
    /// walking the automaton. What the words of a stretch say depends on its bytes alone.
    /// Made after [`MEMO_AFTER`] reads, so that a short text (a table's cell) does not pay for it.
    memo: Box<[Remembered]>,
    reads: usize,
    hasher: foldhash::fast::FixedState,
}

impl ContextReader<'_> {
    /// The context of `bytes[from..to]`; `bytes` is the same text at every call.
    pub(crate) fn read(&mut self, bytes: &[u8], from: usize, to: usize) -> Context {
        let stretch = &bytes[from..to];
        self.reads += 1;
        if self.reads == MEMO_AFTER {
            self.memo = vec![Remembered::default(); MEMO_SLOTS].into_boxed_slice();
        }
        // Offsets are kept in 32 bits: a text beyond them is read without the memo.
        let Ok(at) = u32::try_from(from) else {
            return self.walk(bytes, from, to);
        };
        if stretch.len() > MEMO_BYTES || self.memo.is_empty() {
            return self.walk(bytes, from, to);
        }
        let full = self.hasher.hash_one(stretch);
        let index = full as usize & (MEMO_SLOTS - 1);
        let slot = &mut self.memo[index];
        let (hash, len) = ((full >> 32) as u32, stretch.len() as u32);
        if slot.hash == hash && slot.len == len {
            let start = slot.at as usize;
            if bytes.get(start..start + stretch.len()) == Some(stretch) {
                // The copy seen last is the likeliest to be in the caches next time.
                slot.at = at;
                return slot.context;
            }
        }
        let context = self.walk(bytes, from, to);
        self.memo[index] = Remembered { hash, len, at, context };
        context
    }

    /// Reads `bytes[from..to]` by walking the automaton on from the last stretch.
    fn walk(&mut self, bytes: &[u8], from: usize, to: usize) -> Context {
        let words = self.words;
        if from < self.from || to < self.to || from > self.to {
            // Behind the walk, or past its end: start afresh at `from`.
            self.from = from;
            self.to = from;
            self.state = words.start;
            self.found.clear();
        }
        let mut state = self.state;
        let mut i = self.to;
        while i < to {
            if state == words.start {
                // Digits, spaces and punctuation, most often: passed over without the automaton.
                i += bytes[i..to].iter().take_while(|&&b| words.starts_none[usize::from(b)]).count();
                if i == to {
                    break;
                }
            }
            state = words.next_state(state, bytes[i]);
            if words.dfa.is_match(state) {
                self.found.extend(words.words_at(state, i + 1));
            }
            i += 1;
        }
        self.state = state;
        self.to = to;
        // Words that start before `from` are in no later stretch either.
        self.found.retain(|&(start, _, _)| start >= from);
        self.from = from;
        let mut context = Context::default();
        for &word in &self.found {
            words.add(&mut context, bytes, from, to, word);
        }
        context
    }
}

impl Default for ContextWords {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_number_the_words_bytes() {
        let words = ContextWords::new();
        let used: usize = (0..=255u8).filter(|&b| words.symbols[usize::from(b)] != 0).count();
        assert!(words.dfa.memory_usage() < 400 << 10, "{} bytes", words.dfa.memory_usage());
        assert!(used > 100 && words.symbols.iter().all(|&s| s < 128), "{used} bytes with a symbol");
        assert_eq!(words.symbols[usize::from(b'P')], words.symbols[usize::from(b'p')]);
        assert_eq!(words.symbols[usize::from(b'!')], 0);
    }

    #[test]
    fn words_in_text_and_columns() {
        let words = ContextWords::new();
        assert!(words.read("客户身份证号：").supports.contains(ResidentId));
        assert!(words.read("Call me on").supports.contains(Mobile));
        assert!(!words.read("the ship sailed").supports.contains(Ipv4));
        assert!(words.read("cellphone").supports.contains(Mobile));
        assert!(words.read("订单号").look_alike);
        assert!(words.read("Order no.").look_alike);
    }

    /// What the words of a stretch say, by aho-corasick's own overlapping search over the
    /// stretch alone (the reading before the DFA was walked by hand).
    fn searched(automaton: &aho_corasick::AhoCorasick, words: &ContextWords, text: &str) -> Context {
        let bytes = text.as_bytes();
        let mut context = Context::default();
        for m in automaton.find_overlapping_iter(text) {
            words.add(&mut context, bytes, 0, bytes.len(), (m.start(), m.end(), m.pattern().as_usize()));
        }
        context
    }

    /// Stretches seen before are answered by the memo (from where the same bytes were last
    /// seen in the text) as the words in them say, lines of the same label and lines that
    /// differ by a byte alike.
    #[test]
    fn memo_answers_as_the_words() {
        let words = ContextWords::new();
        let labels = ["客户手机：", "订单号 ", "Call me on ", "ship to ", "身份证号码", "Mobile"];
        let mut text = String::new();
        let mut stretches = Vec::new();
        for i in 0..600 {
            let label = labels[i % labels.len()];
            let start = text.len();
            // Every seventh line differs from the others of its label by its first byte.
            text.push_str(if i % 7 == 0 { "x" } else { "y" });
            text.push_str(label);
            stretches.push((start, text.len()));
            text.push_str("13812345678\n");
        }
        let mut reader = words.reader();
        for &(from, to) in &stretches {
            assert_eq!(reader.read(text.as_bytes(), from, to), words.read(&text[from..to]), "{from}..{to}");
        }
    }

    #[test]
    fn walked_dfa_reads_as_the_overlapping_search() {
        let words = ContextWords::new();
        let mut patterns: Vec<&str> = WORDS.iter().map(|(w, _)| *w).collect();
        patterns.extend(LOOK_ALIKES);
        let automaton = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&patterns)
            .expect("the words build");
        let searched = |text: &str| searched(&automaton, &words, text);
        let text: String = crate::corpus::generate(5, 400).into_iter().map(|l| l.text + "\n").collect();
        let text = format!("{text}CellPhone phone_number cellphone ship IP地址 Date of Birth e-mail ORDER订单号");
        let bytes = text.as_bytes();
        let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
        let mut reader = words.reader();
        let mut checked = 0;
        let mut said = 0;
        // Stretches that move forward, overlap, jump ahead and go back, as candidates' may.
        for (k, &to) in boundaries.iter().enumerate().step_by(7) {
            let back = [0, 3, 40, 120, 500][k % 5];
            let from = boundaries[k.saturating_sub(back)];
            let expected = searched(&text[from..to]);
            assert_eq!(words.read(&text[from..to]), expected, "{from}..{to}");
            assert_eq!(reader.read(bytes, from, to), expected, "reader at {from}..{to}");
            checked += 1;
            said += usize::from(expected != Context::default());
        }
        for (from, to) in [(10, 50), (5, 60), (200, 260), (0, 30)] {
            let (from, to) = (boundaries[from], boundaries[to]);
            assert_eq!(reader.read(bytes, from, to), searched(&text[from..to]), "reader at {from}..{to}");
        }
        assert!(checked > 1000 && said > checked / 4, "{checked} stretches, {said} with words");
    }
}
