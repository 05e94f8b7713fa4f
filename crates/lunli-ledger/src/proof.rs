//! Inclusion and consistency proofs: built from any [`LeafSource`] (RFC 9162 §2.1.3.1 and
//! §2.1.4.1) and verified from nothing but hashes and sizes (§2.1.3.2 and §2.1.4.2).
//!
//! Building and verifying are deliberately separate: [`verify_inclusion`] and
//! [`verify_consistency`] need no ledger, no store and no key, so an auditor can check a proof
//! with this module alone.
//!
//! Verification follows the RFC's algorithms step by step. Before running them it checks the
//! proof's length against the length the sizes call for; the RFC algorithm rejects every other
//! length anyway, so this changes no verdict, only makes the error say what was wrong.
//! Beyond the RFC's `0 < first < second`, a consistency check between two trees of the same
//! size accepts exactly an empty proof and identical roots, as the transparency-dev
//! implementation does; a first size of 0 is always rejected, since it proves nothing.
//!
//! Roots are taken as bytes (`impl AsRef<[u8]>`, which [`Hash`](struct@Hash) implements) so that a root read
//! from an untrusted document can be passed as it is: one that is not 32 bytes long is reported
//! as [`ProofError::MalformedRoot`] wherever it would have to match a computed root.

use crate::error::{LeafOutOfRange, ProofBuildError, ProofError};
use crate::hash::{Hash, node_hash};
use crate::tree::{CompactTree, split_point_u64};

/// Where proofs read leaf hashes from: a slice in memory, or a store that reads them by index.
///
/// Only [`LeafSource::size`] and [`LeafSource::leaf_hash`] are required. Building a proof for a
/// tree of size n reads each of its n leaves once, through [`LeafSource::subtree_root`]; a store
/// should override that method to read a range of leaf hashes in one query, or answer from
/// interior node hashes it keeps, instead of one query per leaf.
pub trait LeafSource {
    /// The error reading a leaf can give (for a database, its query error).
    type Error;

    /// How many leaves the source holds.
    fn size(&self) -> Result<u64, Self::Error>;

    /// The hash of leaf `index` (`index < size`).
    fn leaf_hash(&self, index: u64) -> Result<Hash, Self::Error>;

    /// The Merkle Tree Hash of the leaves `start..end` (`start <= end <= size`; an empty range
    /// has the empty tree's root).
    fn subtree_root(&self, start: u64, end: u64) -> Result<Hash, Self::Error> {
        let mut tree = CompactTree::new();
        for index in start..end {
            tree.push(self.leaf_hash(index)?);
        }
        Ok(tree.root())
    }
}

impl LeafSource for [Hash] {
    type Error = LeafOutOfRange;

    fn size(&self) -> Result<u64, LeafOutOfRange> {
        Ok(self.len() as u64)
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, LeafOutOfRange> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(LeafOutOfRange { index, size: self.len() as u64 })
    }

    fn subtree_root(&self, start: u64, end: u64) -> Result<Hash, LeafOutOfRange> {
        let range = usize::try_from(start).ok().zip(usize::try_from(end).ok());
        range
            .and_then(|(start, end)| self.get(start..end))
            .map(crate::tree::root)
            .ok_or(LeafOutOfRange { index: end.saturating_sub(1).max(start), size: self.len() as u64 })
    }
}

impl LeafSource for Vec<Hash> {
    type Error = LeafOutOfRange;

