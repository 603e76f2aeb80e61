//! A set of asset ids at one bit each. Asset ids are dense (the store numbers new assets
//! from the highest id up), so a million assets take 125 KB; an id far outside that range
//! (only a database edited by hand has one) goes to a small hash set instead of growing the
//! bitmap without bound.

use std::collections::HashSet;

/// Ids from 0 up to this fit in the bitmap: 2^27 ids, 16 MiB of bits at most.
const BITMAP_IDS: u64 = 1 << 27;

#[derive(Debug, Default)]
pub struct IdSet {
    words: Vec<u64>,
    others: HashSet<i64>,
    len: usize,
}

impl IdSet {
    /// Adds `id`; false if it was there already.
    pub fn insert(&mut self, id: i64) -> bool {
        let added = match slot(id) {
            Some((word, bit)) => {
                if word >= self.words.len() {
                    self.words.resize(word + 1, 0);
                }
                let was = self.words[word] & bit != 0;
                self.words[word] |= bit;
                !was
            }
            None => self.others.insert(id),
        };
        self.len += usize::from(added);
        added
    }

    /// Takes `id` out; false if it was not there.
    pub fn remove(&mut self, id: i64) -> bool {
        let removed = match slot(id) {
            Some((word, bit)) => match self.words.get_mut(word) {
                Some(w) if *w & bit != 0 => {
                    *w &= !bit;
                    true
                }
                _ => false,
            },
            None => self.others.remove(&id),
        };
        self.len -= usize::from(removed);
        removed
    }

    pub fn contains(&self, id: i64) -> bool {
        match slot(id) {
            Some((word, bit)) => self.words.get(word).is_some_and(|w| w & bit != 0),
            None => self.others.contains(&id),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The bitmap word and bit of `id`, if it is in the bitmap's range.
fn slot(id: i64) -> Option<(usize, u64)> {
    let id = u64::try_from(id).ok().filter(|&i| i < BITMAP_IDS)?;
    Some(((id / 64) as usize, 1 << (id % 64)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_a_set_across_the_bitmap_and_its_overflow() {
        let mut set = IdSet::default();
        let mut model = HashSet::new();
        let ids = [
            0,
            1,
            63,
            64,
            65,
            1_000_000,
            -1,
            i64::MIN,
            i64::MAX,
            1 << 27,
            (1 << 27) - 1,
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for step in 0..20_000 {
            let id = if step % 3 == 0 {
                ids[rng.usize(..ids.len())]
            } else {
                rng.i64(0..5_000)
            };
            if rng.bool() {
                assert_eq!(set.insert(id), model.insert(id), "insert {id}");
            } else {
                assert_eq!(set.remove(id), model.remove(&id), "remove {id}");
            }
            assert_eq!(set.len(), model.len());
            assert_eq!(set.contains(id), model.contains(&id));
        }
        for id in ids {
            assert_eq!(set.contains(id), model.contains(&id));
        }
        assert!(set.words.len() <= (BITMAP_IDS / 64) as usize);
    }

    #[test]
    fn a_huge_id_does_not_grow_the_bitmap() {
        let mut set = IdSet::default();
        assert!(set.insert(i64::MAX));
        assert!(set.insert(1 << 40));
        assert!(set.words.is_empty());
        assert_eq!(set.len(), 2);
        assert!(!set.is_empty());
    }
}
