//! Keyset pages of the oversight lists — reviews, incidents, alerts — on both stores: paged
//! through to the end, every record the filter selects comes exactly once, in id order, and the
//! last page says there is no next one, also when the list ends exactly on a page boundary.
//!
//! Every test runs on each backend: `sqlite::<test>` and `postgres::<test>` (see `backend`).

use lunli_test_support::backend;
use lunli_test_support::records;

use lunli_governance::Governance;
use lunli_governance::incident::{IncidentStatus, Severity};
use lunli_governance::review::ReviewStatus;
use lunli_governance::service::Page;
use lunli_governance::store::{IncidentFilter, Keyset, ReviewFilter};
use lunli_norms::Catalogue;
use lunli_store::{PostgresStore, SqliteStore};

use backend::Backend;

lunli_test_support::on_every_backend!(
    SqliteStore, PostgresStore:
    review_pages_hold_every_selected_item_once,
    incident_pages_hold_every_selected_incident_once,
    alert_pages_hold_every_alert_of_the_system_once,
    newest_first_lists_sort_ids_as_numbers,
    pending_work_is_counted_by_the_store_as_the_lists_would_count_it,
);

use records::at as t0;

/// The system of the n-th record: three of four are `a`.
fn system(n: usize) -> String {
    if n % 4 == 3 { "b".into() } else { "a".into() }
}

/// Pages through a list `limit` at a time; returns the ids of each page, checking that only the
/// last page has no `next`, and that `next` is the last id of its page.
fn walk<T>(limit: u32, mut read: impl FnMut(u64) -> Page<T>, id: impl Fn(&T) -> u64) -> Vec<Vec<u64>> {
    let mut pages = Vec::new();
    let mut after = 0;
    loop {
        let page = read(after);
        let ids: Vec<u64> = page.items.iter().map(&id).collect();
        assert!(ids.len() <= limit as usize, "a page of {} with limit {limit}", ids.len());
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "not in id order: {ids:?}");
        pages.push(ids.clone());
        match page.next {
            Some(next) => {
                assert_eq!(Some(&next), ids.last(), "next is the last id of its page");
                assert_eq!(ids.len(), limit as usize, "only the last page is short");
                after = next;
            }
            None => return pages,
        }
        assert!(pages.len() < 100, "paging does not end");
    }
}

fn review_pages_hold_every_selected_item_once<S: Backend>() {
    let place = S::place();
    let store = S::open(&place);
    let statuses = [ReviewStatus::Open, ReviewStatus::Claimed, ReviewStatus::Resolved];
    store
        .write(|tx| {
            for n in 0..23 {
                tx.add_review(&records::review(n as u64, &system(n), statuses[n % 3]))?;
            }
            Ok(())
        })
        .expect("queue reviews");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    let all = gov.reviews(None).expect("all");
    assert_eq!(all.len(), 23);

    for (filter, limit) in [
        (ReviewFilter::default(), 5),
        (ReviewFilter::default(), 23),
        (ReviewFilter { system: Some("a".into()), statuses: vec![] }, 4),
        (ReviewFilter { system: None, statuses: vec![ReviewStatus::Open, ReviewStatus::Claimed] }, 3),
        (ReviewFilter { system: Some("a".into()), statuses: vec![ReviewStatus::Resolved] }, 2),
    ] {
        let expected: Vec<u64> = all
            .iter()
            .filter(|i| filter.system.as_ref().is_none_or(|s| *s == i.system))
            .filter(|i| filter.statuses.is_empty() || filter.statuses.contains(&i.status))
            .map(|i| i.id)
            .collect();
        assert!(!expected.is_empty());
        let pages = walk(limit, |after| gov.review_page(&filter, after, limit).expect("page"), |i| i.id);
        assert_eq!(pages.concat(), expected, "{filter:?} by {limit}");
        assert_eq!(pages.len(), expected.len().div_ceil(limit as usize).max(1), "{filter:?} by {limit}");
    }
    // A page after the last id is empty and the end.
    let last = all.last().expect("last").id;
    let end = gov.review_page(&ReviewFilter::default(), last, 5).expect("past the end");
    assert!(end.items.is_empty() && end.next.is_none());
}

