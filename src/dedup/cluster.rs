//! From pairwise decisions to calls: the partition of a group of sightings
//! into calls, as a function of the group alone.
//!
//! The store keeps sightings linked by "same call" decisions in one
//! *component*; whenever a new sighting links into a component, the
//! component is partitioned again by [`partition`], so the calls it holds
//! do not depend on the order in which its sightings arrived.
//!
//! The rule is complete linkage with a fixed order: members are taken in a
//! canonical order (the caller sorts them by source and item key, which
//! do not depend on arrival); each joins the cluster it is the same call as
//! (best score first, then the oldest cluster in that order) provided it is
//! compatible with *every* member already there, and clusters it links
//! are merged when all their members are compatible with each other. So
//! no call ever holds two sightings that [`super::decide`] keeps apart
//! (two items of one source, two editions, two call numbers...), and one
//! resembling two incompatible calls cannot chain them together.

/// How two members relate (from [`super::Decision`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub same: bool,
    pub compatible: bool,
    pub score: f32,
}

impl Link {
    /// Two members that nothing relates.
    pub const UNRELATED: Link = Link {
        same: false,
        compatible: false,
        score: 0.0,
    };
}

/// Partitions members `0..n`, given in canonical order, into calls.
/// `link(i, j)` (with `i < j`) says how members `i` and `j` relate; it is
/// called once per pair. Returns the clusters, each ascending, ordered by
/// their first member. The result depends only on `n` and `link`.
pub fn partition(n: usize, mut link: impl FnMut(usize, usize) -> Link) -> Vec<Vec<usize>> {
    // links[j][i] for i < j.
    let links: Vec<Vec<Link>> = (0..n)
        .map(|j| (0..j).map(|i| link(i, j)).collect())
        .collect();
    let get = |a: usize, b: usize| {
        if a < b { links[b][a] } else { links[a][b] }
    };
    let compatible_with =
        |cluster: &[usize], x: usize| cluster.iter().all(|&m| get(m, x).compatible);
    let mut clusters: Vec<Vec<usize>> = Vec::new();
    for x in 0..n {
        // The clusters x is the same call as and compatible with, with its
        // best score there.
        let mut linked: Vec<(f32, usize)> = clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| compatible_with(c, x))
            .filter_map(|(k, c)| {
                c.iter()
                    .map(|&m| get(m, x))
                    .filter(|l| l.same)
                    .map(|l| l.score)
                    .reduce(f32::max)
                    .map(|best| (best, k))
            })
            .collect();
        // Best score first; among equals the cluster whose first member
        // comes first (clusters are kept in that order).
        linked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let Some(&(_, first)) = linked.first() else {
            clusters.push(vec![x]);
            continue;
        };
        let mut merged = clusters[first].clone();
        merged.push(x);
        let mut absorbed = vec![first];
        for &(_, k) in &linked[1..] {
            if clusters[k]
                .iter()
                .all(|&m| merged.iter().all(|&y| get(m, y).compatible))
            {
                merged.extend_from_slice(&clusters[k]);
                absorbed.push(k);
            }
        }
        merged.sort_unstable();
        absorbed.sort_unstable();
        for &k in absorbed.iter().rev() {
            clusters.remove(k);
        }
        clusters.push(merged);
        clusters.sort_by_key(|c| c[0]);
    }
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(score: f32) -> Link {
        Link {
            same: true,
            compatible: true,
            score,
        }
    }
    const APART: Link = Link::UNRELATED;
    const COMPATIBLE: Link = Link {
        same: false,
        compatible: true,
        score: 0.5,
    };

    #[test]
    fn a_copy_resembling_two_items_of_one_source_does_not_chain_them() {
        // 0 and 2 are two items of one source; 1 resembles both.
        let p = partition(3, |i, j| match (i, j) {
            (0, 2) => APART,
            (0, 1) => same(0.8),
            _ => same(0.7),
        });
        assert_eq!(p, vec![vec![0, 1], vec![2]]);
    }

    #[test]
    fn compatible_clusters_linked_later_are_merged() {
        // 0 and 1 do not resemble each other; 2 resembles both.
        let p = partition(3, |i, j| match (i, j) {
            (0, 1) => COMPATIBLE,
            _ => same(0.9),
        });
        assert_eq!(p, vec![vec![0, 1, 2]]);
    }

    proptest! {
        #[test]
        fn every_call_is_pairwise_compatible_and_held_together(
            n in 1usize..9,
            seed in prop::collection::vec(0u8..4, 36),
        ) {
            let rel = |i: usize, j: usize| {
                let k = j * (j - 1) / 2 + i;
                match seed[k % seed.len()] {
                    0 => APART,
                    1 => COMPATIBLE,
                    2 => same(0.7),
                    _ => same(0.9),
                }
            };
            let p = partition(n, rel);
            let mut all: Vec<usize> = p.concat();
            all.sort_unstable();
            prop_assert_eq!(all, (0..n).collect::<Vec<_>>());
            for c in &p {
                for (a, &x) in c.iter().enumerate() {
                    for &y in &c[a + 1..] {
                        prop_assert!(rel(x, y).compatible, "{:?} holds {} and {}", p, x, y);
                    }
                    // A member of a call of several is the same call as one of them.
                    if c.len() > 1 {
                        prop_assert!(c.iter().any(|&y| y != x && rel(x.min(y), x.max(y)).same));
                    }
                }
            }
        }
    }
}
