//! A labelled corpus for measuring the recognisers: sentences in Chinese and English holding
//! valid identifiers (labelled), identifiers whose check digit fails and look-alikes such as
//! order, tracking and invoice numbers, timestamps and version numbers (not labelled). The
//! same seed gives the same corpus.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::checksum::{USCC_ALPHABET, luhn};
use crate::entity::Entity;

/// One line of the corpus and the personal information in it (byte ranges).
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub labels: Vec<(Entity, usize, usize)>,
}

/// Generates `lines` labelled lines from `seed`.
pub fn generate(seed: u64, lines: usize) -> Vec<Line> {
    let mut g = Generator { rng: ChaCha8Rng::seed_from_u64(seed) };
    (0..lines).map(|_| g.line()).collect()
}

/// Generates `lines` paragraphs of ordinary prose from `seed`: Chinese and English sentences
/// about everyday and governance matters, with years, article numbers and percentages but
/// personal information rare (about one labelled value per 10 KB, taken from [`generate`]'s
/// templates). For measuring the scanner on text that is mostly not personal information.
pub fn prose(seed: u64, lines: usize) -> Vec<Line> {
    let mut g = Generator { rng: ChaCha8Rng::seed_from_u64(seed) };
    (0..lines).map(|_| g.paragraph()).collect()
}

const ZH_SENTENCES: &[&str] = &[
    "人工智能的发展应当坚持以人为本，尊重人的尊严和权利",
    "各类主体在开展相关活动时，应当遵守法律法规和伦理规范",
    "本规范旨在将伦理道德融入人工智能全生命周期，促进公平、公正、和谐、安全",
    "管理活动应当推动敏捷治理，尊重人工智能发展规律，充分认识其潜力与局限",
    "研发活动应当强化自律意识，避免从事违背伦理道德的研究",
    "供应活动应当尊重市场规则，严格遵守市场准入、竞争、交易等活动的各种规章制度",
    "使用者应当提倡善意使用，加强论证和评估，充分了解产品与服务带来的益处",
    "在数据收集、存储、使用、加工、传输、提供、公开等环节，应当严格遵守数据相关法律",
    "会议在上午举行，与会代表围绕可信与可控展开了充分讨论",
    "天气转凉以后，城市公园里的游客明显少了，湖边只剩下几位晨练的老人",
    "项目组在季度评审中总结了经验，并对下一阶段的工作作出了安排",
    "系统上线前需要完成安全评估、影响评估和人工复核",
    "用户有权选择是否接受人工智能提供的服务，并可以随时退出",
    "应急机制应当定期演练，确保出现问题时能够及时响应和处置",
    "图书馆延长了开放时间，方便学生在考试周复习",
];

const EN_SENTENCES: &[&str] = &[
    "Artificial intelligence should serve people and respect their dignity and rights",
    "Every organisation that builds or deploys such systems is expected to follow the law",
    "The committee met on Tuesday and discussed how to keep automated decisions under human control",
    "Risk assessments are repeated whenever the purpose or the data of a system changes",
    "The library extended its opening hours during the examination period",
    "A short walk along the river is the best way to see the old town in autumn",
    "Developers are asked to document the limitations of their models in plain language",
    "Users may decline an automated service and ask for a person to review the outcome",
    "The quarterly review found that most incidents were resolved within a day",
    "Training data should be collected lawfully and kept no longer than necessary",
    "Several teams shared lessons learned from the pilot projects in three provinces",
    "The report was translated into English so that partners abroad could read it",
    "Oversight works best when responsibilities are written down and reviewed regularly",
    "Fairness is measured on outcomes as well as on the inputs a model receives",
    "The weather was mild, and the market square filled up with stalls by noon",
];

struct Generator {
    rng: ChaCha8Rng,
}

/// A line being built: text with labelled holes.
struct Builder {
    text: String,
    labels: Vec<(Entity, usize, usize)>,
}

