//! Decisions over time, from the ledger: counts per hour (last 24 hours) or per day (last 14
//! days) by outcome, drawn as a small stacked-bar SVG inline in the page.

use jiff::{SignedDuration, Timestamp};
use lunli_ledger::Entry;
use lunli_norms::Lang;
use maud::{Markup, html};

/// One bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub start: Timestamp,
    pub allow: u32,
    pub human_review: u32,
    pub deny: u32,
}

impl Bucket {
    pub fn total(&self) -> u32 {
        self.allow + self.human_review + self.deny
    }
}

/// Bars of equal width in time, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Series {
    pub hourly: bool,
    pub buckets: Vec<Bucket>,
}

/// The outcome and time of every decision on `system` among `entries`.
pub fn decisions(entries: &[Entry], system: &str) -> Vec<(Timestamp, String)> {
    let subject = format!("system:{system}");
    entries
        .iter()
        .filter(|e| e.action == "decision" && e.subject == subject)
        .filter_map(|e| {
            let at = Timestamp::from_millisecond(e.time.unix_millis()).ok()?;
            let outcome = e.payload.get("outcome")?.as_str()?.to_string();
            Some((at, outcome))
        })
        .collect()
}

/// Counts decisions into hourly bars when every one is from the last 24 hours, else daily bars
/// for the last 14 days (UTC); older decisions fall outside the chart.
pub fn bucket(decisions: &[(Timestamp, String)], now: Timestamp) -> Series {
    let day_ago = now - SignedDuration::from_hours(24);
    let hourly = decisions.iter().all(|(at, _)| *at > day_ago);
    let (count, step) = if hourly { (24, SignedDuration::from_hours(1)) } else { (14, SignedDuration::from_hours(24)) };
    // UTC hours and days are whole multiples of the step since the epoch.
    let secs = now.as_second();
    let last_start = Timestamp::from_second(secs - secs.rem_euclid(step.as_secs())).unwrap_or(now);
    let first_start = last_start - step * (count - 1);
    let mut buckets: Vec<Bucket> =
        (0..count).map(|i| Bucket { start: first_start + step * i, allow: 0, human_review: 0, deny: 0 }).collect();
    for (at, outcome) in decisions {
        if *at < first_start || *at > now {
            continue;
        }
        let offset = at.duration_since(first_start).as_secs() / step.as_secs();
        let Some(bar) = usize::try_from(offset).ok().and_then(|i| buckets.get_mut(i)) else { continue };
        match outcome.as_str() {
            "allow" => bar.allow += 1,
            "deny" => bar.deny += 1,
            _ => bar.human_review += 1,
        }
    }
    Series { hourly, buckets }
}

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 170;
const TOP: u32 = 14;
/// Room for the count labels.
const LEFT: u32 = 24;
const BOTTOM: u32 = 22;

fn label(t: Timestamp, hourly: bool) -> String {
    if hourly { t.strftime("%H:00").to_string() } else { t.strftime("%m-%d").to_string() }
}

/// The chart as inline SVG, with a text alternative for screen readers.
pub fn svg(series: &Series, lang: Lang) -> Markup {
    let max = series.buckets.iter().map(Bucket::total).max().unwrap_or(0).max(1);
    let n = u32::try_from(series.buckets.len()).unwrap_or(1).max(1);
    let slot = (WIDTH - LEFT) / n;
    let bar = slot.saturating_sub(4).max(2);
    let plot = HEIGHT - TOP - BOTTOM;
    let total: u32 = series.buckets.iter().map(Bucket::total).sum();
    let summary = match (lang, series.hourly) {
        (Lang::Zh, true) => format!("过去 24 小时的决定，共 {total} 个，按小时统计"),
        (Lang::Zh, false) => format!("过去 14 天的决定，共 {total} 个，按天统计"),
        (Lang::En, true) => format!("Decisions over the last 24 hours, by hour (UTC): {total}"),
        (Lang::En, false) => format!("Decisions over the last 14 days, by day (UTC): {total}"),
    };
    let height = |count: u32| count * plot / max;
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(summary) {
            title { (summary) }
            line.axis x1=(LEFT) x2=(WIDTH) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
            text.tick x="0" y="10" { (max) }
            text.tick x="0" y=(HEIGHT - BOTTOM - 2) { "0" }
            @for (i, b) in series.buckets.iter().enumerate() {
                @let x = LEFT + u32::try_from(i).unwrap_or(0) * slot + 2;
                @let base = HEIGHT - BOTTOM;
                @let (a, r, d) = (height(b.allow), height(b.human_review), height(b.deny));
                g {
                    title { (format!("{} — allow {}, human review {}, deny {}", label(b.start, series.hourly), b.allow, b.human_review, b.deny)) }
                    rect.allow x=(x) y=(base - a) width=(bar) height=(a) {}
                    rect.review x=(x) y=(base - a - r) width=(bar) height=(r) {}
                    rect.deny x=(x) y=(base - a - r - d) width=(bar) height=(d) {}
                }
                @if i % 4 == 0 || i + 1 == series.buckets.len() {
                    text.tick x=(x) y=(HEIGHT - 6) { (label(b.start, series.hourly)) }
                }
            }
        }
        p.caption { (summary) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("time")
    }

    #[test]
    fn recent_decisions_are_counted_by_hour_and_outcome() {
        let now = at("2026-11-27T08:30:00Z");
        let d = vec![
            (at("2026-11-27T08:01:00Z"), "allow".to_string()),
            (at("2026-11-27T08:29:00Z"), "deny".to_string()),
            (at("2026-11-27T07:59:59Z"), "human_review".to_string()),
            (at("2026-11-26T09:00:00Z"), "allow".to_string()),
        ];
        let s = bucket(&d, now);
        assert!(s.hourly);
        assert_eq!(s.buckets.len(), 24);
        let last = &s.buckets[23];
        assert_eq!(last.start, at("2026-11-27T08:00:00Z"));
        assert_eq!((last.allow, last.human_review, last.deny), (1, 0, 1));
        assert_eq!(s.buckets[22].human_review, 1);
        assert_eq!(s.buckets[0].start, at("2026-11-26T09:00:00Z"));
        assert_eq!(s.buckets[0].allow, 1);
    }

    #[test]
    fn older_decisions_switch_to_days_and_drop_beyond_two_weeks() {
        let now = at("2026-11-27T08:30:00Z");
        let d = vec![
            (at("2026-11-27T01:00:00Z"), "allow".to_string()),
            (at("2026-11-20T23:59:00Z"), "deny".to_string()),
            (at("2026-11-01T00:00:00Z"), "allow".to_string()),
        ];
        let s = bucket(&d, now);
        assert!(!s.hourly);
        assert_eq!(s.buckets.len(), 14);
        assert_eq!(s.buckets[13].start, at("2026-11-27T00:00:00Z"));
        assert_eq!(s.buckets[13].allow, 1);
        assert_eq!(s.buckets[6].start, at("2026-11-20T00:00:00Z"));
        assert_eq!(s.buckets[6].deny, 1);
        assert_eq!(s.buckets.iter().map(Bucket::total).sum::<u32>(), 2);
    }

    #[test]
    fn the_svg_names_its_total() {
        let now = at("2026-11-27T08:30:00Z");
        let s = bucket(&[(at("2026-11-27T08:01:00Z"), "allow".to_string())], now);
        let text = svg(&s, Lang::En).into_string();
        assert!(text.contains("Decisions over the last 24 hours, by hour (UTC): 1"), "{text}");
        assert!(text.contains("<rect class=\"allow\""), "{text}");
    }
}
