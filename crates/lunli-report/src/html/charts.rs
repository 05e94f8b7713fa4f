//! Inline SVG charts: control statuses as stacked bars, fairness estimates with their confidence
//! intervals, data-quality dimensions, and coverage bars.

use lunli_governance::assessment::ControlStatus;
use lunli_norms::Languages;
use maud::{Markup, html};

use super::page::Page;
use crate::audit::{DimensionResult, Estimate};
use crate::model::{AssessmentSection, Progress};

/// The order and colours of control statuses in bars and legends.
const STATUS_COLOURS: [(ControlStatus, &str); 5] = [
    (ControlStatus::Met, "#2e7d32"),
    (ControlStatus::NotApplicable, "#8d99a6"),
    (ControlStatus::InProgress, "#f0a202"),
    (ControlStatus::NotStarted, "#cfd6dd"),
    (ControlStatus::NotMet, "#c62828"),
];

pub(crate) fn legend(page: &Page) -> Markup {
    html! {
        div class="legend" {
            @for (status, colour) in STATUS_COLOURS {
                span { i style={ "background:" (colour) } {} (page.t(&status.name())) }
            }
        }
    }
}

/// A horizontal stacked bar of control statuses, `width` × 14 px.
pub(crate) fn status_bar(counts: &[(&str, usize)], width: f64) -> Markup {
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    let mut x = 0.0;
    let mut parts = Vec::new();
    for (status, colour) in STATUS_COLOURS {
        let status = status.as_str();
        let n = counts.iter().find(|(s, _)| *s == status).map(|(_, n)| *n).unwrap_or(0);
        if n == 0 || total == 0 {
            continue;
        }
        let w = width * n as f64 / total as f64;
        parts.push((status, colour, n, x, w));
        x += w;
    }
    html! {
        svg width=(width) height="14" viewBox={ "0 0 " (width) " 14" } role="img" {
            @if total == 0 { rect x="0" y="0" width=(width) height="14" fill="#eef2f5" {} }
            @for (status, colour, n, x, w) in parts {
                rect x=(format!("{x:.2}")) y="0" width=(format!("{w:.2}")) height="14" fill=(colour) {
                    title { (status) ": " (n) }
                }
            }
        }
    }
}

/// How many of `progress`'s controls are in each status.
pub(crate) fn progress_counts<'a>(progress: &Progress, a: &'a AssessmentSection) -> Vec<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for id in &progress.controls {
        if let Some(row) = a.controls.iter().find(|c| &c.id == id) {
            match counts.iter_mut().find(|(s, _)| *s == row.status.id) {
                Some((_, n)) => *n += 1,
                None => counts.push((row.status.id.as_str(), 1)),
            }
        }
    }
    counts
}

