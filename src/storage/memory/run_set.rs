//! An ordered set of small values kept in sorted runs: the per-user
//! index's shard (`user_index.rs`).
//!
//! A B-tree splits full nodes in half, so under random inserts its leaves
//! stay about two thirds full, and a leaf of 11 pairs of 16 bytes is a
//! 192-byte block: 27.6 bytes a pair. Here each run is a vector sized to
//! its values (it grows by one at a time, mostly in place within its
//! allocator size class) and runs are found through a small B-tree of
//! their lower bounds, so a value costs its own size, a tenth more for
//! size-class rounding, and a share of one map slot per run (BENCHMARKS.md,
//! row U1).

use std::collections::BTreeMap;
use std::ops::Bound;

/// Values a run holds at most; a fuller run splits in two. Inserting
/// moves at most this many values, and a run of 64 values of 12 bytes is
/// one 768-byte block.
const RUN: usize = 64;

/// A run this short merges with the one after it, when the two fit one
/// run, so removals cannot leave many nearly empty runs behind.
const SPARSE: usize = RUN / 4;

/// Each run under its fence: a value no greater than any it holds and
/// greater than every value of the runs before it. No run is empty.
#[derive(Debug)]
pub(crate) struct RunSet<T> {
    runs: BTreeMap<T, Vec<T>>,
}

impl<T> Default for RunSet<T> {
    fn default() -> Self {
        RunSet {
            runs: BTreeMap::new(),
        }
    }
}

impl<T: Ord + Copy> RunSet<T> {
    /// Adds `value`; `false` if it was there already.
    pub fn insert(&mut self, value: T) -> bool {
        let fence = match self.runs.range(..=value).next_back() {
            Some((&fence, _)) => fence,
            // Below every fence: the first run's fence falls to it.
            None => {
                let run = self.runs.pop_first().map_or_else(Vec::new, |(_, run)| run);
                self.runs.insert(value, run);
                value
            }
        };
        let run = self.runs.get_mut(&fence).expect("the run just found");
        let Err(at) = run.binary_search(&value) else {
            return false;
        };
        run.reserve_exact(1);
        run.insert(at, value);
        if run.len() > RUN {
            let upper = run.split_off(run.len() / 2);
            run.shrink_to_fit();
            self.runs.insert(upper[0], upper);
        }
        true
    }

    /// Takes `value` out; `false` if it was not there.
    pub fn remove(&mut self, value: &T) -> bool {
        let Some((&fence, run)) = self.runs.range_mut(..=*value).next_back() else {
            return false;
        };
        let Ok(at) = run.binary_search(value) else {
            return false;
        };
        run.remove(at);
        if run.len() * 2 < run.capacity() {
            run.shrink_to_fit();
        }
        if run.len() < SPARSE {
            self.merge_after(fence);
        }
        true
    }

    /// Drops the run under `fence` if it is empty, or takes in the run
    /// after it if the two fit one run.
    fn merge_after(&mut self, fence: T) {
        let len = self.runs[&fence].len();
        if len == 0 {
            self.runs.remove(&fence);
            return;
        }
        let next = self
            .runs
            .range((Bound::Excluded(fence), Bound::Unbounded))
            .next()
            .filter(|(_, next)| len + next.len() <= RUN)
            .map(|(&next, _)| next);
        if let Some(next) = next {
            let next = self.runs.remove(&next).expect("the run just found");
            let run = self.runs.get_mut(&fence).expect("the run merged into");
            run.reserve_exact(next.len());
            run.extend_from_slice(&next);
        }
    }

    /// The values from `low` to `high`, both included, in order.
    pub fn range(&self, low: T, high: T) -> impl Iterator<Item = &T> + '_ {
        // The run that may hold `low`, and every run whose fence is in
        // range.
        let first = self
            .runs
            .range(..=low)
            .next_back()
            .map_or(low, |(&fence, _)| fence);
        self.runs
            .range(first..=high.max(first))
            .flat_map(|(_, run)| run.iter())
            .skip_while(move |v| **v < low)
            .take_while(move |v| **v <= high)
    }

    /// Every value, in order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.runs.values().flatten()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// A small xorshift, so the test is the same on every run.
    fn numbers(mut x: u64) -> impl Iterator<Item = u64> {
        std::iter::from_fn(move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Some(x)
        })
    }

    fn check(set: &RunSet<u32>, model: &BTreeSet<u32>) {
        assert!(set.iter().eq(model.iter()), "the same values, in order");
        for (fence, run) in &set.runs {
            assert!(!run.is_empty() && run.len() <= RUN);
            assert!(run[0] >= *fence);
        }
    }

    #[test]
    fn it_holds_what_an_ordered_set_holds_through_inserts_and_removals() {
        let mut set = RunSet::default();
        let mut model = BTreeSet::new();
        // Values from a small range, so inserts meet duplicates and
        // removals meet present values.
        for (i, n) in numbers(7).take(60_000).enumerate() {
            let value = (n % 5_000) as u32;
            if i % 3 == 2 || (i > 40_000 && i % 3 != 0) {
                assert_eq!(set.remove(&value), model.remove(&value));
            } else {
                assert_eq!(set.insert(value), model.insert(value));
            }
            if i % 1_000 == 0 {
                check(&set, &model);
            }
        }
        check(&set, &model);
        for (low, high) in [(0, 4_999), (10, 20), (4_990, 6_000), (7, 7), (3, 2)] {
            let got: Vec<u32> = set.range(low, high).copied().collect();
            let want: Vec<u32> = model
                .iter()
                .copied()
                .filter(|v| (low..=high).contains(v))
                .collect();
            assert_eq!(got, want, "{low}..={high}");
        }
        for value in model.clone() {
            assert!(set.remove(&value));
        }
        assert!(set.runs.is_empty(), "emptied runs are dropped");
    }

    #[test]
    fn a_value_below_every_fence_opens_the_first_run() {
        let mut set = RunSet::default();
        for value in (0..200u32).rev() {
            assert!(set.insert(value));
        }
        assert!(set.iter().copied().eq(0..200));
        assert_eq!(set.range(0, 0).count(), 1);
        assert_eq!(set.range(100, 163).count(), 64);
        assert!(set.runs.len() > 2, "runs split as they fill");
    }
}