    fn size(&self) -> Result<u64, LeafOutOfRange> {
        self.as_slice().size()
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, LeafOutOfRange> {
        self.as_slice().leaf_hash(index)
    }

    fn subtree_root(&self, start: u64, end: u64) -> Result<Hash, LeafOutOfRange> {
        self.as_slice().subtree_root(start, end)
    }
}

/// The inclusion proof (audit path) for leaf `index` in the tree of the first `size` leaves of
/// `source`, lowest level first (RFC 9162 §2.1.3.1).
pub fn inclusion_proof<S: LeafSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofBuildError<S::Error>> {
    if index >= size {
        return Err(ProofBuildError::IndexOutOfRange { index, size });
    }
    check_available(source, size)?;
    let mut proof = Vec::with_capacity(inclusion_proof_len(index, size));
    path(source, index, 0, size, &mut proof).map_err(ProofBuildError::Source)?;
    Ok(proof)
}

/// The consistency proof between the trees of the first `size1` and the first `size2` leaves of
/// `source` (RFC 9162 §2.1.4.1). Needs `0 < size1 <= size2`; equal sizes give an empty proof.
pub fn consistency_proof<S: LeafSource + ?Sized>(
    source: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofBuildError<S::Error>> {
    if size1 == 0 || size1 > size2 {
        return Err(ProofBuildError::InvalidSizes { size1, size2 });
    }
    check_available(source, size2)?;
    let mut proof = Vec::with_capacity(consistency_proof_len(size1, size2));
    subproof(source, size1, 0, size2, true, &mut proof).map_err(ProofBuildError::Source)?;
    Ok(proof)
}

fn check_available<S: LeafSource + ?Sized>(source: &S, size: u64) -> Result<(), ProofBuildError<S::Error>> {
    let available = source.size().map_err(ProofBuildError::Source)?;
    if size > available {
        return Err(ProofBuildError::SizeBeyondSource { size, available });
    }
    Ok(())
}

/// `PATH(m, D[start:end])`, appending to `proof` (RFC 9162 §2.1.3.1). `m` is relative to `start`.
fn path<S: LeafSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point_u64(n);
    if m < k {
        path(source, m, start, start + k, proof)?;
        proof.push(source.subtree_root(start + k, end)?);
    } else {
        path(source, m - k, start + k, end, proof)?;
        proof.push(source.subtree_root(start, start + k)?);
    }
    Ok(())
}

/// `SUBPROOF(m, D[start:end], b)`, appending to `proof` (RFC 9162 §2.1.4.1).
fn subproof<S: LeafSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    proof: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !whole {
            proof.push(source.subtree_root(start, end)?);
        }
        return Ok(());
    }
    let k = split_point_u64(n);
    if m <= k {
        subproof(source, m, start, start + k, whole, proof)?;
        proof.push(source.subtree_root(start + k, end)?);
    } else {
        subproof(source, m - k, start + k, end, false, proof)?;
        proof.push(source.subtree_root(start, start + k)?);
    }
    Ok(())
}

/// How many hashes the inclusion proof of leaf `index` in a tree of `size` has (`index < size`):
/// one per level below the point where the paths to `index` and to `size - 1` part, plus one per
/// left sibling above it.
fn inclusion_proof_len(index: u64, size: u64) -> usize {
    let inner = bit_length(index ^ (size - 1));
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// How many hashes the consistency proof from `size1` to `size2` has (`0 < size1 < size2`).
fn consistency_proof_len(size1: u64, size2: u64) -> usize {
    let inner = bit_length((size1 - 1) ^ (size2 - 1));
    let border = (size1 - 1).checked_shr(inner).unwrap_or(0).count_ones();
    let shift = size1.trailing_zeros();
    let seed = u32::from(!size1.is_power_of_two());
    (seed + inner.saturating_sub(shift) + border) as usize
}

fn bit_length(x: u64) -> u32 {
    u64::BITS - x.leading_zeros()
}

fn as_root(bytes: &[u8], which: &'static str) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::MalformedRoot { which, len: bytes.len() })
}

/// Checks that `proof` shows leaf `index`, whose hash is `leaf`, is in the tree of `size` leaves
/// whose root is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: impl AsRef<[u8]>,
) -> Result<(), ProofError> {
    // Step 1: the leaf must be in the tree.
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_proof_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, found: proof.len() });
    }
    let root = as_root(root.as_ref(), "tree")?;

    // Steps 2 and 3.
    let mut f = index;
    let mut s = size - 1;
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if s == 0 {
            return Err(ProofError::WrongProofLength { expected, found: proof.len() });
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    if s != 0 {
        return Err(ProofError::WrongProofLength { expected, found: proof.len() });
    }
    if r != root {
        return Err(ProofError::RootMismatch { which: "tree", expected: root, computed: r });
    }
    Ok(())
}