/// The fairness chart: each group's estimate as a dot with its confidence interval as a
/// whisker, on a 0–1 scale (Art. 13: disparities must be visible, with their uncertainty); a
/// policy's `limit` as a dashed red line.
pub(crate) fn estimate_chart(rows: &[(String, Option<Estimate>, bool)], label: &str, limit: Option<f64>) -> Markup {
    let longest = rows.iter().map(|(g, _, _)| g.chars().count()).max().unwrap_or(0) as f64;
    let (left, width, row_h) = ((longest * 6.5 + 20.0).clamp(90.0, 260.0), 420.0, 22.0);
    let height = row_h * rows.len() as f64 + 30.0;
    let total = left + width + 70.0;
    let f1 = |v: f64| format!("{v:.1}");
    html! {
        svg width=(total) height=(height) viewBox={ "0 0 " (total) " " (height) } role="img" aria-label=(label) font-size="11" {
            @for tick in 0..=5 {
                @let v = tick as f64 / 5.0;
                @let x = left + v * width;
                line x1=(x) y1="4" x2=(x) y2=(height - 22.0) stroke="#e3e7eb" {}
                text x=(x) y=(height - 8.0) text-anchor="middle" fill="#5b6570" { (format!("{v:.1}")) }
            }
            @if let Some(limit) = limit {
                @let x = f1(left + limit.clamp(0.0, 1.0) * width);
                line class="limit" x1=(x) y1="4" x2=(x) y2=(height - 22.0) stroke="#c62828" stroke-dasharray="4 3" {}
            }
            @for (i, (group, estimate, small)) in rows.iter().enumerate() {
                @let y = 14.0 + i as f64 * row_h;
                text x=(left - 8.0) y=(y + 4.0) text-anchor="end" { (group) @if *small { " *" } }
                @if let Some(e) = estimate {
                    @if let Some([lo, hi]) = e.interval {
                        @let (x1, x2) = (left + lo.clamp(0.0, 1.0) * width, left + hi.clamp(0.0, 1.0) * width);
                        line x1=(f1(x1)) y1=(y) x2=(f1(x2)) y2=(y) stroke="#1f4e79" stroke-width="2" {}
                        line x1=(f1(x1)) y1=(y - 4.0) x2=(f1(x1)) y2=(y + 4.0) stroke="#1f4e79" {}
                        line x1=(f1(x2)) y1=(y - 4.0) x2=(f1(x2)) y2=(y + 4.0) stroke="#1f4e79" {}
                    }
                    circle cx=(f1(left + e.value.clamp(0.0, 1.0) * width)) cy=(y) r="4" fill="#1f4e79" {}
                    text x=(left + width + 8.0) y=(y + 4.0) fill="#1b1f24" { (format!("{:.3}", e.value)) }
                }
            }
        }
    }
}

/// Signed values as horizontal bars from a zero line (blue right, red left), scaled to the
/// largest magnitude, each with its confidence interval as a whisker when it has one: permutation
/// importances and per-row attributions (Art. 12: what the model's decisions rest on).
pub(crate) fn signed_bar_chart(rows: &[(String, f64, Option<[f64; 2]>)], label: &str) -> Markup {
    let longest = rows.iter().map(|(g, _, _)| g.chars().count()).max().unwrap_or(0) as f64;
    let (left, width, row_h) = ((longest * 6.5 + 20.0).clamp(90.0, 320.0), 420.0, 20.0);
    let height = row_h * rows.len() as f64 + 10.0;
    let total = left + width + 80.0;
    let magnitude = rows
        .iter()
        .flat_map(|(_, v, i)| std::iter::once(v.abs()).chain(i.iter().flat_map(|[a, b]| [a.abs(), b.abs()])))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-12);
    let any_negative = rows.iter().any(|(_, v, i)| *v < 0.0 || i.is_some_and(|[a, _]| a < 0.0));
    let zero = if any_negative { left + width / 2.0 } else { left };
    let scale = if any_negative { width / 2.0 / magnitude } else { width / magnitude };
    let x = |v: f64| format!("{:.1}", zero + v.clamp(-magnitude, magnitude) * scale);
    html! {
        svg width=(total) height=(height) viewBox={ "0 0 " (total) " " (height) } role="img" aria-label=(label) font-size="11" {
            line x1=(format!("{zero:.1}")) y1="2" x2=(format!("{zero:.1}")) y2=(height - 4.0) stroke="#5b6570" {}
            @for (i, (name, value, interval)) in rows.iter().enumerate() {
                @let y = 4.0 + i as f64 * row_h;
                @let (a, b) = if *value >= 0.0 { (0.0, *value) } else { (*value, 0.0) };
                text x=(left - 8.0) y=(y + 11.0) text-anchor="end" { (name) }
                rect x=(x(a)) y=(y) width=(format!("{:.1}", (b - a).min(2.0 * magnitude) * scale)) height="12"
                    fill=(if *value >= 0.0 { "#1f4e79" } else { "#c62828" }) {}
                @if let Some([lo, hi]) = interval {
                    line x1=(x(*lo)) y1=(y + 6.0) x2=(x(*hi)) y2=(y + 6.0) stroke="#1b1f24" {}
                    line x1=(x(*lo)) y1=(y + 2.0) x2=(x(*lo)) y2=(y + 10.0) stroke="#1b1f24" {}
                    line x1=(x(*hi)) y1=(y + 2.0) x2=(x(*hi)) y2=(y + 10.0) stroke="#1b1f24" {}
                }
                text x=(left + width + 8.0) y=(y + 11.0) fill="#1b1f24" { (format!("{value:+.4}")) }
            }
        }
    }
}

