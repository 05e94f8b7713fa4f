//! Proportions with Wilson score confidence intervals (Wilson 1927), as statsmodels'
//! `proportion_confint(count, nobs, alpha=0.05, method="wilson")` computes them.

use serde::Serialize;

/// The standard normal quantile for a two-sided 95 % interval, `norm.isf(0.025)`.
const Z95: f64 = 1.959_963_984_540_054;

/// `k` of `n`, the rate and its 95 % Wilson interval. With `n = 0` there is no rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    pub k: u64,
    pub n: u64,
    pub rate: Option<f64>,
    /// Lower and upper bound of the 95 % Wilson score interval.
    pub interval: Option<[f64; 2]>,
}

impl Proportion {
    pub fn new(k: u64, n: u64) -> Proportion {
        Proportion { k, n, rate: (n > 0).then(|| k as f64 / n as f64), interval: wilson(k, n, Z95) }
    }
}

/// The Wilson score interval for `k` successes in `n` trials at normal quantile `z`, clipped to
/// [0, 1] like statsmodels; `None` when `n` is 0 or `k > n`.
pub fn wilson(k: u64, n: u64, z: f64) -> Option<[f64; 2]> {
    if n == 0 || k > n {
        return None;
    }
    let n = n as f64;
    let p = k as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from statsmodels 0.14 (see the integration test `wilson_matches_statsmodels`
    /// for the full table and version); two here so the unit is checked on its own.
    #[test]
    fn empty_and_impossible_counts_have_no_interval() {
        assert_eq!(wilson(0, 0, Z95), None);
        assert_eq!(wilson(3, 2, Z95), None);
        assert_eq!(Proportion::new(0, 0).rate, None);
    }

    #[test]
    fn all_and_none_touch_the_bounds() {
        let [lo, hi] = wilson(10, 10, Z95).unwrap_or_default();
        assert!(hi > 0.999_999 && lo < 1.0 && lo > 0.6, "{lo} {hi}");
        let [lo, hi] = wilson(0, 10, Z95).unwrap_or_default();
        assert!(lo < 1e-9 && hi > 0.0 && hi < 0.4, "{lo} {hi}");
    }
}