fn incident_pages_hold_every_selected_incident_once<S: Backend>() {
    let place = S::place();
    let store = S::open(&place);
    let statuses = [IncidentStatus::Open, IncidentStatus::Acknowledged, IncidentStatus::Resolved];
    store
        .write(|tx| {
            // 20 incidents: the unfiltered list ends exactly on a page boundary of 5.
            for n in 0..20 {
                tx.add_incident(&records::incident(n as u64, &system(n), Severity::High, statuses[n % 3]))?;
            }
            Ok(())
        })
        .expect("open incidents");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    let all = gov.incidents(t0()).expect("all");
    assert_eq!(all.len(), 20);
    let unresolved =
        IncidentFilter { system: None, statuses: vec![IncidentStatus::Open, IncidentStatus::Acknowledged] };
    for (filter, limit) in [
        (IncidentFilter::default(), 5),
        (IncidentFilter { system: Some("b".into()), statuses: vec![] }, 2),
        (unresolved, 4),
    ] {
        let expected: Vec<u64> = all
            .iter()
            .map(|r| &r.incident)
            .filter(|i| filter.system.as_ref().is_none_or(|s| *s == i.system))
            .filter(|i| filter.statuses.is_empty() || filter.statuses.contains(&i.status))
            .map(|i| i.id)
            .collect();
        let pages =
            walk(limit, |after| gov.incident_page(&filter, after, limit, t0()).expect("page"), |r| r.incident.id);
        assert_eq!(pages.concat(), expected, "{filter:?} by {limit}");
        assert_eq!(pages.len(), expected.len().div_ceil(limit as usize), "{filter:?} by {limit}");
    }
}

fn alert_pages_hold_every_alert_of_the_system_once<S: Backend>() {
    let place = S::place();
    let store = S::open(&place);
    store
        .write(|tx| {
            for n in 0..17 {
                tx.add_alert(&records::alert(&system(n)))?;
            }
            Ok(())
        })
        .expect("raise alerts");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    for system in [None, Some("a"), Some("b"), Some("none")] {
        let expected: Vec<u64> = gov.alerts(system).expect("all").iter().map(|a| a.id).collect();
        let pages = walk(3, |after| gov.alert_page(system, after, 3).expect("page"), |a| a.id);
        assert_eq!(pages.concat(), expected, "{system:?}");
    }
    assert_eq!(gov.alerts(Some("none")).expect("none").len(), 0);
    assert_eq!(gov.alerts(None).expect("all").len(), 17);
}

/// The newest-first lists (feedback, the outcome window monitors read) past nine records: ids
/// sort as numbers, not as text.
fn newest_first_lists_sort_ids_as_numbers<S: Backend>() {
    use lunli_governance::incident::{Feedback, FeedbackKind};
    use lunli_governance::monitoring::OutcomeReport;
    let place = S::place();
    let store = S::open(&place);
    store
        .write(|tx| {
            for n in 0..12 {
                let feedback = Feedback {
                    id: 0,
                    system: "a".into(),
                    kind: FeedbackKind::Other,
                    message: format!("m{n}"),
                    decision: None,
                    contact: None,
                    at: t0(),
                };
                tx.add_feedback(&feedback)?;
                let outcome = OutcomeReport {
                    system: "a".into(),
                    decision: Some(format!("d{n}")),
                    groups: Default::default(),
                    selected: Some(true),
                    error: None,
                    at: t0(),
                };
                tx.add_outcome(&outcome)?;
            }
            Ok(())
        })
        .expect("store");
    let first = Keyset { after: 0, limit: 3 };
    let newest = store.read(|tx| tx.feedback(None, first)).expect("feedback");
    assert_eq!(newest.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(), ["m11", "m10", "m9"]);
    let newest = store.read(|tx| tx.feedback(Some("a"), first)).expect("feedback");
    assert_eq!(newest.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(), ["m11", "m10", "m9"]);
    // The next page goes on below the last id of the first, still comparing ids as numbers.
    let after = newest.last().expect("a page").id;
    let older = store.read(|tx| tx.feedback(Some("a"), Keyset { after, limit: 3 })).expect("feedback");
    assert_eq!(older.iter().map(|f| f.message.as_str()).collect::<Vec<_>>(), ["m8", "m7", "m6"]);
    let window = store.read(|tx| tx.recent_outcomes("a", 3)).expect("outcomes");
    assert_eq!(window.iter().filter_map(|o| o.decision.as_deref()).collect::<Vec<_>>(), ["d9", "d10", "d11"]);
}

