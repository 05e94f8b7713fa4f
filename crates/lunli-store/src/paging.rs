//! Keyset pages of the oversight lists (reviews, incidents, alerts), the same query on both
//! backends: `id > after`, the indexed `system` and `status` columns when filtered, in id order,
//! `LIMIT` — never an offset, never the whole table read to slice in memory.

use lunli_governance::GovernanceError;
use lunli_governance::store::Keyset;

/// What one page asks for, as SQL parameters in the order [`Page::sql`] numbers them.
pub(crate) struct Page<'a> {
    pub table: &'static str,
    pub after: i64,
    pub system: Option<&'a str>,
    pub statuses: Vec<&'static str>,
    pub limit: i64,
}

impl<'a> Page<'a> {
    pub fn new(
        table: &'static str,
        system: Option<&'a str>,
        statuses: Vec<&'static str>,
        page: Keyset,
    ) -> Result<Self, GovernanceError> {
        Ok(Self { table, after: stored_id(page.after)?, system, statuses, limit: i64::from(page.limit) })
    }

    /// The query, with the first column the id as text (for error messages) and the second the
    /// record; `placeholder(n)` writes the backend's n-th parameter (1-based), `id_text` the id
    /// cast to text. The text column is named `id_text`: were it named `id`, PostgreSQL would sort
    /// by it (`ORDER BY` prefers an output column), putting 10 before 2.
    pub fn sql(&self, id_text: &str, placeholder: impl Fn(usize) -> String) -> String {
        let mut n = 1;
        let mut next = || {
            let p = placeholder(n);
            n += 1;
            p
        };
        let mut sql = format!("SELECT {id_text} AS id_text, record FROM {} WHERE id > {}", self.table, next());
        if self.system.is_some() {
            sql.push_str(&format!(" AND system = {}", next()));
        }
        if !self.statuses.is_empty() {
            let list: Vec<String> = self.statuses.iter().map(|_| next()).collect();
            sql.push_str(&format!(" AND status IN ({})", list.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", next()));
        sql
    }
}

/// The id a newest-first page stays below: the previous page's last id, or no bound on the
/// first page (`after` 0).
pub(crate) fn newest_first_bound(page: Keyset) -> Result<i64, GovernanceError> {
    match page.after {
        0 => Ok(i64::MAX),
        after => stored_id(after),
    }
}

/// A page's `after` as the stores' signed id column holds it.
fn stored_id(after: u64) -> Result<i64, GovernanceError> {
    i64::try_from(after).map_err(|_| GovernanceError::Invalid {
        field: "after".into(),
        reason: format!("{after} is beyond the largest id a store holds"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_in_the_order_they_are_bound() {
        let page =
            Page::new("reviews", Some("s"), vec!["open", "claimed"], Keyset { after: 7, limit: 3 }).expect("page");
        assert_eq!(
            page.sql("id::text", |n| format!("${n}")),
            "SELECT id::text AS id_text, record FROM reviews WHERE id > $1 AND system = $2 AND status IN ($3, $4) \
             ORDER BY id LIMIT $5"
        );
        let all = Page::new("alerts", None, vec![], Keyset::ALL).expect("page");
        assert_eq!(
            all.sql("id", |n| format!("?{n}")),
            "SELECT id AS id_text, record FROM alerts WHERE id > ?1 ORDER BY id LIMIT ?2"
        );
        assert!(Page::new("alerts", None, vec![], Keyset { after: u64::MAX, limit: 1 }).is_err());
    }
}
