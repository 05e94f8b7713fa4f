//! Property tests over random trees of 1 to 300 leaves: every proof built verifies, and a proof
//! presented for another leaf, another size or with one bit flipped does not.

// Helpers outside #[test] functions unwrap too: in a test, a panic is a failure with its message.
#![allow(clippy::unwrap_used)]

use lunli_ledger::proof::{consistency_proof, inclusion_proof, verify_consistency, verify_inclusion};
use lunli_ledger::{CompactTree, Hash, leaf_hash, tree};
use proptest::prelude::*;

/// `n` distinct leaf hashes, different for each `salt`.
fn leaves(n: usize, salt: u64) -> Vec<Hash> {
    (0..n as u64).map(|i| leaf_hash(&[salt.to_le_bytes(), i.to_le_bytes()].concat())).collect()
}

fn flip(hash: &Hash, bit: usize) -> Hash {
    let mut bytes = *hash.as_bytes();
    bytes[bit / 8 % 32] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}

/// A tree size `n` in 1..=300, a leaf `i < n`, a second size `other != n` in 1..=300, and a salt.
fn tree_and_leaf() -> impl Strategy<Value = (usize, usize, usize, u64)> {
    (1usize..=300, 1usize..=299, any::<u64>())
        .prop_flat_map(|(n, other, salt)| (Just(n), 0..n, Just(if other >= n { other + 1 } else { other }), Just(salt)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn inclusion_proofs_verify_and_bind_leaf_index_and_size(
        (n, i, other, salt) in tree_and_leaf(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let all = leaves(n.max(other), salt);
        let l = &all[..n];
        let root = tree::root(l);
        let proof = inclusion_proof(l, i as u64, n as u64).unwrap();
        prop_assert_eq!(verify_inclusion(i as u64, n as u64, &l[i], &proof, root), Ok(()));

        // Another leaf, at its own index or at this one.
        if n > 1 {
            let j = (i + 1 + pick.index(n - 1)) % n;
            prop_assert!(verify_inclusion(j as u64, n as u64, &l[j], &proof, root).is_err());
            prop_assert!(verify_inclusion(j as u64, n as u64, &l[i], &proof, root).is_err());
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[j], &proof, root).is_err());
        }
        // Another size: the proof does not lead to the root of the tree of that size.
        let other_root = tree::root(&all[..other]);
        prop_assert!(verify_inclusion(i as u64, other as u64, &l[i], &proof, other_root).is_err());
        // The reference implementation's wrong heights, against this tree's root.
        prop_assert!(verify_inclusion(i as u64, 2 * n as u64, &l[i], &proof, root).is_err());
        prop_assert!(verify_inclusion(i as u64, n as u64 / 2, &l[i], &proof, root).is_err());
        // One flipped bit anywhere.
        prop_assert!(verify_inclusion(i as u64, n as u64, &flip(&l[i], bit), &proof, root).is_err());
        prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &proof, flip(&root, bit)).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let k = pick.index(bad.len());
            bad[k] = flip(&bad[k], bit);
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &bad, root).is_err());
            // Dropped or extra hashes.
            prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &proof[1..], root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(i as u64, n as u64, &l[i], &longer, root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_bind_both_sizes(
        (n, m0, other, salt) in tree_and_leaf(),
        bit in 0usize..256,
        pick in any::<prop::sample::Index>(),
    ) {
        let m = m0 + 1; // 1..=n
        let all = leaves(n.max(other), salt);
        let l = &all[..n];
        let (root1, root2) = (tree::root(&l[..m]), tree::root(l));
        let proof = consistency_proof(l, m as u64, n as u64).unwrap();
        prop_assert_eq!(verify_consistency(m as u64, n as u64, &proof, root1, root2), Ok(()));

        // Another first size, with the real root of that size.
        for m2 in [m - 1, m + 1, m ^ 2, other] {
            if m2 != m && (1..=n).contains(&m2) {
                let wrong = tree::root(&l[..m2]);
                prop_assert!(verify_consistency(m2 as u64, n as u64, &proof, wrong, root2).is_err(), "m2 = {}", m2);
                prop_assert!(verify_consistency(m2 as u64, n as u64, &proof, root1, root2).is_err(), "m2 = {}", m2);
            }
        }
        // Another second size, with the real root of that size and with this one.
        if other >= m {
            let wrong = tree::root(&all[..other]);
            prop_assert!(verify_consistency(m as u64, other as u64, &proof, root1, wrong).is_err());
        }
        prop_assert!(verify_consistency(m as u64, 2 * n as u64, &proof, root1, root2).is_err());
        prop_assert!(verify_consistency(m as u64, n as u64 / 2, &proof, root1, root2).is_err());
        // One flipped bit anywhere.
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, flip(&root1, bit), root2).is_err());
        prop_assert!(verify_consistency(m as u64, n as u64, &proof, root1, flip(&root2, bit)).is_err());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let k = pick.index(bad.len());
            bad[k] = flip(&bad[k], bit);
            prop_assert!(verify_consistency(m as u64, n as u64, &bad, root1, root2).is_err());
            prop_assert!(verify_consistency(m as u64, n as u64, &proof[1..], root1, root2).is_err());
            prop_assert!(verify_consistency(m as u64, n as u64, &proof, root2, root1).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root1);
        prop_assert!(verify_consistency(m as u64, n as u64, &longer, root1, root2).is_err());
    }

    #[test]
    fn verification_never_panics_on_arbitrary_input(
        index in any::<u64>(),
        size in any::<u64>(),
        size2 in any::<u64>(),
        proof in prop::collection::vec(any::<[u8; 32]>().prop_map(Hash::from_bytes), 0..70),
        root in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let leaf = Hash::from_bytes([7; 32]);
        let _ = verify_inclusion(index, size, &leaf, &proof, &root);
        let _ = verify_consistency(size, size2, &proof, &root, &root);
        let _ = verify_consistency(size.min(size2), size.max(size2), &proof, &root, leaf);
    }
}

proptest! {
    // Comparing at every size is quadratic in hashing, and unoptimised SHA-256 is slow: fewer cases.
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn compact_tree_agrees_with_the_recursive_root_at_every_size(n in 0usize..=300, salt in any::<u64>()) {
        let l = leaves(n, salt);
        let mut compact = CompactTree::new();
        prop_assert_eq!(compact.root(), tree::root(&[]));
        for size in 1..=n {
            compact.push(l[size - 1]);
            prop_assert_eq!(compact.root(), tree::root(&l[..size]), "size {}", size);
        }
        // And when resumed from its saved parts halfway.
        let half: CompactTree = l[..n / 2].iter().copied().collect();
        let mut resumed = CompactTree::from_parts(half.size(), half.peaks().to_vec()).unwrap();
        resumed.extend(l[n / 2..].iter().copied());
        prop_assert_eq!(resumed.root(), tree::root(&l));
    }
}

#[test]
fn every_proof_of_every_tree_up_to_64_leaves_verifies() {
    for n in 1..=64usize {
        let l = leaves(n, 1);
        let root = tree::root(&l);
        for i in 0..n {
            let proof = inclusion_proof(l.as_slice(), i as u64, n as u64).unwrap();
            assert_eq!(verify_inclusion(i as u64, n as u64, &l[i], &proof, root), Ok(()), "leaf {i} of {n}");
        }
        for m in 1..=n {
            let proof = consistency_proof(l.as_slice(), m as u64, n as u64).unwrap();
            assert_eq!(verify_consistency(m as u64, n as u64, &proof, tree::root(&l[..m]), root), Ok(()), "{m} -> {n}");
        }
    }
}
