//! Masked samples: enough of a value to recognise its kind and tell two apart in a report,
//! never the whole value. Every report, log line and error message shows values only through
//! [`mask`].

use crate::entity::Entity;

/// The value with most of it hidden: an email keeps its first character and domain
/// (`l***@example.com`), a name its surname (`王*`), an address its first characters, a date
/// of birth its year; identifiers keep a few leading and trailing characters and their
/// separators (`11010519491231002X` → `110************02X`).
pub fn mask(entity: Entity, value: &str) -> String {
    match entity {
        Entity::Email => match value.split_once('@') {
            Some((local, domain)) => {
                let first = local.chars().next().map(String::from).unwrap_or_default();
                format!("{first}***@{domain}")
            }
            None => stars(value, 1, 0),
        },
        Entity::Name => stars(value, 1, 0),
        Entity::Address => {
            let n = value.chars().count();
            let keep = (n / 3).min(6);
            let head: String = value.chars().take(keep).collect();
            format!("{head}{}", "*".repeat(n - keep))
        }
        Entity::DateOfBirth => {
            let year_first = value.find(|c: char| !c.is_ascii_digit()).is_some_and(|i| i == 4);
            value
                .char_indices()
                .map(|(i, c)| if c.is_ascii_digit() && !(year_first && i < 4) { '*' } else { c })
                .collect()
        }
        _ => {
            let n = value.chars().filter(|c| c.is_ascii_alphanumeric()).count();
            let (head, tail) = match n {
                0..=4 => (0, 0),
                5..=7 => (1, 1),
                8..=11 => (3, 2),
                _ => (3, 4.min(n / 5)),
            };
            stars(value, head, tail)
        }
    }
}

/// Keeps `head` leading and `tail` trailing letters or digits (for non-ASCII text, characters)
/// and replaces the others with `*`; separators stay.
fn stars(value: &str, head: usize, tail: usize) -> String {
    let significant = |c: char| c.is_alphanumeric();
    let n = value.chars().filter(|&c| significant(c)).count();
    let mut seen = 0;
    value
        .chars()
        .map(|c| {
            if !significant(c) {
                return c;
            }
            seen += 1;
            if seen <= head || seen > n.saturating_sub(tail) { c } else { '*' }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_the_whole_value() {
        assert_eq!(mask(Entity::ResidentId, "11010519491231002X"), "110************02X");
        assert_eq!(mask(Entity::Mobile, "138-1234-5678"), "138-****-**78");
        assert_eq!(mask(Entity::Email, "li.wei@example.com"), "l***@example.com");
        assert_eq!(mask(Entity::Name, "王芳"), "王*");
        assert_eq!(mask(Entity::DateOfBirth, "1990-03-07"), "1990-**-**");
        assert_eq!(mask(Entity::Ipv4, "10.0.0.1"), "1*.*.*.1");
        assert_eq!(mask(Entity::Address, "北京市朝阳区建国路88号"), "北京市朝********");
        for (e, v) in [
            (Entity::BankCard, "6222021234567890128"),
            (Entity::Passport, "E12345678"),
            (Entity::Iban, "GB82WEST12345698765432"),
        ] {
            let m = mask(e, v);
            assert_ne!(m, v);
            assert!(m.chars().filter(|&c| c == '*').count() * 5 >= v.len() * 2, "{m}");
        }
    }
}
