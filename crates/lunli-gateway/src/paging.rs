//! Paging of the lists that grow without bound — reviews, incidents, alerts — in the API and the
//! dashboard: `?limit=N` (default [`DEFAULT_LIMIT`], at most [`MAX_LIMIT`]) and `?after=<cursor>`,
//! where the cursor is the `next` a previous page returned. Pages are keyset pages in the store
//! (`id > after … LIMIT`), so a page costs the same on the first and the thousandth.
//!
//! A cursor is opaque to clients: it names its list and the last id of the page, hex-encoded,
//! so a cursor of one list given to another, or an edited one, is refused rather than misread.

use crate::api::ApiError;

/// Items a page holds when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 50;
/// The most a page may hold.
pub const MAX_LIMIT: u32 = 500;

/// A list that is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Reviews,
    Incidents,
    Alerts,
    /// Newest first: its cursors continue below the id they hold.
    Feedback,
}

impl List {
    /// The list's name: the key of its items in a response body, and its cursors' tag.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reviews => "reviews",
            Self::Incidents => "incidents",
            Self::Alerts => "alerts",
            Self::Feedback => "feedback",
        }
    }

    /// The cursor for the page after the item with `id`.
    pub fn cursor(self, id: u64) -> String {
        hex::encode(format!("{}:{id}", self.name()))
    }

    /// The id a cursor of this list continues after; no cursor (or an empty one) is the start.
    pub fn after(self, cursor: Option<&str>) -> Result<u64, ApiError> {
        let Some(cursor) = cursor.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(0) };
        let id = hex::decode(cursor).ok().and_then(|bytes| String::from_utf8(bytes).ok()).and_then(|text| {
            text.strip_prefix(self.name()).and_then(|rest| rest.strip_prefix(':')?.parse::<u64>().ok())
        });
        id.ok_or_else(|| {
            ApiError::BadRequest(format!(
                "`after` is not a cursor of the {} list: pass the `next` of a previous page unchanged, or leave `after` out for the first page",
                self.name()
            ))
        })
    }
}

/// The page size a request asks for.
pub fn limit(raw: Option<&str>) -> Result<u32, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(DEFAULT_LIMIT) };
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::BadRequest(format!(
            "`limit` must be a whole number from 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT}), not `{raw}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ApiError) -> String {
        match e {
            ApiError::BadRequest(m) => m,
            other => panic!("not a bad request: {other:?}"),
        }
    }

    #[test]
    fn a_cursor_comes_back_to_its_id_and_only_in_its_own_list() {
        let cursor = List::Reviews.cursor(42);
        assert!(!cursor.contains("42"), "opaque: {cursor}");
        assert_eq!(List::Reviews.after(Some(&cursor)).expect("own list"), 42);
        assert_eq!(List::Reviews.after(None).expect("start"), 0);
        assert_eq!(List::Reviews.after(Some("")).expect("start"), 0);
        let m = message(List::Incidents.after(Some(&cursor)).expect_err("another list's cursor"));
        assert!(m.contains("`after`") && m.contains("incidents"), "{m}");
        for bad in ["zz", "42", &hex::encode("reviews:"), &hex::encode("reviews:-1"), &hex::encode("reviews42")] {
            assert!(List::Reviews.after(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_limit_out_of_range_names_the_parameter_and_the_range() {
        assert_eq!(limit(None).expect("default"), DEFAULT_LIMIT);
        assert_eq!(limit(Some("500")).expect("max"), 500);
        assert_eq!(limit(Some("1")).expect("min"), 1);
        for bad in ["0", "501", "-3", "ten", "4294967296"] {
            let m = message(limit(Some(bad)).expect_err(bad));
            assert!(m.contains("`limit`") && m.contains("1 to 500"), "{m}");
        }
    }
}
