//! International identifiers: email, IPv4/IPv6, MAC, IBAN (mod 97), E.164 phone numbers,
//! dates of birth and US Social Security Numbers. Payment cards are shared with
//! [`crate::cn`] (Luhn over all schemes).

use std::net::Ipv6Addr;

use crate::checksum;
use crate::entity::{Confidence, Entity};
use crate::recognise::Verdict;

/// No ASCII letter or digit touches the candidate: it is not the middle of a longer token.
pub(crate) fn outside_token(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).map(|i| bytes[i]);
    let after = bytes.get(end).copied();
    !before.is_some_and(|b| b.is_ascii_alphanumeric()) && !after.is_some_and(|b| b.is_ascii_alphanumeric())
}

pub(crate) fn email(bytes: &[u8], start: usize, end: usize) -> Option<Verdict> {
    let at = bytes[start..end].iter().position(|&b| b == b'@')?;
    let local = &bytes[start..start + at];
    let domain = &bytes[start + at + 1..end];
    let ok = local.len() <= 64
        && domain.len() <= 253
        && !local.starts_with(b".")
        && !local.ends_with(b".")
        && !domain.split(|&b| b == b'.').any(|label| label.is_empty() || label.starts_with(b"-") || label.len() > 63);
    let after = bytes.get(end).copied();
    (ok && !after.is_some_and(|b| b.is_ascii_alphanumeric())).then(|| Verdict::new(Entity::Email, Confidence::High))
}

pub(crate) fn ipv4(text: &str, start: usize, end: usize) -> Option<Verdict> {
    let bytes = text.as_bytes();
    let before = start.checked_sub(1).map(|i| bytes[i]);
    if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.') {
        return None; // part of a longer dotted number or a version such as v1.2.3.4
    }
    let after = bytes.get(end).copied();
    let dot_digit = after == Some(b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
    if after.is_some_and(|b| b.is_ascii_alphanumeric()) || dot_digit {
        return None;
    }
    dotted_quad(&bytes[start..end]).then(|| Verdict::new(Entity::Ipv4, Confidence::Likely))
}

/// Whether `s` is an IPv4 address as `Ipv4Addr`'s parser reads one: four numbers of one to three
/// digits separated by dots, each at most 255 and without a leading zero. A loop over the bytes,
/// without the parser's set-up and its branches per character (its share of the dense corpus's
/// mispredicted branches was about 3 %).
fn dotted_quad(s: &[u8]) -> bool {
    let mut numbers = 0;
    let (mut value, mut digits, mut first) = (0u32, 0, 0u8);
    for &b in s.iter().chain(b".") {
        if b == b'.' {
            if digits == 0 || (digits > 1 && first == b'0') || value > 255 {
                return false;
            }
            numbers += 1;
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() && digits < 3 {
            if digits == 0 {
                first = b;
            }
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
        } else {
            return false;
        }
    }
    numbers == 4
}

pub(crate) fn ipv6(text: &str, start: usize, end: usize) -> Option<Verdict> {
    let candidate = &text[start..end];
    if !outside_token(text.as_bytes(), start, end) && !text[end..].starts_with(':') {
        return None;
    }
    // `std::io` or a clock time is not an address: at least two groups, one of 3–4 digits or
    // three groups in all.
    let (groups, long) = candidate
        .split(':')
        .filter(|g| !g.is_empty())
        .fold((0, false), |(groups, long), g| (groups + 1, long || g.len() >= 3));
    if groups < 2 || (groups < 3 && !long) {
        return None;
    }
    candidate.parse::<Ipv6Addr>().ok()?;
    Some(Verdict::new(Entity::Ipv6, Confidence::Likely))
}

/// A real calendar date; it is a date of birth only where a word says so (出生, born, DOB).
pub(crate) fn date(text: &str, start: usize, end: usize) -> Option<Verdict> {
    if !outside_token(text.as_bytes(), start, end) {
        return None;
    }
    // Three numbers, and no fourth (counted without collecting them).
    let mut numbers = text[start..end]
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u32>().ok());
    let (Some(a), Some(b), Some(c), None) = (numbers.next(), numbers.next(), numbers.next(), numbers.next()) else {
        return None;
    };
    let (year, month, day) = if a >= 1000 { (a, b, c) } else { (c, a, b) };
    let plausible = (1900..=2099).contains(&year) && checksum::valid_date(year, month, day);
    plausible.then(|| Verdict::new(Entity::DateOfBirth, Confidence::Likely).with_context())
}

