//! The order in which `Crawler::crawl_all` starts sources: round-robin over
//! their hosts. Part of the crawl orchestrator.
//!
//! Sources are loaded sorted by file name, so the sources of one funder
//! (one host) sit next to each other. Started in that order, the
//! `crawl.concurrency` sources in flight mostly share one or two hosts and
//! wait on those hosts' politeness slots (`fetch.per_host_concurrency`,
//! spacing) while every other host stays idle: a crawl bound by round
//! trips (an unchanged re-crawl, where every page answers 304) then runs
//! at the concurrency of two hosts. Interleaving the hosts fills the
//! crawl's slots with sources that can actually proceed; the politeness
//! rules themselves are untouched (they are enforced per request by the
//! fetcher).

use std::collections::HashMap;
use std::hash::Hash;

use crate::fetch::politeness::HostKey;
use crate::source::SourceDef;

/// `sources` reordered round-robin over the hosts of their URLs: the first
/// source of each host (hosts in order of first appearance), then the
/// second of each, and so on. Sources of one host keep their order.
pub(crate) fn by_host(sources: Vec<SourceDef>) -> Vec<SourceDef> {
    interleave(sources, |s| HostKey::of(&s.url))
}

/// `items` reordered round-robin over the groups `key` puts them in.
fn interleave<T, K: Eq + Hash>(items: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    let mut groups: HashMap<K, usize> = HashMap::new();
    // (rank within its group, group in order of first appearance, item)
    let mut ranked: Vec<(usize, usize, T)> = Vec::with_capacity(items.len());
    let mut counts: Vec<usize> = Vec::new();
    for item in items {
        let next = groups.len();
        let group = *groups.entry(key(&item)).or_insert(next);
        if group == counts.len() {
            counts.push(0);
        }
        ranked.push((counts[group], group, item));
        counts[group] += 1;
    }
    ranked.sort_by_key(|&(rank, group, _)| (rank, group));
    ranked.into_iter().map(|(_, _, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hosts_take_turns_and_keep_their_order() {
        let items = vec!["a1", "a2", "a3", "b1", "b2", "c1"];
        let out = interleave(items, |s| s.as_bytes()[0]);
        assert_eq!(out, vec!["a1", "b1", "c1", "a2", "b2", "a3"]);
    }

    #[test]
    fn nothing_and_one_host_are_unchanged() {
        let empty: Vec<&str> = Vec::new();
        assert!(interleave(empty, |s| s.len()).is_empty());
        let one = vec!["a3", "a1", "a2"];
        assert_eq!(interleave(one.clone(), |_| 0), one);
    }

    proptest! {
        #[test]
        fn a_permutation_that_never_lets_a_host_run_ahead(
            keys in proptest::collection::vec(0u8..6, 0..60)
        ) {
            let items: Vec<(u8, usize)> = keys.iter().copied().zip(0..).collect();
            let out = interleave(items.clone(), |&(k, _)| k);
            // Same items.
            let mut sorted = out.clone();
            sorted.sort_by_key(|&(_, i)| i);
            prop_assert_eq!(&sorted, &items);
            // Within a host, the original order.
            for k in 0..6u8 {
                let of = |v: &[(u8, usize)]| v.iter().filter(|x| x.0 == k).map(|x| x.1).collect::<Vec<_>>();
                prop_assert_eq!(of(&out), of(&items));
            }
            // In every prefix, no host has two more sources started than
            // another host that still had sources left.
            let total = |k: u8| items.iter().filter(|x| x.0 == k).count();
            let mut seen = [0usize; 6];
            for &(k, _) in &out {
                seen[k as usize] += 1;
                for other in 0..6u8 {
                    if seen[other as usize] < total(other) {
                        prop_assert!(seen[k as usize] <= seen[other as usize] + 1);
                    }
                }
            }
        }
    }
}
