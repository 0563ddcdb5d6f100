//! Postings lists of the blocking index: slots sorted ascending (slots
//! follow sighting ids), kept sorted on insert, and walked from the newest
//! end to rank the slots that share the most tokens.

pub(super) fn insert_sorted(list: &mut Vec<u32>, slot: u32) {
    match list.last() {
        Some(&last) if last >= slot => {
            if let Err(i) = list.binary_search(&slot) {
                list.insert(i, slot);
            }
        }
        _ => list.push(slot),
    }
}

/// The `limit` slots present in at least `needed` of the sorted `lists`,
/// ranked by how many lists hold them, then newest (highest slot) first.
///
/// The lists are walked together from their ends, so slots come newest
/// first with their exact count; the walk stops as soon as `limit` slots
/// found rank ahead of anything still unread (an unread slot is in at most
/// as many lists as still have unread entries).
pub(super) fn top_shared(lists: &[&[u32]], needed: usize, limit: usize) -> Vec<u32> {
    let mut ends: Vec<usize> = lists.iter().map(|l| l.len()).collect();
    // The slots found in exactly `c` lists, newest first. Only the first
    // `limit` of each count can rank, so a bucket stops growing there.
    let mut by_count: Vec<Vec<u32>> = vec![Vec::new(); lists.len() + 1];
    let mut tails: Vec<u32> = Vec::with_capacity(lists.len());
    loop {
        let remaining = ends.iter().filter(|&&e| e > 0).count();
        if remaining < needed {
            break;
        }
        if by_count[remaining..].iter().map(Vec::len).sum::<usize>() >= limit {
            break;
        }
        // Once `limit` slots share `c` lists, a slot in `c` lists or fewer
        // can no longer rank: only slots in `floor` lists are worth reading.
        let floor = by_count
            .iter()
            .rposition(|b| b.len() >= limit)
            .map_or(needed, |c| needed.max(c + 1));
        if floor > remaining {
            break;
        }
        if floor >= 2 {
            // A slot newer than the floor-th newest tail is in fewer than
            // `floor` lists: skip those runs (galloping from the end).
            tails.clear();
            tails.extend(
                lists
                    .iter()
                    .zip(&ends)
                    .filter(|(_, e)| **e > 0)
                    .map(|(l, e)| l[*e - 1]),
            );
            tails.sort_unstable_by(|a, b| b.cmp(a));
            let pivot = tails[floor - 1];
            for (l, e) in lists.iter().zip(ends.iter_mut()) {
                if *e > 0 && l[*e - 1] > pivot {
                    *e = skip_above(&l[..*e], pivot);
                }
            }
        }
        let Some(top) = lists
            .iter()
            .zip(&ends)
            .filter(|(_, e)| **e > 0)
            .map(|(l, e)| l[*e - 1])
            .max()
        else {
            break;
        };
        let mut count = 0;
        for (l, e) in lists.iter().zip(ends.iter_mut()) {
            if *e > 0 && l[*e - 1] == top {
                *e -= 1;
                count += 1;
            }
        }
        if count >= needed && by_count[count].len() < limit {
            by_count[count].push(top);
        }
    }
    by_count.into_iter().rev().flatten().take(limit).collect()
}

/// The length of the prefix of the sorted `list` that is `<= pivot`,
/// searched from the end with doubling steps (the skipped run is short).
fn skip_above(list: &[u32], pivot: u32) -> usize {
    let end = list.len();
    let mut step = 1;
    while step < end && list[end - step] > pivot {
        step *= 2;
    }
    let lo = end.saturating_sub(step);
    lo + list[lo..].partition_point(|&x| x <= pivot)
}
