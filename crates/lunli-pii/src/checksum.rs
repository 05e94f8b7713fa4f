//! The check digits of the identifiers lunli recognises. Each function takes the identifier
//! without separators and answers whether it is well formed *and* its check digit holds.

/// Province-level codes of GB/T 2260 (the first two digits of a resident ID), plus Taiwan (71),
/// Hong Kong (81) and Macau (82), which appear on residence permits.
pub fn province_code(code: u32) -> bool {
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81 | 82)
}

/// A calendar date that exists (Gregorian leap years).
pub fn valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// The bytes of a word of eight that are not ASCII digits: a byte is a digit when its high
/// nibble is 3 and its low nibble plus 6 stays below 16 (the sums stay within their bytes), and
/// the result's byte is nonzero where it is not.
fn not_digits(w: &[u8; 8]) -> u64 {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const LOW: u64 = 0x0F0F_0F0F_0F0F_0F0F;
    let x = u64::from_le_bytes(*w);
    ((x & HIGH) ^ 0x3030_3030_3030_3030) | (((x & LOW) + 0x0606_0606_0606_0606) & HIGH)
}

/// The length of the run of ASCII digits `s` starts with, eight bytes at a time: the loop of a
/// byte at a time cost a mispredicted exit at a length that varies from one token to the next.
pub(crate) fn digit_run(s: &[u8]) -> usize {
    run_of(s, not_digits, |b| b.is_ascii_digit())
}