/// An estimate with its interval, or a dash.
pub(crate) fn estimate_cell(e: Option<&Estimate>) -> Markup {
    match e {
        Some(Estimate { value, interval: Some([lo, hi]) }) => {
            html! { (format!("{value:.3}")) " " span class="muted" { (format!("[{lo:.3}, {hi:.3}]")) } }
        }
        Some(Estimate { value, interval: None }) => html! { (format!("{value:.3}")) },
        None => html! { "—" },
    }
}

/// Art. 11's data-quality dimensions: per dimension, the checks that passed in green and those
/// that found a problem in red.
pub(crate) fn dimension_chart(page: &Page, dimensions: &[DimensionResult]) -> Markup {
    let max = dimensions.iter().map(|d| d.checks).max().unwrap_or(1).max(1) as f64;
    let (left, width) = (150.0, 380.0);
    let height = 22.0 * dimensions.len() as f64 + 8.0;
    let total = left + width + 120.0;
    let f1 = |v: f64| format!("{v:.1}");
    html! {
        svg width=(total) height=(height) viewBox={ "0 0 " (total) " " (height) } role="img" font-size="11" {
            @for (i, d) in dimensions.iter().enumerate() {
                @let y = 4.0 + i as f64 * 22.0;
                @let ok = d.checks.saturating_sub(d.findings) as f64;
                @let (w_ok, w_bad) = (width * ok / max, width * d.findings as f64 / max);
                text x=(left - 8.0) y=(y + 11.0) text-anchor="end" {
                    @match page.lang {
                        Languages::Zh => (d.name.zh),
                        Languages::En => (d.name.en),
                        Languages::Both => { (d.name.zh) " " (d.name.en) }
                    }
                }
                rect x=(left) y=(y) width=(f1(w_ok)) height="14" fill="#2e7d32" {}
                rect x=(f1(left + w_ok)) y=(y) width=(f1(w_bad)) height="14" fill="#c62828" {}
                text x=(f1(left + w_ok + w_bad + 6.0)) y=(y + 11.0) fill="#1b1f24" { (d.findings) " / " (d.checks) }
            }
        }
    }
}

/// A bar `share` of 200 px filled, for coverage.
pub(crate) fn share_bar(share: f64) -> Markup {
    html! {
        svg width="200" height="12" viewBox="0 0 200 12" {
            rect width="200" height="12" fill="#eef2f5" {}
            rect width=(format!("{:.1}", 200.0 * share)) height="12" fill="#2e7d32" {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_bar_is_proportional() {
        let svg = status_bar(&[("met", 3), ("not-started", 1)], 200.0).into_string();
        assert!(svg.contains("width=\"150.00\"") && svg.contains("width=\"50.00\""), "{svg}");
    }

    #[test]
    fn group_names_in_a_chart_are_escaped() {
        let e = Estimate { value: 0.5, interval: Some([0.4, 0.6]) };
        let svg = estimate_chart(&[("<b>&".into(), Some(e), true)], "a \"label\"", Some(0.8)).into_string();
        assert!(svg.contains("stroke-dasharray"), "the limit is drawn: {svg}");
        assert!(svg.contains("&lt;b&gt;&amp; *") && svg.contains("aria-label=\"a &quot;label&quot;\""), "{svg}");
    }
}
