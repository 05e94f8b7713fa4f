//! Merkle tree roots: [`root`] of a list of leaf hashes, as RFC 6962 defines it, and
//! [`CompactTree`], which gets the same root by taking leaf hashes one at a time in
//! O(log n) memory.
//!
//! RFC 9162 §2.1.1 defines the Merkle Tree Hash of n leaves recursively:
//! `MTH({}) = SHA-256()`, `MTH({d0}) = leaf_hash(d0)`, and for n > 1, with k the largest power
//! of two smaller than n, `MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`.
//!
//! [`CompactTree`] keeps, for a tree of size n, one "peak" per one bit of n: the roots of the
//! perfect subtrees the leaves form so far, biggest (leftmost) first. Pushing a leaf merges
//! equal-sized peaks; the root folds the peaks from the right. This is how a store recomputes
//! the root of millions of entries while streaming them, and reads off the root at each size
//! a signed head refers to:
//!
//! ```
//! use lunli_ledger::{CompactTree, leaf_hash};
//!
//! let mut tree = CompactTree::new();
//! let mut roots = Vec::new();
//! for (i, data) in [b"a", b"b", b"c"].iter().enumerate() {
//!     tree.push(leaf_hash(*data));
//!     if i + 1 == 2 {
//!         roots.push(tree.root()); // the root a head of size 2 must carry
//!     }
//! }
//! assert_eq!(tree.size(), 3);
//! assert_eq!(roots[0], lunli_ledger::tree::root(&[leaf_hash(b"a"), leaf_hash(b"b")]));
//! ```

use crate::error::TreeError;
use crate::hash::{Hash, node_hash};

/// The largest size a [`CompactTree`] accepts, so that counting leaves never overflows.
pub const MAX_TREE_SIZE: u64 = (1 << 63) - 1;

/// The Merkle Tree Hash of `leaves` (RFC 9162 §2.1.1). The empty list has root
/// [`Hash::EMPTY_TREE`].
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => Hash::EMPTY_TREE,
        [leaf] => *leaf,
        _ => {
            let k = split_point(leaves.len());
            let (left, right) = leaves.split_at(k);
            node_hash(&root(left), &root(right))
        }
    }
}

/// The largest power of two smaller than `n`, for `n >= 2` (RFC 9162 §2.1.1's `k`).
pub(crate) fn split_point(n: usize) -> usize {
    debug_assert!(n >= 2);
    // For n >= 2, n - 1 >= 1, and the highest power of two <= n - 1 is < n.
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// [`split_point`] for 64-bit sizes.
pub(crate) fn split_point_u64(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (u64::BITS - 1 - (n - 1).leading_zeros())
}

/// A Merkle tree reduced to what is needed to extend it and compute its root: its size and
/// the roots of its perfect subtrees ("peaks"), O(log n) hashes in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactTree {
    size: u64,
    /// Roots of the perfect subtrees, from the biggest (leftmost) to the smallest.
    peaks: Vec<Hash>,
}

impl CompactTree {
    /// The empty tree.
    pub fn new() -> Self {
        CompactTree::default()
    }

    /// Rebuilds a tree a store saved with [`CompactTree::size`] and [`CompactTree::peaks`],
    /// so that appending can resume without reading every leaf again.
    pub fn from_parts(size: u64, peaks: Vec<Hash>) -> Result<Self, TreeError> {
        if size > MAX_TREE_SIZE {
            return Err(TreeError::SizeTooLarge { size });
        }
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(TreeError::WrongPeakCount { size, expected, found: peaks.len() });
        }
        Ok(CompactTree { size, peaks })
    }

    /// Appends one leaf hash. Amortised two hash computations.
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        // Each trailing one bit of the old size is a peak of the same height as `carry`.
        let mut merges = self.size.trailing_ones();
        while merges > 0 {
            match self.peaks.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                None => break, // unreachable: one peak per one bit
            }
            merges -= 1;
        }
        self.peaks.push(carry);
        self.size = self.size.saturating_add(1);
    }

    /// The number of leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root of the tree of the current size ([`Hash::EMPTY_TREE`] when empty).
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        match peaks.next() {
            None => Hash::EMPTY_TREE,
            Some(&smallest) => peaks.fold(smallest, |right, left| node_hash(left, &right)),
        }
    }

    /// The peaks, biggest subtree first; save them with the size to resume later.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }
}

impl Extend<Hash> for CompactTree {
    fn extend<I: IntoIterator<Item = Hash>>(&mut self, leaves: I) {
        for leaf in leaves {
            self.push(leaf);
        }
    }
}

impl FromIterator<Hash> for CompactTree {
    fn from_iter<I: IntoIterator<Item = Hash>>(leaves: I) -> Self {
        let mut tree = CompactTree::new();
        tree.extend(leaves);
        tree
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below_n() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1025, 1024)] {
            assert_eq!(split_point(n), k, "n = {n}");
            assert_eq!(split_point_u64(n as u64), k as u64, "n = {n}");
        }
        assert_eq!(split_point_u64(u64::MAX), 1 << 63);
    }

    #[test]
    fn small_trees_follow_the_definition() {
        let l = leaves(3);
        assert_eq!(root(&[]), Hash::EMPTY_TREE);
        assert_eq!(root(&l[..1]), l[0]);
        assert_eq!(root(&l[..2]), node_hash(&l[0], &l[1]));
        assert_eq!(root(&l), node_hash(&node_hash(&l[0], &l[1]), &l[2]));
    }

    #[test]
    fn compact_tree_agrees_with_the_recursive_root_at_every_size() {
        let l = leaves(70);
        let mut tree = CompactTree::new();
        assert_eq!(tree.root(), Hash::EMPTY_TREE);
        for (i, leaf) in l.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.size(), i as u64 + 1);
            assert_eq!(tree.peaks().len(), (i + 1).count_ones() as usize);
            assert_eq!(tree.root(), root(&l[..=i]), "size {}", i + 1);
        }
    }

    #[test]
    fn resumes_from_saved_parts() {
        let l = leaves(11);
        let first: CompactTree = l[..6].iter().copied().collect();
        let mut resumed = CompactTree::from_parts(first.size(), first.peaks().to_vec()).unwrap();
        resumed.extend(l[6..].iter().copied());
        assert_eq!(resumed.root(), root(&l));
        assert_eq!(
            CompactTree::from_parts(6, vec![l[0]]),
            Err(TreeError::WrongPeakCount { size: 6, expected: 2, found: 1 })
        );
        assert_eq!(CompactTree::from_parts(u64::MAX, Vec::new()), Err(TreeError::SizeTooLarge { size: u64::MAX }));
    }
}
