//! A session's data, held compactly: every key and value back to back in one
//! string, and their lengths in one array. Two allocations per session
//! instead of a hash table plus two per key, which is most of a small
//! session's memory. Sessions hold few keys, so lookups scan.

use std::collections::HashMap;

/// Keys and JSON values of one session. Keys are unique.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    /// `key0 value0 key1 value1 ...`, concatenated.
    text: Box<str>,
    /// Byte lengths, two per field: key, then value.
    lens: Box<[u32]>,
}

impl Fields {
    /// Builds from pairs with unique keys.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)> + Clone) -> Self {
        let (bytes, count) = pairs
            .clone()
            .into_iter()
            .fold((0, 0), |(b, n), (k, v)| (b + k.len() + v.len(), n + 1));
        let mut text = String::with_capacity(bytes);
        let mut lens = Vec::with_capacity(2 * count);
        for (k, v) in pairs {
            text.push_str(k);
            text.push_str(v);
            lens.push(k.len() as u32);
            lens.push(v.len() as u32);
        }
        Fields {
            text: text.into_boxed_str(),
            lens: lens.into_boxed_slice(),
        }
    }

    pub fn from_map(map: &HashMap<String, String>) -> Self {
        Self::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Every (key, value).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + Clone + '_ {
        let mut at = 0;
        self.lens.chunks_exact(2).map(move |kv| {
            let (k, v) = (kv[0] as usize, kv[1] as usize);
            let key = &self.text[at..at + k];
            let value = &self.text[at + k..at + k + v];
            at += k + v;
            (key, value)
        })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.lens.len() / 2
    }

    /// Bytes of keys and values: what the session size limit counts.
    pub fn bytes(&self) -> usize {
        self.text.len()
    }

    pub fn to_map(&self) -> HashMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The fields after removing `remove` (sorted) and then upserting
    /// `upsert`; `self` is unchanged, so a caller can check limits on the
    /// result before committing to it.
    pub fn updated(&self, upsert: &HashMap<String, String>, remove: &[String]) -> Fields {
        let kept = self.iter().filter(|(k, _)| {
            !upsert.contains_key(*k) && remove.binary_search_by(|r| r.as_str().cmp(k)).is_err()
        });
        let new = upsert.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        Fields::from_pairs(kept.chain(new))
    }

    /// Whether removing `remove` would change anything.
    pub fn has_any(&self, remove: &[String]) -> bool {
        self.iter()
            .any(|(k, _)| remove.binary_search_by(|r| r.as_str().cmp(k)).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fields_round_trip_through_a_map() {
        let m = map(&[("user", "\"yuan\""), ("é", "[1]"), ("empty", "\"\"")]);
        let f = Fields::from_map(&m);
        assert_eq!(f.to_map(), m);
        assert_eq!(f.len(), 3);
        assert_eq!(
            f.bytes(),
            m.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
        );
        assert_eq!(f.get("é"), Some("[1]"));
        assert_eq!(f.get("nope"), None);
    }

    #[test]
    fn updates_replace_remove_and_add() {
        let f = Fields::from_map(&map(&[("a", "1"), ("b", "2"), ("c", "3")]));
        let g = f.updated(
            &map(&[("a", "10"), ("d", "4")]),
            &["b".to_string(), "z".to_string()],
        );
        assert_eq!(g.to_map(), map(&[("a", "10"), ("c", "3"), ("d", "4")]));
        assert!(f.has_any(&["b".to_string()]));
        assert!(!f.has_any(&["z".to_string()]));
        assert_eq!(f.to_map().len(), 3, "the original is unchanged");
    }
}
