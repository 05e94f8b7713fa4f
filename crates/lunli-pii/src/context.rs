//! Context words in Chinese and English. A word shortly before a candidate, or in the name of
//! the column it sits in, raises the recogniser's confidence in the entities that word speaks
//! of; a word that names a look-alike (order, tracking, invoice numbers) lowers it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

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

/// The context words, compiled once.
pub struct ContextWords {
    automaton: AhoCorasick,
    /// Per pattern: the entities it supports; `None` for a look-alike word.
    meaning: Vec<Option<EntitySet>>,
    ascii: Vec<bool>,
}

impl ContextWords {
    pub fn new() -> ContextWords {
        let mut patterns: Vec<&str> = WORDS.iter().map(|(w, _)| *w).collect();
        patterns.extend(LOOK_ALIKES);
        let mut meaning: Vec<Option<EntitySet>> = WORDS.iter().map(|(_, e)| Some(EntitySet::of(e))).collect();
        meaning.extend(LOOK_ALIKES.iter().map(|_| None));
        let ascii = patterns.iter().map(|p| p.is_ascii()).collect();
        #[expect(clippy::expect_used, reason = "built from constant word lists, tested in this module")]
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // A DFA: the words are read around every candidate, so search speed counts.
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .expect("the context word list is a valid automaton");
        ContextWords { automaton, meaning, ascii }
    }

    /// The context in `text`. An ASCII word counts only when no ASCII letter touches it (so
    /// `ship` does not say `ip`); underscores and digits separate words (`ip_addr`, `phone2`).
    pub fn read(&self, text: &str) -> Context {
        let bytes = text.as_bytes();
        let mut context = Context::default();
        for m in self.automaton.find_overlapping_iter(text) {
            let id = m.pattern().as_usize();
            if self.ascii[id] {
                let before = m.start().checked_sub(1).map(|i| bytes[i]);
                let after = bytes.get(m.end()).copied();
                if before.is_some_and(|b| b.is_ascii_alphabetic()) || after.is_some_and(|b| b.is_ascii_alphabetic()) {
                    continue;
                }
            }
            match self.meaning[id] {
                Some(set) => context.supports = context.supports.union(set),
                None => context.look_alike = true,
            }
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
    fn words_in_text_and_columns() {
        let words = ContextWords::new();
        assert!(words.read("客户身份证号：").supports.contains(ResidentId));
        assert!(words.read("Call me on").supports.contains(Mobile));
        assert!(!words.read("the ship sailed").supports.contains(Ipv4));
        assert!(words.read("cellphone").supports.contains(Mobile));
        assert!(words.read("订单号").look_alike);
        assert!(words.read("Order no.").look_alike);
    }
}