impl Builder {
    fn new() -> Builder {
        Builder { text: String::new(), labels: Vec::new() }
    }
    fn s(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    fn pii(&mut self, entity: Entity, value: &str) -> &mut Self {
        let start = self.text.len();
        self.text.push_str(value);
        self.labels.push((entity, start, self.text.len()));
        self
    }
    fn done(&mut self) -> Line {
        Line { text: std::mem::take(&mut self.text), labels: std::mem::take(&mut self.labels) }
    }
}

const PROVINCES: &[&str] = &["11", "12", "13", "31", "32", "33", "35", "37", "42", "44", "50", "51", "61", "65"];
const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "欧阳", "司马"];
const GIVEN: &[&str] = &["芳", "伟", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "婷", "秀英", "建华"];
const FIRST: &[&str] = &["John", "Mary", "Wei", "Anna", "David", "Li", "Sarah", "Ahmed", "Olga", "Kenji"];
const LAST: &[&str] = &["Smith", "Wang", "Chen", "Brown", "Garcia", "Muller", "Tanaka", "Novak", "Khan", "Lee"];
const CITIES: &[&str] =
    &["北京市朝阳区", "上海市浦东新区", "广东省深圳市南山区", "浙江省杭州市西湖区", "四川省成都市武侯区"];
const ROADS: &[&str] = &["建国路", "人民路", "中山大道", "解放街", "科技园南路"];
const PLATE_PROVINCES: &[&str] = &["京", "沪", "粤", "浙", "川", "苏", "鲁"];
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

