//! What kinds of personal information lunli recognises, and how sure it is.

use serde::Serialize;

/// A kind of personal information. The serialised names are stable (docs/pii.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// Mainland resident identity card number (GB 11643), 18 digits or the old 15-digit form.
    ResidentId,
    /// Mainland mobile number, with or without +86 / 0086 and separators.
    Mobile,
    /// Mainland landline with its area code.
    Landline,
    /// Unified Social Credit Code of an organisation (GB 32100).
    Uscc,
    /// Bank or payment card number (Luhn), 16–19 digits.
    BankCard,
    /// Passport number of the People's Republic of China.
    Passport,
    /// Travel permits to and from Hong Kong and Macau (往来港澳通行证, 港澳居民来往内地通行证).
    HkMacauPermit,
    /// Travel permits to and from Taiwan (台湾居民来往大陆通行证, 大陆居民往来台湾通行证).
    TaiwanPermit,
    /// Mainland vehicle licence plate.
    LicencePlate,
    /// A person's name, where a context word or the column name says so.
    Name,
    /// A postal address, where a context word or the column name says so.
    Address,
    Email,
    /// International Bank Account Number (ISO 13616, mod 97).
    Iban,
    Ipv4,
    Ipv6,
    MacAddress,
    /// A phone number in E.164 form (+ country code), outside the mainland.
    Phone,
    /// A date next to a word that says it is a birth date.
    DateOfBirth,
    /// United States Social Security Number.
    UsSsn,
}

impl Entity {
    pub const ALL: [Entity; 19] = [
        Entity::ResidentId,
        Entity::Mobile,
        Entity::Landline,
        Entity::Uscc,
        Entity::BankCard,
        Entity::Passport,
        Entity::HkMacauPermit,
        Entity::TaiwanPermit,
        Entity::LicencePlate,
        Entity::Name,
        Entity::Address,
        Entity::Email,
        Entity::Iban,
        Entity::Ipv4,
        Entity::Ipv6,
        Entity::MacAddress,
        Entity::Phone,
        Entity::DateOfBirth,
        Entity::UsSsn,
    ];

    /// The stable machine name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::ResidentId => "resident_id",
            Entity::Mobile => "mobile",
            Entity::Landline => "landline",
            Entity::Uscc => "uscc",
            Entity::BankCard => "bank_card",
            Entity::Passport => "passport",
            Entity::HkMacauPermit => "hk_macau_permit",
            Entity::TaiwanPermit => "taiwan_permit",
            Entity::LicencePlate => "licence_plate",
            Entity::Name => "name",
            Entity::Address => "address",
            Entity::Email => "email",
            Entity::Iban => "iban",
            Entity::Ipv4 => "ipv4",
            Entity::Ipv6 => "ipv6",
            Entity::MacAddress => "mac_address",
            Entity::Phone => "phone",
            Entity::DateOfBirth => "date_of_birth",
            Entity::UsSsn => "us_ssn",
        }
    }

    pub fn from_name(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The name in Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Entity::ResidentId => "居民身份证号码",
            Entity::Mobile => "手机号码",
            Entity::Landline => "固定电话",
            Entity::Uscc => "统一社会信用代码",
            Entity::BankCard => "银行卡号",
            Entity::Passport => "护照号码",
            Entity::HkMacauPermit => "港澳通行证",
            Entity::TaiwanPermit => "台湾通行证",
            Entity::LicencePlate => "车牌号",
            Entity::Name => "姓名",
            Entity::Address => "地址",
            Entity::Email => "电子邮箱",
            Entity::Iban => "国际银行账号",
            Entity::Ipv4 => "IPv4 地址",
            Entity::Ipv6 => "IPv6 地址",
            Entity::MacAddress => "MAC 地址",
            Entity::Phone => "国际电话号码",
            Entity::DateOfBirth => "出生日期",
            Entity::UsSsn => "美国社会安全号",
        }
    }

    /// The name in English.
    pub fn en(self) -> &'static str {
        match self {
            Entity::ResidentId => "resident ID number",
            Entity::Mobile => "mobile number",
            Entity::Landline => "landline number",
            Entity::Uscc => "unified social credit code",
            Entity::BankCard => "bank card number",
            Entity::Passport => "passport number",
            Entity::HkMacauPermit => "Hong Kong/Macau travel permit",
            Entity::TaiwanPermit => "Taiwan travel permit",
            Entity::LicencePlate => "licence plate",
            Entity::Name => "personal name",
            Entity::Address => "address",
            Entity::Email => "email address",
            Entity::Iban => "IBAN",
            Entity::Ipv4 => "IPv4 address",
            Entity::Ipv6 => "IPv6 address",
            Entity::MacAddress => "MAC address",
            Entity::Phone => "phone number (E.164)",
            Entity::DateOfBirth => "date of birth",
            Entity::UsSsn => "US social security number",
        }
    }

    /// Sensitive personal information in the sense of the Personal Information Protection Law
    /// (Art. 28: identity numbers, financial accounts, …), which needs the strictest handling.
    pub fn sensitive(self) -> bool {
        matches!(
            self,
            Entity::ResidentId
                | Entity::BankCard
                | Entity::Iban
                | Entity::Passport
                | Entity::HkMacauPermit
                | Entity::TaiwanPermit
                | Entity::UsSsn
        )
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How sure a recogniser is that a match is the entity it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// The shape fits but a checksum failed, or the shape is common in other data and nothing
    /// around it says what it is.
    Possible,
    /// The shape is specific (and its checksum, if any, holds), or a context word supports it.
    Likely,
    /// A checksum holds and the shape is specific, or a specific shape with a context word.
    High,
}

impl Confidence {
    pub const ALL: [Confidence; 3] = [Confidence::Possible, Confidence::Likely, Confidence::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Possible => "possible",
            Confidence::Likely => "likely",
            Confidence::High => "high",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Confidence::Possible => "可能",
            Confidence::Likely => "较可能",
            Confidence::High => "高",
        }
    }

    pub(crate) fn raised(self) -> Confidence {
        match self {
            Confidence::Possible => Confidence::Likely,
            _ => Confidence::High,
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Confidence::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a confidence; use possible, likely or high"))
    }
}
