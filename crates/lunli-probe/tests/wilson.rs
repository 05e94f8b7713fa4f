//! Wilson score intervals against statsmodels.

// Tests stop at the first broken expectation.
#![allow(clippy::unwrap_used)]

use lunli_probe::stats::Proportion;

/// `statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05, method="wilson")`, from
/// statsmodels 0.15.0 (Python 3, in a venv; the script is in docs/probes.md).
const STATSMODELS_0_15_0: &[(u64, u64, f64, f64)] = &[
    (0, 1, 0.0, 0.7934506856227627),
    (1, 1, 0.2065493143772374, 1.0),
    (0, 10, 0.0, 0.27753279986288926),
    (10, 10, 0.7224672001371106, 1.0),
    (46, 48, 0.8602434412954455, 0.9884981065106134),
    (1, 20, 0.008881448800795402, 0.2361311934467421),
    (19, 20, 0.7638688065532577, 0.9911185511992044),
    (5, 100, 0.021543679154367966, 0.11175046923191914),
    (95, 100, 0.8882495307680808, 0.9784563208456319),
    (300, 317, 0.9158044191310712, 0.9662511638357103),
    (0, 44, 0.0, 0.0802956037584807),
    (7, 13, 0.29143795714506004, 0.7679393219046169),
];

#[test]
fn wilson_matches_statsmodels() {
    for &(k, n, lo, hi) in STATSMODELS_0_15_0 {
        let p = Proportion::new(k, n);
        let [a, b] = p.interval.unwrap_or([f64::NAN, f64::NAN]);
        assert!(
            (a - lo).abs() < 1e-12 && (b - hi).abs() < 1e-12,
            "{k}/{n}: lunli [{a}, {b}], statsmodels [{lo}, {hi}]"
        );
        assert_eq!(p.rate, Some(k as f64 / n as f64));
    }
}
