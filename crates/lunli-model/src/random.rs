//! Seeded randomness: every random choice of an audit comes from a ChaCha8 stream keyed by the
//! run's seed and by what it is for (batch, perturbation, feature, repeat), so a run repeats
//! exactly and no two uses share a stream.

use rand_chacha::ChaCha8Rng;
use rand_core::{Rng, SeedableRng};

/// A generator for one use: `seed` mixed with the parts that name the use.
pub(crate) fn stream(seed: u64, parts: &[u64]) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    // SplitMix64 over the parts: distinct uses get unrelated keys.
    let mut h = 0x9E37_79B9_7F4A_7C15u64 ^ seed;
    for (i, part) in parts.iter().enumerate() {
        h = mix(h ^ part.wrapping_add(i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9));
    }
    key[8..16].copy_from_slice(&h.to_le_bytes());
    key[16..24].copy_from_slice(&mix(h).to_le_bytes());
    key[24..32].copy_from_slice(&(parts.len() as u64).to_le_bytes());
    ChaCha8Rng::from_seed(key)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform number in [0, 1).
pub(crate) fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// A uniform index below `n` (n > 0), without modulo bias.
pub(crate) fn below(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let v = rng.next_u64();
        if v < zone {
            return (v % n) as usize;
        }
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - unit(rng); // (0, 1]: the logarithm stays finite
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A uniformly random permutation of `0..n` (Fisher–Yates).
pub(crate) fn permutation(rng: &mut ChaCha8Rng, n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        p.swap(i, below(rng, i + 1));
    }
    p
}
