// The candidate patterns and their anchored DFA's configuration, shared with the build script:
// `build.rs` includes this file and compiles the DFA once, at build time (see
// `recognise::anchored_dfa`). Plain comments only: the file is included into a module.

// The candidate patterns, in priority order: where two start at the same place, the first wins.
pub(crate) const EMAIL: usize = 0;
pub(crate) const MAC: usize = 1;
pub(crate) const IPV6: usize = 2;
pub(crate) const IPV4: usize = 3;
pub(crate) const DATE: usize = 4;
pub(crate) const PLATE: usize = 5;
pub(crate) const NAME: usize = 6;
pub(crate) const ADDRESS: usize = 7;
pub(crate) const LANDLINE_PARENS: usize = 8;
pub(crate) const STREET_ADDRESS: usize = 9;
// The last pattern is a token of digits and capitals, classified in `token`.
pub(crate) const TOKEN: usize = 10;

pub(crate) const PATTERNS: [&str; 11] = [
    r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}",
    r"[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}",
    r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
    r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}",
    r"[0-9]{4}(?:-[0-9]{1,2}-[0-9]{1,2}|/[0-9]{1,2}/[0-9]{1,2}|\.[0-9]{1,2}\.[0-9]{1,2}|年[0-9]{1,2}月[0-9]{1,2}日)|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}",
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][·•]?[A-HJ-NP-Z0-9]{5,6}",
    r"姓名|名字|联系人|收件人|收货人|持卡人|户名|患者|(?i:name)",
    r"家庭住址|收货地址|地址|住址|住所|户籍地|居住地|(?i:address)",
    r"\(0[0-9]{2,3}\)[ \-]?[0-9]{7,8}",
    // A Chinese street address without a context word: a province-level name (PROVINCES), a
    // city, district or county, a road or street and a house number.
    r"(?:北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|内蒙古|广西|西藏|宁夏|新疆)(?:省|市|自治区)?\p{Han}{0,12}?(?:市|区|县)\p{Han}{0,16}?(?:路|街|道|巷|弄|村)[0-9]{1,5}号(?:[0-9]{1,5}(?:室|栋|楼|单元))*",
    r"\+?[A-Z]{0,2}[0-9][0-9A-Z]*(?:[ \-][0-9A-Z]+)*",
];

/// The anchored DFA of every pattern but the street address's, leftmost-first, as
/// [`crate::recognise::Recogniser`] walks it (with the street address's, the DFA would not fit
/// in memory).
pub(crate) fn build_anchored()
-> Result<regex_automata::dfa::dense::DFA<Vec<u32>>, Box<regex_automata::dfa::dense::BuildError>> {
    use regex_automata::MatchKind;
    use regex_automata::dfa::{StartKind, dense};
    let but_street: Vec<&str> =
        PATTERNS.iter().enumerate().filter(|&(i, _)| i != STREET_ADDRESS).map(|(_, p)| *p).collect();
    let config = dense::Config::new().start_kind(StartKind::Anchored).match_kind(MatchKind::LeftmostFirst);
    dense::Builder::new().configure(config).build_many(&but_street).map_err(Box::new)
}