/// The length of the run of bytes of one class that `s` starts with, eight bytes at a time:
/// `outside` gives a word's bytes outside the class as nonzero bytes (its lowest such byte ends
/// the run), `inside` tests one byte, for the last fewer than eight. Inlined into each caller
/// with its class's tests, as fast as a loop written for that class.
#[inline(always)]
pub(crate) fn run_of(s: &[u8], outside: impl Fn(&[u8; 8]) -> u64, inside: impl Fn(u8) -> bool) -> usize {
    let mut n = 0;
    while let Some(word) = s.get(n..n + 8).and_then(|w| <&[u8; 8]>::try_from(w).ok()) {
        let bad = outside(word);
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + s[n..].iter().take_while(|&&b| inside(b)).count()
}

/// Checks a run counted by [`run_of`] against the byte-by-byte run that `inside` gives: at every
/// length up to `longest` (bytes of `alphabet`, stepping by `stride` so that each length starts
/// elsewhere in it) and with every byte after it, then `tail`; and on the run alone. Returns how
/// many strings it checked.
#[cfg(test)]
pub(crate) fn assert_run_as_bytes(
    run: impl Fn(&[u8]) -> usize,
    inside: impl Fn(u8) -> bool,
    alphabet: &[u8],
    stride: usize,
    longest: usize,
    tail: &[u8],
) -> usize {
    let mut checked = 0;
    for len in 0..=longest {
        for (i, after) in (0..=255u8).enumerate() {
            let mut s: Vec<u8> = (0..len).map(|k| alphabet[(k * stride + i) % alphabet.len()]).collect();
            s.push(after);
            s.extend_from_slice(tail);
            let expected = s.iter().take_while(|&&b| inside(b)).count();
            assert_eq!(run(&s), expected, "{s:?}");
            assert_eq!(run(&s[..len]), len);
            checked += 1;
        }
    }
    checked
}

/// Every byte of `s` is an ASCII digit: eight at a time, without a branch per byte (a token's
/// test, the commonest of the classification).
pub(crate) fn all_digits(s: &[u8]) -> bool {
    let bad = not_digits;
    let (words, rest) = s.as_chunks::<8>();
    match s.last_chunk::<8>() {
        // The last eight bytes cover the rest (overlapping is no matter to "every").
        Some(last) => words.iter().fold(bad(last), |acc, w| acc | bad(w)) == 0,
        None => rest.iter().all(u8::is_ascii_digit),
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

/// Region and birth date of a resident ID (18 or 15 characters) are plausible: a known
/// province and a real date between 1900 and 2099 (15-digit numbers were issued to people born
/// in the 1900s).
pub fn resident_id_shape(id: &[u8]) -> bool {
    let (year, rest) = match id.len() {
        18 => (digits(&id[6..10]), &id[10..14]),
        15 => (digits(&id[6..8]).map(|y| 1900 + y), &id[8..12]),
        _ => return false,
    };
    let head_digits = all_digits(&id[..id.len() - 1]);
    let last = id[id.len() - 1];
    let last_ok = last.is_ascii_digit() || (id.len() == 18 && matches!(last, b'X' | b'x'));
    let (Some(province), Some(year), Some(month), Some(day)) =
        (digits(&id[..2]), year, digits(&rest[..2]), digits(&rest[2..]))
    else {
        return false;
    };
    head_digits && last_ok && province_code(province) && (1900..=2099).contains(&year) && valid_date(year, month, day)
}

/// GB 11643-1999: the 18th character of a resident ID is ISO 7064 MOD 11-2 over the first 17.
pub fn resident_id_check(id: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if id.len() != 18 || !all_digits(&id[..17]) {
        return false;
    }
    let sum: u32 = id[..17].iter().zip(WEIGHTS).map(|(&d, w)| u32::from(d - b'0') * w).sum();
    CHECK[(sum % 11) as usize] == id[17].to_ascii_uppercase()
}

/// The characters of a Unified Social Credit Code: digits and capitals without I, O, S, V, Z.
pub const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100-2015: the 18th character of a USCC is MOD 31 over the first 17.
pub fn uscc_check(code: &[u8]) -> bool {
    const WEIGHTS: [usize; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
    if code.len() != 18 {
        return false;
    }
    let value = |b: u8| USCC_ALPHABET.iter().position(|&c| c == b);
    let mut sum = 0;
    for (&b, w) in code[..17].iter().zip(WEIGHTS) {
        let Some(v) = value(b) else { return false };
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    value(code[17]) == Some(check)
}

/// The shape of a USCC without its check: registration authority, organisation kind, a
/// 6-digit region code (GB/T 2260), then nine characters of the organisation code.
pub fn uscc_shape(code: &[u8]) -> bool {
    code.len() == 18
        && matches!(code[0], b'1'..=b'9' | b'A' | b'N' | b'Y')
        && matches!(code[1], b'1'..=b'9')
        && code[2..8].iter().all(u8::is_ascii_digit)
        && digits(&code[2..4]).is_some_and(province_code)
        && code[8..].iter().all(|&b| uscc_character(b))
}

/// A character of [`USCC_ALPHABET`] (no I, O, S, V, Z), tested without searching the alphabet.
fn uscc_character(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'A'..=b'H' | b'J'..=b'N' | b'P'..=b'R' | b'T' | b'U' | b'W'..=b'Y')
}

/// The Luhn (mod 10) check of payment card numbers.
pub fn luhn(number: &[u8]) -> bool {
    if number.len() < 2 || !all_digits(number) {
        return false;
    }
    let sum: u32 = number
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Issuer prefixes of the card schemes seen in China and abroad: UnionPay (62, 60, 81),
/// Visa (4), Mastercard (51–55, 2221–2720), American Express (34, 37), JCB (35),
/// Diners (30, 36, 38). Order numbers starting with a year (20xx) are not cards.
pub fn card_issuer(number: &[u8]) -> bool {
    let prefix = |n: usize| digits(&number[..n.min(number.len())]).unwrap_or(0);
    matches!(prefix(1), 4)
        || matches!(prefix(2), 30 | 34..=38 | 51..=55 | 60 | 62 | 81)
        || (2221..=2720).contains(&prefix(4))
}

/// IBAN lengths by country (the ISO 13616 registry), so that `SF` + digits, a courier's
/// tracking number, is not an IBAN even when its digits happen to pass mod 97.
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NL", 18),
    (b"NO", 15),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"SA", 24),
    (b"SC", 31),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
];

/// The country of an IBAN-shaped string is in the registry with that length.
pub fn iban_shape(iban: &[u8]) -> bool {
    // Every country code is two capitals: most tokens, of digits, are passed over at once.
    iban.len() >= 4
        && iban[..2].iter().all(u8::is_ascii_uppercase)
        && IBAN_LENGTHS.iter().any(|(c, n)| iban[..2] == c[..] && iban.len() == *n)
}

/// ISO 13616: an IBAN (without spaces) moved four characters left, letters as 10–35, is 1 mod 97.
pub fn iban_check(iban: &[u8]) -> bool {
    if !iban_shape(iban)
        || !iban[..2].iter().all(u8::is_ascii_uppercase)
        || !iban[2..4].iter().all(u8::is_ascii_digit)
        || !iban.iter().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return false;
    }
    let mut remainder = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        remainder = if b.is_ascii_digit() {
            (remainder * 10 + u32::from(b - b'0')) % 97
        } else {
            (remainder * 100 + u32::from(b - b'A' + 10)) % 97
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {

    /// The run of digits counted eight bytes at a time is the byte-by-byte run, at every
    /// length and with every byte after it.
    #[test]
    fn digit_run_as_bytes() {
        let checked = assert_run_as_bytes(digit_run, |b| b.is_ascii_digit(), b"0123456789", 7, 39, b"12345678");
        assert_eq!(checked, 40 * 256);
    }

    /// The words-at-a-time test says what the byte-by-byte one says, at every length up to 40,
    /// with the bytes next to the digits and those that differ from one by a high bit.
    #[test]
    fn all_digits_as_bytes() {
        let edges = [b'0', b'5', b'9', b'/', b':', b'0' | 0x80, b'9' | 0x80, 0x3F, 0x20, 0xFF, 0x00, 0x39 + 0x10];
        let mut state = 7u32;
        let mut next = || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as usize
        };
        let mut checked = [0usize; 2];
        for len in 0..=40 {
            for _ in 0..400 {
                // Mostly digits, so that both answers come up at every length.
                let s: Vec<u8> = (0..len)
                    .map(|_| if next() % 16 == 0 { edges[next() % edges.len()] } else { b'0' + (next() % 10) as u8 })
                    .collect();
                let expected = s.iter().all(u8::is_ascii_digit);
                assert_eq!(all_digits(&s), expected, "{s:?}");
                checked[usize::from(expected)] += 1;
            }
        }
        assert!(checked[0] > 2000 && checked[1] > 2000, "{checked:?}");
    }

    use super::*;

    #[test]
    fn iban_country_codes_are_capitals() {
        assert!(IBAN_LENGTHS.iter().all(|(c, _)| c.iter().all(u8::is_ascii_uppercase)));
    }

    #[test]
    fn uscc_characters_are_the_alphabet() {
        for b in 0..=u8::MAX {
            assert_eq!(uscc_character(b), USCC_ALPHABET.contains(&b), "{b}");
        }
    }

    #[test]
    fn resident_id_examples() {
        // The example of GB 11643-1999 Appendix A: 11010519491231002X.
        assert!(resident_id_check(b"11010519491231002X"));
        assert!(resident_id_shape(b"11010519491231002X"));
        assert!(!resident_id_check(b"110105194912310021"));
        assert!(resident_id_check(b"440524188001010014"));
        assert!(!resident_id_shape(b"440524188001010014"), "born 1880: outside 1900–2099");
        assert!(!resident_id_shape(b"110105194902300020"), "30 February");
        assert!(!resident_id_shape(b"990105194912310020"), "no province 99");
        assert!(resident_id_shape(b"110105491231002"), "15-digit form, born 1949-12-31");
    }

    #[test]
    fn uscc_examples() {
        // Published codes of well-known companies.
        assert!(uscc_check(b"91350100M000100Y43"));
        assert!(uscc_check(b"914403001922038216"));
        assert!(!uscc_check(b"91350100M000100Y44"));
        assert!(!uscc_check(b"91350100M000100Y4I"), "I is not in the alphabet");
        assert!(uscc_shape(b"91350100M000100Y43"));
    }

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"6212345678901232"));
        assert!(!luhn(b"6212345678901234"));
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(card_issuer(b"6222021234567890"));
        assert!(card_issuer(b"2221000000000009"));
        assert!(!card_issuer(b"2026112712345678"));
    }

    #[test]
    fn iban_examples() {
        assert!(iban_check(b"GB82WEST12345698765432"));
        assert!(iban_check(b"DE89370400440532013000"));
        assert!(!iban_check(b"GB82WEST12345698765433"));
    }

    #[test]
    fn dates() {
        assert!(valid_date(2000, 2, 29));
        assert!(!valid_date(1900, 2, 29));
        assert!(!valid_date(2023, 13, 1));
    }
}