/// Classifies a token the Chinese rules did not claim: IBAN, E.164 phone, US SSN.
/// `groups`: the lengths of the token's groups between separators.
pub(crate) fn token(t: &[u8], groups: &[usize]) -> Option<Verdict> {
    if let Some(rest) = t.strip_prefix(b"+") {
        // E.164: a country code (not 0) and at most 15 digits in all.
        let ok = (8..=15).contains(&rest.len()) && rest[0] != b'0' && checksum::all_digits(rest);
        return ok.then(|| Verdict::new(Entity::Phone, Confidence::Likely));
    }
    if checksum::iban_shape(t) && t[2..4].iter().all(u8::is_ascii_digit) {
        return Some(if checksum::iban_check(t) {
            Verdict::new(Entity::Iban, Confidence::High)
        } else {
            Verdict::failed(Entity::Iban).with_context()
        });
    }
    if t.len() == 9 && checksum::all_digits(t) {
        let area = ssn_part(&t[..3]);
        let valid = area != 0 && area != 666 && area < 900 && ssn_part(&t[3..5]) != 0 && ssn_part(&t[5..]) != 0;
        if !valid {
            return None;
        }
        // Written 123-45-6789; nine bare digits (or other groupings, as in an ISBN) only with a
        // context word.
        let v = Verdict::new(Entity::UsSsn, Confidence::Likely);
        return Some(if groups == [3, 2, 4] { v } else { v.with_context() });
    }
    None
}

fn ssn_part(d: &[u8]) -> u32 {
    d.iter().fold(0, |n, &b| n * 10 + u32::from(b - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dotted quads `Ipv4Addr`'s parser reads, and no others: every number of up to four
    /// digits (leading zeros included) at each of the four places, and random strings of digits
    /// and dots.
    #[test]
    fn dotted_quad_as_the_parser_reads() {
        use rand_chacha::rand_core::{Rng, SeedableRng};
        let parses = |s: &str| s.parse::<std::net::Ipv4Addr>().is_ok();
        let mut numbers: Vec<String> = (0..10_000).map(|n| n.to_string()).collect();
        numbers.extend((0..1000).map(|n| format!("{n:03}")));
        numbers.extend((0..100).map(|n| format!("{n:02}")));
        numbers.extend(["", "00", "0000", "-1", "+1", " 1", "1a"].map(String::from));
        let mut accepted = 0;
        for place in 0..4 {
            for n in &numbers {
                let mut parts = ["1", "22", "255", "0"];
                parts[place] = n;
                let s = parts.join(".");
                assert_eq!(dotted_quad(s.as_bytes()), parses(&s), "{s}");
                accepted += usize::from(parses(&s));
            }
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(25);
        let alphabet = b"0123456789...";
        for _ in 0..200_000 {
            let len = 1 + rng.next_u32() as usize % 16;
            let s: String = (0..len).map(|_| char::from(alphabet[rng.next_u32() as usize % alphabet.len()])).collect();
            assert_eq!(dotted_quad(s.as_bytes()), parses(&s), "{s}");
            accepted += usize::from(parses(&s));
        }
        assert!(accepted > 1000, "{accepted} accepted");
    }

    #[test]
    fn addresses_and_numbers() {
        assert!(ipv4("host 192.168.1.20 up", 5, 17).is_some());
        assert!(ipv4("v1.2.3.4", 1, 8).is_none());
        assert!(ipv4("999.1.1.1", 0, 9).is_none());
        let t = "addr 2001:db8::8a2e:370:7334 ok";
        assert!(ipv6(t, 5, 28).is_some());
        assert!(ipv6("at 12:30:45", 3, 11).is_none());
        assert!(token(b"+442079460958", &[13]).is_some());
        assert!(token(b"078051120", &[3, 2, 4]).is_some());
        assert!(token(b"666051120", &[3, 2, 4]).is_none());
        assert!(token(b"711112345", &[1, 3, 5]).is_some_and(|v| v.needs_context), "ISBN 978-7-111-12345-6");
    }
}
