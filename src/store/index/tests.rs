//! The postings walk against a brute-force count.

use super::postings::top_shared;

#[test]
fn top_shared_ranks_by_count_then_newest_and_stops_early() {
    let a = [1, 2, 3, 5, 8];
    let b = [2, 3, 8, 9];
    let c = [3, 4, 9];
    assert_eq!(top_shared(&[&a, &b, &c], 2, 20), vec![3, 9, 8, 2]);
    assert_eq!(top_shared(&[&a, &b, &c], 2, 2), vec![3, 9]);
    assert_eq!(top_shared(&[&a], 1, 3), vec![8, 5, 3]);
    assert!(top_shared(&[&a, &[]], 2, 3).is_empty());
}

#[test]
fn top_shared_matches_a_full_count() {
    // Compare with a brute-force count on pseudo-random lists.
    let mut seed = 7u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    // Short dense lists, then long sparse ones (long skipped runs), then
    // titles' usual shape: a list or two of a few entries (a programme
    // number) beside long ones, which takes the lookup path.
    for (cases, len, range, tiny) in [
        (2000, 40, 60, false),
        (300, 600, 5000, false),
        (40, 4000, 30000, false),
        (400, 4000, 30000, true),
    ] {
        for _ in 0..cases {
            let k = 1 + (next() % 4) as usize;
            let lists: Vec<Vec<u32>> = (0..k)
                .map(|i| {
                    let n = if tiny && i < 2 {
                        next() % 40
                    } else {
                        next() % len
                    };
                    let mut l: Vec<u32> = (0..n).map(|_| next() % range).collect();
                    l.sort_unstable();
                    l.dedup();
                    l
                })
                .collect();
            let refs: Vec<&[u32]> = lists.iter().map(Vec::as_slice).collect();
            let needed = 1 + (next() % 2) as usize;
            let limit = 1 + (next() % 25) as usize;
            let mut counts = std::collections::BTreeMap::new();
            for l in &lists {
                for &s in l {
                    *counts.entry(s).or_insert(0usize) += 1;
                }
            }
            let mut all: Vec<(usize, u32)> = counts
                .into_iter()
                .filter(|(_, c)| *c >= needed)
                .map(|(s, c)| (c, s))
                .collect();
            all.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
            all.truncate(limit);
            let expected: Vec<u32> = all.into_iter().map(|(_, s)| s).collect();
            assert_eq!(top_shared(&refs, needed, limit), expected);
        }
    }
}
