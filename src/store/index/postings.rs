//! Postings lists of the blocking index: slots sorted ascending (slots
//! follow sighting ids), kept sorted on insert, and read from the newest
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

/// How many entries of the longest unread list one chunk of the walk takes.
const CHUNK: usize = 256;
/// Below this many unread entries in all, the rest is counted in one go.
const SMALL: usize = 64;

thread_local! {
    /// Per-slot counters of the chunk being counted, indexed from the
    /// chunk's lowest slot; all zero between uses.
    static COUNTERS: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Lists this short are not walked: each of their slots is looked up in
/// the other lists instead (a few binary searches).
const PROBED: usize = 32;

/// The `limit` slots present in at least `needed` of the sorted `lists`,
/// ranked by how many lists hold them, then newest (highest slot) first.
///
/// The slots of the short lists (a title's programme number, a rare word)
/// are counted exactly by lookups; the long lists are then walked for the
/// others (see [`walk`]), which now may stop as soon as enough slots share
/// `needed` of the long lists alone, instead of reading back to the oldest
/// slot of a short list. Same ranking as walking every list.
pub(super) fn top_shared(lists: &[&[u32]], needed: usize, limit: usize) -> Vec<u32> {
    let needed = needed.max(1);
    let (short, long): (Vec<&[u32]>, Vec<&[u32]>) =
        lists.iter().copied().partition(|l| l.len() <= PROBED);
    if short.is_empty() || long.is_empty() {
        return walk(lists, needed, limit)
            .into_iter()
            .map(|(slot, _)| slot)
            .collect();
    }
    let mut probed: Vec<u32> = short.concat();
    probed.sort_unstable();
    probed.dedup();
    let mut ranked: Vec<(usize, u32)> = probed
        .iter()
        .map(|&slot| {
            let count = lists
                .iter()
                .filter(|l| l.binary_search(&slot).is_ok())
                .count();
            (count, slot)
        })
        .filter(|&(count, _)| count >= needed)
        .collect();
    // A slot in no short list is in as many lists as it is in long ones.
    // `limit` of them suffice: each of the walk's slots ranks at least as
    // high by its full count as by its count in the long lists, so a slot
    // the walk did not return is outranked by `limit` others.
    ranked.extend(
        walk(&long, needed, limit)
            .into_iter()
            .filter(|(slot, _)| probed.binary_search(slot).is_err())
            .map(|(slot, count)| (count, slot)),
    );
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    ranked.truncate(limit);
    ranked.into_iter().map(|(_, slot)| slot).collect()
}

/// The `limit` slots present in at least `needed` of the sorted `lists`,
/// with how many lists hold them, ranked like [`top_shared`].
///
/// The lists are read together from their newest ends, one chunk of slots
/// at a time: every list's entries in the chunk are counted exactly (a
/// slot in the chunk can only be in the chunk's part of each list), and the
/// walk stops as soon as `limit` slots found rank ahead of anything still
/// unread (an unread slot is older than all found, and in at most as many
/// lists as still have unread entries). Counting a chunk in a flat counter
/// array costs a few nanoseconds per entry, where merging the lists entry
/// by entry paid a mispredicted branch or two at each step.
fn walk(lists: &[&[u32]], needed: usize, limit: usize) -> Vec<(u32, usize)> {
    // Counts are bytes; the index asks about a handful of lists.
    assert!(lists.len() <= usize::from(u8::MAX), "too many lists");
    let needed = needed.max(1);
    let mut ends: Vec<usize> = lists.iter().map(|l| l.len()).collect();
    // The slots found in exactly `c` lists, newest first. Only the first
    // `limit` of each count can rank, so a bucket stops growing there.
    let mut by_count: Vec<Vec<u32>> = vec![Vec::new(); lists.len() + 1];
    // `ranked_from[c]`: how many slots kept so far are in `c` lists or more.
    let mut ranked_from: Vec<usize> = vec![0; lists.len() + 2];
    // The fewest lists a slot must be in to rank: once `limit` slots share
    // `c` lists, a slot in `c` lists or fewer cannot.
    let mut floor = needed;
    let mut found: Vec<(u32, usize)> = Vec::new();
    COUNTERS.with_borrow_mut(|counters| {
        loop {
            let remaining = ends.iter().filter(|&&e| e > 0).count();
            if remaining < floor || ranked_from[remaining] >= limit {
                break;
            }
            let unread: usize = ends.iter().sum();
            let longest = lists
                .iter()
                .zip(&ends)
                .max_by_key(|(_, e)| **e)
                .map(|(l, &e)| &l[..e]);
            // The chunk is [lo, hi): CHUNK entries of the longest list, or
            // everything when little is left.
            let lo = match longest {
                Some(l) if unread > SMALL && l.len() > CHUNK => l[l.len() - CHUNK],
                _ => 0,
            };
            let hi = lists
                .iter()
                .zip(&ends)
                .filter(|(_, e)| **e > 0)
                .map(|(l, &e)| l[e - 1])
                .max()
                .map_or(0, |top| top as usize + 1);
            let starts: Vec<usize> = lists
                .iter()
                .zip(&ends)
                .map(|(l, &e)| l[..e].partition_point(|&x| x < lo))
                .collect();
            let parts: Vec<&[u32]> = lists
                .iter()
                .zip(&ends)
                .zip(&starts)
                .map(|((l, &e), &s)| &l[s..e])
                .filter(|p| !p.is_empty())
                .collect();
            count_chunk(counters, parts, lo, hi, floor, &mut found);
            ends.copy_from_slice(&starts);
            for &(slot, count) in &found {
                if count >= floor && by_count[count].len() < limit {
                    by_count[count].push(slot);
                    for r in &mut ranked_from[..=count] {
                        *r += 1;
                    }
                    if by_count[count].len() == limit {
                        floor = floor.max(count + 1);
                    }
                }
            }
        }
    });
    by_count
        .into_iter()
        .enumerate()
        .rev()
        .flat_map(|(count, slots)| slots.into_iter().map(move |slot| (slot, count)))
        .take(limit)
        .collect()
}

/// Counts the chunk `[lo, hi)` whose entries are `parts` (the non-empty
/// parts of the lists in it) and puts in `found` its slots in at least
/// `floor` parts, with their counts, newest first. Leaves `counters` all
/// zero.
// Kept out of line: inlined into `walk`, the same code took ~10 % more
// instructions (callgrind), the compiler's choices shifting with its caller.
#[inline(never)]
fn count_chunk(
    counters: &mut Vec<u8>,
    mut parts: Vec<&[u32]>,
    lo: u32,
    hi: usize,
    floor: usize,
    found: &mut Vec<(u32, usize)>,
) {
    let base = lo as usize;
    if counters.len() < hi - base {
        counters.resize(hi - base, 0);
    }
    for part in &parts {
        for &x in *part {
            counters[x as usize - base] += 1;
        }
    }
    found.clear();
    // A slot in `floor` of the chunk's `m` parts is in any `m - floor + 1`
    // of them: only the shortest ones are read back.
    if parts.len() >= floor {
        parts.sort_unstable_by_key(|p| p.len());
        let readers = &parts[..parts.len() - floor + 1];
        for part in readers {
            for &x in part.iter().rev() {
                let count = usize::from(counters[x as usize - base]);
                if count >= floor {
                    found.push((x, count));
                    // Read once, even when several readers hold it.
                    counters[x as usize - base] = 0;
                }
            }
        }
        if readers.len() > 1 {
            found.sort_unstable_by_key(|&(slot, _)| std::cmp::Reverse(slot));
        }
    }
    for part in &parts {
        for &x in *part {
            counters[x as usize - base] = 0;
        }
    }
}