/// Not a test: how long a page takes at the start and deep in a long list, against reading the
/// whole list (what `GET /v1/reviews` did before paging). Run with
/// `cargo test -p lunli-store --release --test paging -- --ignored --nocapture page_cost`.
fn page_cost<S: Backend>() {
    const ITEMS: u64 = 50_000;
    let place = S::place();
    let store = S::open(&place);
    let statuses = [ReviewStatus::Open, ReviewStatus::Claimed, ReviewStatus::Resolved];
    store
        .write(|tx| {
            for n in 0..ITEMS {
                tx.add_review(&records::review(n, "a", statuses[(n % 3) as usize]))?;
            }
            Ok(())
        })
        .expect("queue");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    let median = |f: &dyn Fn() -> usize| {
        let mut times: Vec<std::time::Duration> = (0..15)
            .map(|_| {
                let started = std::time::Instant::now();
                assert!(f() > 0);
                started.elapsed()
            })
            .collect();
        times.sort_unstable();
        times[times.len() / 2]
    };
    let pending = ReviewFilter { system: None, statuses: vec![ReviewStatus::Open, ReviewStatus::Claimed] };
    let all = ReviewFilter::default();
    let rows = [
        ("first page of 50", median(&|| gov.review_page(&all, 0, 50).expect("page").items.len())),
        ("page of 50 after id 49 900", median(&|| gov.review_page(&all, ITEMS - 100, 50).expect("page").items.len())),
        ("pending, after id 49 900", median(&|| gov.review_page(&pending, ITEMS - 100, 50).expect("page").items.len())),
        ("whole list (before paging)", median(&|| gov.reviews(None).expect("all").len())),
    ];
    for (what, time) in rows {
        println!(
            "{:<10} {ITEMS} reviews, {what:<28} median {:>9.3} ms",
            std::any::type_name::<S>().rsplit("::").next().unwrap_or("?"),
            time.as_secs_f64() * 1e3
        );
    }
}

#[test]
#[ignore = "a speed figure, not a test"]
fn page_cost_sqlite() {
    page_cost::<SqliteStore>();
}

#[test]
#[ignore = "a speed figure, not a test"]
fn page_cost_postgres() {
    page_cost::<PostgresStore>();
}

/// The dashboard's inventory counts what waits for people in SQL (issue 15, item 5); the counts
/// must agree with reading the lists, overdue included, at any moment.
fn pending_work_is_counted_by_the_store_as_the_lists_would_count_it<S: Backend>() {
    let place = S::place();
    let store = S::open(&place);
    let reviews = [ReviewStatus::Open, ReviewStatus::Claimed, ReviewStatus::Resolved];
    let incidents = [IncidentStatus::Open, IncidentStatus::Acknowledged, IncidentStatus::Resolved];
    let severities = [Severity::Critical, Severity::High, Severity::Low];
    store
        .write(|tx| {
            for n in 0..30 {
                tx.add_review(&records::review(n as u64, &system(n), reviews[n % 3]))?;
                tx.add_incident(&records::incident(n as u64, &system(n), severities[n % 3], incidents[(n / 3) % 3]))?;
            }
            Ok(())
        })
        .expect("records");
    let catalogue = Catalogue::bundled().expect("catalogue");
    let gov = Governance::new(&catalogue, &store);
    // Reviews change status after they are queued: claimed, resolved, and (on a store that
    // allows it) back to open; the counts follow.
    store
        .write(|tx| {
            for mut item in tx.reviews(None)? {
                item.status = match (item.id % 4, item.status) {
                    (0, ReviewStatus::Open) => ReviewStatus::Claimed,
                    (1, _) => ReviewStatus::Resolved,
                    (2, ReviewStatus::Resolved) => ReviewStatus::Open,
                    (_, status) => status,
                };
                tx.put_review(&item)?;
            }
            Ok(())
        })
        .expect("reviews change status");
    // Before any deadline, 20 minutes on (critical incidents past acknowledgement), and a month on.
    for minutes in [0, 20, 90, 60 * 24 * 40] {
        let now = t0().checked_add(jiff::SignedDuration::from_mins(minutes)).expect("time");
        let counted = gov.pending_work(now).expect("counts");
        for name in ["a", "b"] {
            let got = counted.iter().find(|w| w.system == name).expect("a system with pending work");
            let reviews = gov.reviews(None).expect("reviews");
            let open_reviews =
                reviews.iter().filter(|r| r.system == name && r.status != ReviewStatus::Resolved).count() as u64;
            let rows = gov.incidents(now).expect("incidents");
            let unresolved: Vec<_> = rows
                .iter()
                .filter(|r| r.incident.system == name && r.incident.status != IncidentStatus::Resolved)
                .collect();
            let overdue = unresolved.iter().filter(|r| r.overdue.is_some()).count() as u64;
            assert_eq!(
                (got.reviews, got.incidents, got.overdue_incidents),
                (open_reviews, unresolved.len() as u64, overdue),
                "{name} at +{minutes} min"
            );
            if minutes == 0 {
                assert_eq!(overdue, 0);
            }
            if minutes == 60 * 24 * 40 {
                assert_eq!(overdue, unresolved.len() as u64);
            }
        }
    }
}
