//! Bootstrap confidence intervals computed on the merged counts, never on the rows again.
//!
//! Resampling n rows with replacement from a group and counting them again is the same as
//! drawing the group's cell counts from a multinomial distribution with the observed shares
//! (n, p₁ … p_k). So each replicate draws, for every group independently, its four confusion
//! cells (and, with scores, its (score, label) cells) from that multinomial — by successive
//! binomials — and recomputes every metric and disparity from the drawn counts. Group sizes are
//! held fixed (a *stratified* bootstrap): this is the bootstrap that makes sense when groups
//! are defined by the data's design, and it costs O(groups × cells) per replicate whatever the
//! number of rows. Intervals are percentile intervals with linear interpolation between order
//! statistics (numpy's default). The generator is ChaCha8 seeded with the given seed, so a run
//! is reproducible.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution};
use serde::{Deserialize, Serialize};

use crate::stats::{Confusion, ScoreCounts};

/// How to bootstrap: replicates, seed and the interval's coverage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapSpec {
    pub replicates: u32,
    pub seed: u64,
    /// Coverage of the interval, e.g. 0.95.
    pub level: f64,
}

/// The seeded generator of one bootstrap run.
pub(crate) struct Resampler {
    rng: ChaCha8Rng,
}

impl Resampler {
    pub fn new(seed: u64) -> Self {
        Self { rng: ChaCha8Rng::seed_from_u64(seed) }
    }

    /// Draws counts for `counts` summing to their total n with probabilities count / n: a
    /// multinomial. With many cells and few rows it draws the n rows one by one (uniform
    /// positions looked up in the cumulative counts); otherwise it draws each cell's count as a
    /// binomial conditional on the cells before it. Both are exact samplers of the same law.
    fn multinomial(&mut self, counts: &[u64], out: &mut Vec<u64>) {
        out.clear();
        let total: u64 = counts.iter().sum();
        if total > 0 && total <= 4 * counts.len() as u64 {
            let mut cumulative = Vec::with_capacity(counts.len());
            let mut running = 0u64;
            for &c in counts {
                running += c;
                cumulative.push(running);
            }
            out.resize(counts.len(), 0);
            for _ in 0..total {
                // A uniform position in [0, total) by multiply-shift (bias below total / 2⁶⁴).
                let position = ((u128::from(self.rng.next_u64()) * u128::from(total)) >> 64) as u64;
                let cell = cumulative.partition_point(|&c| c <= position);
                out[cell] += 1;
            }
            return;
        }
        let mut remaining_n = total;
        let mut remaining_weight = total;
        for &c in counts {
            if c == 0 || remaining_n == 0 {
                out.push(0);
                continue;
            }
            let draw = if c >= remaining_weight {
                remaining_n
            } else {
                let p = c as f64 / remaining_weight as f64;
                Binomial::new(remaining_n, p).map(|b| b.sample(&mut self.rng)).unwrap_or(0)
            };
            out.push(draw);
            remaining_n -= draw;
            remaining_weight -= c;
        }
    }

    pub fn confusion(&mut self, c: &Confusion) -> Confusion {
        let mut out = Vec::with_capacity(4);
        self.multinomial(&[c.tp, c.fp, c.tn, c.fn_], &mut out);
        Confusion { tp: out[0], fp: out[1], tn: out[2], fn_: out[3] }
    }

    /// Draws (positives, negatives) per distinct score, flattened as `[p₀, n₀, p₁, n₁, …]` in
    /// ascending score order, into `out`.
    pub fn score_cells(&mut self, flat: &[u64], out: &mut Vec<u64>) {
        self.multinomial(flat, out);
    }
}

/// A group's score counts flattened for [`Resampler::score_cells`].
pub fn flatten_scores(s: &ScoreCounts) -> Vec<u64> {
    s.iter().flat_map(|(_, c)| [c.positives, c.negatives]).collect()
}

/// The `q` quantile (0 ≤ q ≤ 1) of sorted values, interpolating linearly between order
/// statistics; `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let position = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let fraction = position - lower as f64;
    Some(sorted[lower] + (sorted[upper] - sorted[lower]) * fraction)
}

/// The percentile interval of replicate values at `level` coverage; replicates where the
/// statistic was undefined are left out (and the interval is `None` if all were).
pub fn interval(mut values: Vec<f64>, level: f64) -> Option<[f64; 2]> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some([quantile(&values, tail)?, quantile(&values, 1.0 - tail)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multinomial_draw_keeps_the_group_size() {
        let mut r = Resampler::new(7);
        let c = Confusion { tp: 10, fp: 0, tn: 25, fn_: 5 };
        for _ in 0..100 {
            let d = r.confusion(&c);
            assert_eq!(d.n(), 40);
            assert_eq!(d.fp, 0, "an empty cell stays empty");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_draws() {
        let c = Confusion { tp: 100, fp: 30, tn: 500, fn_: 70 };
        let a: Vec<Confusion> = {
            let mut r = Resampler::new(42);
            (0..10).map(|_| r.confusion(&c)).collect()
        };
        let b: Vec<Confusion> = {
            let mut r = Resampler::new(42);
            (0..10).map(|_| r.confusion(&c)).collect()
        };
        assert_eq!(a, b);
    }

    #[test]
    fn both_samplers_keep_totals_and_empty_cells() {
        let mut r = Resampler::new(3);
        let mut out = Vec::new();
        // Few rows over many cells: drawn row by row.
        let sparse = [1, 0, 2, 1, 0, 1];
        r.multinomial(&sparse, &mut out);
        assert_eq!(out.iter().sum::<u64>(), 5);
        assert_eq!((out[1], out[4]), (0, 0));
        // Many rows: conditional binomials.
        let dense = [1000, 0, 2500, 10];
        r.multinomial(&dense, &mut out);
        assert_eq!(out.iter().sum::<u64>(), 3510);
        assert_eq!(out[1], 0);
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert_eq!(interval(vec![], 0.95), None);
    }
}