/// Checks that `proof` shows the tree of `size1` leaves with root `root1` is a prefix of the tree
/// of `size2` leaves with root `root2` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: impl AsRef<[u8]>,
    root2: impl AsRef<[u8]>,
) -> Result<(), ProofError> {
    let (root1, root2) = (root1.as_ref(), root2.as_ref());
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::WrongProofLength { expected: 0, found: proof.len() });
        }
        if root1 != root2 {
            return Err(ProofError::RootsDiffer { size: size1 });
        }
        return Ok(());
    }
    // From here on 0 < size1 < size2, the RFC's precondition.
    let expected = consistency_proof_len(size1, size2);
    if proof.len() != expected {
        return Err(ProofError::WrongProofLength { expected, found: proof.len() });
    }
    let root1 = as_root(root1, "first")?;
    let root2 = as_root(root2, "second")?;

    // Steps 1 and 2: a first tree that is a perfect subtree is its own starting point.
    let seed = size1.is_power_of_two().then_some(root1);
    let mut path = seed.into_iter().chain(proof.iter().copied());
    let Some(first) = path.next() else {
        return Err(ProofError::WrongProofLength { expected, found: proof.len() });
    };
    // Step 3.
    let mut f = size1 - 1;
    let mut s = size2 - 1;
    // Step 4.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // Step 5.
    let mut fr = first;
    let mut sr = first;
    // Step 6.
    for c in path {
        if s == 0 {
            return Err(ProofError::WrongProofLength { expected, found: proof.len() });
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(&c, &fr);
            sr = node_hash(&c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, &c);
        }
        f >>= 1;
        s >>= 1;
    }
    // Step 7.
    if s != 0 {
        return Err(ProofError::WrongProofLength { expected, found: proof.len() });
    }
    if fr != root1 {
        return Err(ProofError::RootMismatch { which: "first", expected: root1, computed: fr });
    }
    if sr != root2 {
        return Err(ProofError::RootMismatch { which: "second", expected: root2, computed: sr });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::root;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn every_proof_in_small_trees_verifies_and_has_the_predicted_length() {
        for n in 1..=33u64 {
            let l = leaves(n);
            let r = root(&l);
            for i in 0..n {
                let proof = inclusion_proof(l.as_slice(), i, n).unwrap();
                assert_eq!(proof.len(), inclusion_proof_len(i, n));
                assert_eq!(verify_inclusion(i, n, &l[i as usize], &proof, r), Ok(()), "leaf {i} of {n}");
            }
            for m in 1..=n {
                let proof = consistency_proof(l.as_slice(), m, n).unwrap();
                if m < n {
                    assert_eq!(proof.len(), consistency_proof_len(m, n));
                }
                let r1 = root(&l[..m as usize]);
                assert_eq!(verify_consistency(m, n, &proof, r1, r), Ok(()), "{m} -> {n}");
            }
        }
    }

    #[test]
    fn building_rejects_impossible_requests() {
        let l = leaves(4);
        assert!(matches!(inclusion_proof(l.as_slice(), 4, 4), Err(ProofBuildError::IndexOutOfRange { .. })));
        assert!(matches!(inclusion_proof(&l, 0, 5), Err(ProofBuildError::SizeBeyondSource { available: 4, .. })));
        assert!(matches!(consistency_proof(&l, 0, 3), Err(ProofBuildError::InvalidSizes { .. })));
        assert!(matches!(consistency_proof(&l, 3, 2), Err(ProofBuildError::InvalidSizes { .. })));
        assert!(matches!(consistency_proof(&l, 3, 9), Err(ProofBuildError::SizeBeyondSource { .. })));
    }

    #[test]
    fn slices_refuse_leaves_they_do_not_hold() {
        let l = leaves(3);
        assert_eq!(l.leaf_hash(3), Err(LeafOutOfRange { index: 3, size: 3 }));
        assert_eq!(l.subtree_root(1, 4), Err(LeafOutOfRange { index: 3, size: 3 }));
        assert_eq!(l.subtree_root(2, 2), Ok(Hash::EMPTY_TREE));
        assert_eq!(l.subtree_root(0, 3), Ok(root(&l)));
    }

    #[test]
    fn verification_explains_rejections() {
        let l = leaves(5);
        let r = root(&l);
        let proof = inclusion_proof(&l, 2, 5).unwrap();
        assert_eq!(verify_inclusion(5, 5, &l[2], &proof, r), Err(ProofError::IndexOutOfRange { index: 5, size: 5 }));
        assert_eq!(
            verify_inclusion(2, 5, &l[2], &proof[1..], r),
            Err(ProofError::WrongProofLength { expected: 3, found: 2 })
        );
        assert_eq!(
            verify_inclusion(2, 5, &l[2], &proof, [0u8; 3]),
            Err(ProofError::MalformedRoot { which: "tree", len: 3 })
        );
        assert!(matches!(verify_inclusion(2, 5, &l[3], &proof, r), Err(ProofError::RootMismatch { .. })));
        assert_eq!(verify_consistency(3, 2, &[], r, r), Err(ProofError::SizesReversed { size1: 3, size2: 2 }));
        assert_eq!(verify_consistency(0, 0, &[], r, r), Err(ProofError::EmptyFirstTree));
        assert_eq!(verify_consistency(2, 2, &[r], r, r), Err(ProofError::WrongProofLength { expected: 0, found: 1 }));
        assert_eq!(verify_consistency(2, 2, &[], r, Hash::ZERO), Err(ProofError::RootsDiffer { size: 2 }));
    }

    #[test]
    fn extreme_sizes_do_not_panic() {
        let h = Hash::ZERO;
        for (index, size) in [(0, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 62, u64::MAX)] {
            let len = inclusion_proof_len(index, size);
            assert!(verify_inclusion(index, size, &h, &vec![h; len], h).is_err());
            assert!(verify_inclusion(index, size, &h, &[], h).is_err());
        }
        for (size1, size2) in [(1, u64::MAX), (u64::MAX - 1, u64::MAX), (1 << 63, u64::MAX)] {
            let len = consistency_proof_len(size1, size2);
            assert!(verify_consistency(size1, size2, &vec![h; len], h, h).is_err());
            assert!(verify_consistency(size1, size2, &[], h, h).is_err());
        }
    }
}