impl Generator {
    fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.rng.next_u64()) * n as u128) >> 64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn birth(&mut self) -> (u32, u32, u32) {
        let y = 1940 + self.below(66) as u32;
        let m = 1 + self.below(12) as u32;
        let d = 1 + self.below(28) as u32;
        (y, m, d)
    }

    fn resident_id(&mut self, valid: bool) -> String {
        let (y, m, d) = self.birth();
        let body = format!(
            "{}{:02}{:02}{y:04}{m:02}{d:02}{}",
            self.pick(PROVINCES),
            1 + self.below(20),
            1 + self.below(30),
            self.digits(3)
        );
        const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = body.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        let mut check = b"10X98765432"[(sum % 11) as usize];
        if !valid {
            check = if check == b'0' { b'1' } else { b'0' };
        }
        format!("{body}{}", char::from(check))
    }

    fn old_resident_id(&mut self) -> String {
        let (y, m, d) = self.birth();
        format!(
            "{}{:02}{:02}{:02}{m:02}{d:02}{}",
            self.pick(PROVINCES),
            1 + self.below(20),
            1 + self.below(30),
            y % 100,
            self.digits(3)
        )
    }

    fn mobile(&mut self) -> String {
        let prefix = ["13", "15", "17", "18", "19"][self.below(5)];
        let n = format!("{prefix}{}", self.digits(9));
        match self.below(5) {
            0 => format!("{}-{}-{}", &n[..3], &n[3..7], &n[7..]),
            1 => format!("{} {} {}", &n[..3], &n[3..7], &n[7..]),
            2 => format!("+86 {n}"),
            3 => format!("+86-{}-{}-{}", &n[..3], &n[3..7], &n[7..]),
            _ => n,
        }
    }

    fn landline(&mut self) -> String {
        match self.below(3) {
            0 => format!("010-{}", self.digits(8)),
            1 => format!("0755-{}", self.digits(8)),
            _ => format!("(021) {}", self.digits(8)),
        }
    }

    fn uscc(&mut self, valid: bool) -> String {
        let mut body = format!("91{}{}", self.pick(PROVINCES), self.digits(4)).into_bytes();
        for _ in 0..9 {
            body.push(USCC_ALPHABET[self.below(31)]);
        }
        const WEIGHTS: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
        let value = |b: u8| USCC_ALPHABET.iter().position(|&c| c == b).unwrap_or(0);
        let sum: usize = body.iter().zip(WEIGHTS).map(|(&b, w)| value(b) * w).sum();
        let mut check = (31 - sum % 31) % 31;
        if !valid {
            check = (check + 1) % 31;
        }
        body.push(USCC_ALPHABET[check]);
        String::from_utf8(body).unwrap_or_default()
    }

    fn card(&mut self, valid: bool) -> String {
        let (prefix, len) = [("62", 19), ("62", 16), ("4", 16), ("53", 16)][self.below(4)];
        let mut n = format!("{prefix}{}", self.digits(len - prefix.len() - 1));
        let check = (0..10).find(|d| luhn(format!("{n}{d}").as_bytes())).unwrap_or(0);
        let check = if valid { check } else { (check + 1) % 10 };
        n.push(char::from(b'0' + check as u8));
        if len == 16 && self.chance(40) { format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..]) } else { n }
    }

    fn iban(&mut self) -> String {
        let (country, bban) = match self.below(3) {
            0 => ("DE", self.digits(18)),
            1 => ("FR", format!("{}{}", self.digits(10), self.digits(13))),
            _ => ("GB", format!("WEST{}", self.digits(14))),
        };
        // ISO 13616: check digits 98 - (BBAN + country + "00" mod 97).
        let mut remainder = 0u32;
        for b in bban.bytes().chain(country.bytes()).chain(*b"00") {
            remainder = if b.is_ascii_digit() {
                (remainder * 10 + u32::from(b - b'0')) % 97
            } else {
                (remainder * 100 + u32::from(b - b'A' + 10)) % 97
            };
        }
        let compact = format!("{country}{:02}{bban}", 98 - remainder);
        if self.chance(50) {
            compact.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
        } else {
            compact
        }
    }

    fn ipv6(&mut self) -> String {
        let groups: Vec<String> = (0..8).map(|_| format!("{:x}", self.below(0x10000))).collect();
        if self.chance(50) { groups.join(":") } else { format!("2001:db8::{}:{}", groups[0], groups[1]) }
    }

    fn mac(&mut self) -> String {
        let sep = if self.chance(50) { ":" } else { "-" };
        (0..6).map(|_| format!("{:02X}", self.below(256))).collect::<Vec<_>>().join(sep)
    }

    fn plate(&mut self) -> String {
        let letter = char::from(PLATE_LETTERS[self.below(PLATE_LETTERS.len())]);
        let tail: String = (0..5)
            .map(|i| {
                if i == 0 && self.chance(30) {
                    char::from(PLATE_LETTERS[self.below(PLATE_LETTERS.len())])
                } else {
                    char::from(b'0' + self.below(10) as u8)
                }
            })
            .collect();
        format!("{}{letter}{tail}", self.pick(PLATE_PROVINCES))
    }

    fn zh_name(&mut self) -> String {
        format!("{}{}", self.pick(SURNAMES), self.pick(GIVEN))
    }

    fn en_name(&mut self) -> String {
        format!("{} {}", self.pick(FIRST), self.pick(LAST))
    }

    fn address(&mut self) -> String {
        format!("{}{}{}号", self.pick(CITIES), self.pick(ROADS), 1 + self.below(300))
    }

    fn ssn(&mut self) -> String {
        format!("{:03}-{:02}-{:04}", 1 + self.below(665), 1 + self.below(99), 1 + self.below(9999))
    }

    fn email(&mut self) -> String {
        let user = ["li.wei", "zhang_san", "mary.smith", "wangfang88", "k.tanaka", "user2024"][self.below(6)];
        let domain = ["example.com", "qq.com", "163.com", "mail.example.org", "corp.example.cn"][self.below(5)];
        format!("{user}{}@{domain}", self.below(100))
    }

    fn e164(&mut self) -> String {
        match self.below(3) {
            0 => format!("+44 20 {} {}", self.digits(4), self.digits(4)),
            1 => format!("+1 415 555 {}", self.digits(4)),
            _ => format!("+49{}", self.digits(10)),
        }
    }

    /// One line: a template in Chinese or English with one or two values, or a line of
    /// look-alikes and invalid identifiers with nothing to find.
    fn line(&mut self) -> Line {
        let mut b = Builder::new();
        match self.below(39) {
            0 => {
                let id = self.resident_id(true);
                b.s("客户姓名")
                    .pii(Entity::Name, &self.zh_name_owned())
                    .s("，身份证号")
                    .pii(Entity::ResidentId, &id)
                    .s("，已核验。")
            }
            1 => {
                let id = self.resident_id(true);
                b.s("Applicant ID number: ").pii(Entity::ResidentId, &id).s(", verified on site.")
            }
            2 => {
                let id = self.resident_id(true);
                b.s("复印件上的号码").pii(Entity::ResidentId, &id).s("与系统一致")
            }
            3 => {
                let id = self.old_resident_id();
                b.s("旧身份证号码：").pii(Entity::ResidentId, &id).s("（15位）")
            }
            4 => {
                let m = self.mobile();
                b.s("请联系手机").pii(Entity::Mobile, &m).s("，工作日可接听。")
            }
            5 => {
                let m = self.mobile();
                b.s("You can reach her at ").pii(Entity::Mobile, &m).s(" after 6pm.")
            }
            6 => {
                let l = self.landline();
                b.s("办公电话：").pii(Entity::Landline, &l).s("，传真同号")
            }
            7 => {
                let c = self.uscc(true);
                b.s("公司统一社会信用代码为").pii(Entity::Uscc, &c).s("。")
            }
            8 => {
                let c = self.uscc(true);
                b.s("Supplier ").pii(Entity::Uscc, &c).s(" passed due diligence.")
            }
            9 => {
                let c = self.card(true);
                b.s("退款将退回尾号所在银行卡").pii(Entity::BankCard, &c).s("，请查收。")
            }
            10 => {
                let c = self.card(true);
                b.s("Paid with ").pii(Entity::BankCard, &c).s(" on the web shop")
            }
            11 => {
                let p = format!("E{}", self.digits(8));
                b.s("护照号码").pii(Entity::Passport, &p).s("，有效期十年")
            }
            12 => {
                let p = format!("E{}{}", char::from(PLATE_LETTERS[self.below(PLATE_LETTERS.len())]), self.digits(7));
                b.s("Passport ").pii(Entity::Passport, &p).s(" was scanned at the desk.")
            }
            13 => {
                let p = format!("C{}", self.digits(8));
                b.s("往来港澳通行证").pii(Entity::HkMacauPermit, &p).s("已过期")
            }
            14 => {
                let p = self.digits(8);
                b.s("台胞证号码：").pii(Entity::TaiwanPermit, &p).s("，请核对")
            }
            15 => {
                let p = self.plate();
                b.s("车辆").pii(Entity::LicencePlate, &p).s("于昨日驶入园区")
            }
            16 => {
                let n = self.zh_name();
                let m = self.mobile();
                b.s("联系人").pii(Entity::Name, &n).s("，电话").pii(Entity::Mobile, &m)
            }
            17 => {
                let n = self.en_name();
                b.s("My name is ").pii(Entity::Name, &n).s(" and I would like a refund.")
            }
            18 => {
                let a = self.address();
                b.s("收货地址：").pii(Entity::Address, &a).s("，请工作日送达")
            }
            19 => {
                let e = self.email();
                b.s("Send the contract to ").pii(Entity::Email, &e).s(" before Friday.")
            }
            20 => {
                let e = self.email();
                b.s("有问题请发邮件至").pii(Entity::Email, &e).s("咨询")
            }
            21 => {
                let i = self.iban();
                b.s("Transfer to IBAN ").pii(Entity::Iban, &i).s(" within 10 days.")
            }
            22 => {
                let ip =
                    format!("{}.{}.{}.{}", 1 + self.below(223), self.below(256), self.below(256), 1 + self.below(254));
                b.s("用户登录 IP ").pii(Entity::Ipv4, &ip).s(" 异常")
            }
            23 => {
                let ip = self.ipv6();
                b.s("Request from ").pii(Entity::Ipv6, &ip).s(" was blocked")
            }
            24 => {
                let m = self.mac();
                b.s("设备 MAC 地址 ").pii(Entity::MacAddress, &m).s(" 已登记")
            }
            25 => {
                let p = self.e164();
                b.s("Call our London office on ").pii(Entity::Phone, &p).s(".")
            }
            26 => {
                let (y, m, d) = self.birth();
                let date = if self.chance(50) { format!("{y}-{m:02}-{d:02}") } else { format!("{y}年{m}月{d}日") };
                b.s("出生日期：").pii(Entity::DateOfBirth, &date).s("，性别：女")
            }
            27 => {
                let (y, m, d) = self.birth();
                b.s("Patient born ").pii(Entity::DateOfBirth, &format!("{m:02}/{d:02}/{y}")).s(" was admitted.")
            }
            28 => {
                let s = self.ssn();
                b.s("SSN ").pii(Entity::UsSsn, &s).s(" on file")
            }
            29 => {
                // Look-alikes: order, tracking, invoice numbers, timestamps; nothing to find.
                let order = format!("2026{}", self.digits(14));
                let tracking = format!("SF{}", self.digits(13));
                b.s(&format!(
                    "订单号 {order} 已发货，运单号 {tracking}，时间 2026-11-{:02} 08:{:02}:45",
                    1 + self.below(28),
                    self.below(60)
                ))
            }
            30 => {
                let invoice = self.digits(8);
                let ms = format!("17{}", self.digits(11));
                b.s(&format!(
                    "Invoice {invoice} created at {ms} by build v1.{}.3.4, ISBN 978-7-111-{}-6",
                    self.below(9),
                    self.digits(5)
                ))
            }
            31 => {
                // Check digits that fail: not personal information as written, found as "possible".
                let id = self.resident_id(false);
                let card = self.card(false);
                let uscc = self.uscc(false);
                b.s(&format!("录入错误的身份证号{id}，卡号{card}，信用代码{uscc}"))
            }
            32 => {
                let n = self.digits(12);
                b.s(&format!("批次 {n} 共 {} 件，单价 {}.{:02} 元", self.below(1000), self.below(500), self.below(100)))
            }
            // Values with no word that names them: no recogniser without a language model finds
            // these names and addresses; the passport shape is too common to claim alone.
            34 => {
                let a = self.address();
                b.s("快递放在").pii(Entity::Address, &a).s("门口")
            }
            35 => {
                let n = self.en_name();
                b.s("Dear ").pii(Entity::Name, &n).s(", thank you for your order.")
            }
            36 => {
                let p = format!("G{}", self.digits(8));
                b.s("证件 ").pii(Entity::Passport, &p).s(" 已登记")
            }
            37 => {
                // A Luhn-valid number in a look-alike's context.
                let card = self.card(true);
                b.s(&format!("交易流水号 {}，金额 {} 元", card.replace(' ', ""), self.below(10_000)))
            }
            _ => {
                let id = self.resident_id(true);
                let m = self.mobile();
                let e = self.email();
                b.s("员工档案：身份证 ")
                    .pii(Entity::ResidentId, &id)
                    .s("；手机 ")
                    .pii(Entity::Mobile, &m)
                    .s("；邮箱 ")
                    .pii(Entity::Email, &e)
            }
        };
        b.done()
    }

    /// One paragraph of 4–9 sentences in one language (two in three Chinese), with now and then
    /// a year, an article number or a percentage; one paragraph in 16 also carries a line of
    /// [`Generator::line`] with its labels.
    fn paragraph(&mut self) -> Line {
        let mut b = Builder::new();
        let chinese = self.below(3) < 2;
        let sentences = 4 + self.below(6);
        let carrier = self.below(16) == 0;
        let carried = if carrier { self.below(sentences) } else { usize::MAX };
        for i in 0..sentences {
            if i == carried {
                let line = self.line();
                let at = b.text.len();
                b.text.push_str(&line.text);
                b.labels.extend(line.labels.iter().map(|&(e, s, t)| (e, at + s, at + t)));
                b.s(if chinese { "。" } else { ". " });
                continue;
            }
            if chinese {
                let s = self.pick(ZH_SENTENCES);
                b.s(s);
                match self.below(8) {
                    0 => b.s(&format!("（第{}条）", 1 + self.below(25))),
                    1 => b.s(&format!("，截至{}年底完成{}%", 2015 + self.below(12), self.below(100))),
                    _ => b.s(""),
                };
                b.s(if self.below(4) == 0 { "；" } else { "。" });
            } else {
                let s = self.pick(EN_SENTENCES);
                b.s(s);
                match self.below(8) {
                    0 => b.s(&format!(" (Art. {})", 1 + self.below(25))),
                    1 => b.s(&format!(
                        ", as reported in {} by {}% of the members",
                        2015 + self.below(12),
                        self.below(100)
                    )),
                    _ => b.s(""),
                };
                b.s(if self.below(5) == 0 { "; " } else { ". " });
            }
        }
        b.done()
    }

    fn zh_name_owned(&mut self) -> String {
        self.zh_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a = generate(7, 200);
        let b = generate(7, 200);
        assert!(a.iter().zip(&b).all(|(x, y)| x.text == y.text && x.labels == y.labels));
        assert_ne!(generate(8, 50)[0].text, a[0].text);
    }
}
