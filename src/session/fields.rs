//! A session's data, held compactly: every key and value back to back in one
//! byte string, each preceded by its length as a LEB128 varint (one byte for
//! anything under 128 bytes). The string lives in the same allocation as the
//! rest of the session (`entry.rs`), so a small session costs one
//! allocation. Sessions hold few keys, so lookups scan. Keys are kept in
//! byte order.

use std::collections::HashMap;

/// The encoded keys and JSON values of one session, borrowed. Keys are
/// unique.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    bytes: &'a [u8],
}

/// Encoded fields, owned: what a session's allocation is built from.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldsBuf(Vec<u8>);

impl FieldsBuf {
    /// Encodes pairs with unique keys, sorted by key: the gateway writes
    /// a session's JSON in key order, and finds it already in that order.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
        pairs.sort_unstable_by_key(|(k, _)| *k);
        let bytes = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
        let mut out = Vec::with_capacity(bytes);
        for (k, v) in pairs {
            put(&mut out, k);
            put(&mut out, v);
        }
        FieldsBuf(out)
    }

    pub fn from_map(map: &HashMap<String, String>) -> Self {
        Self::from_pairs(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    pub fn fields(&self) -> Fields<'_> {
        Fields { bytes: &self.0 }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<'a> Fields<'a> {
    /// Views bytes a [`FieldsBuf`] encoded.
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes }
    }

    /// Every (key, value), in one pass over the bytes.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, &'a str)> + Clone + 'a {
        self.iter_bytes().map(|(k, v)| (utf8(k), utf8(v)))
    }

    /// Every (key, value) as its UTF-8 bytes, not checked again: for
    /// writers of a wire format, which copy bytes and need no `&str`.
    pub fn iter_bytes(self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone + 'a {
        Pairs { rest: self.bytes }
    }

    pub fn get(self, key: &str) -> Option<&'a str> {
        self.iter_bytes()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| utf8(v))
    }

    /// Whether there are no keys.
    pub fn is_empty(self) -> bool {
        self.bytes.is_empty()
    }

    /// Number of keys.
    pub fn len(self) -> usize {
        let mut rest = self.bytes;
        let mut n = 0;
        while !rest.is_empty() {
            rest = take(rest).1;
            n += 1;
        }
        n / 2
    }

    /// Bytes of keys and values: what the session size limit counts.
    pub fn bytes(self) -> usize {
        let mut rest = self.bytes;
        let mut n = 0;
        while !rest.is_empty() {
            let (s, r) = take(rest);
            n += s.len();
            rest = r;
        }
        n
    }

    #[cfg(test)]
    pub fn to_map(self) -> HashMap<String, String> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The fields after removing `remove` (sorted) and then upserting
    /// `upsert`; `self` is unchanged, so a caller can check limits on the
    /// result before committing to it.
    pub fn updated(self, upsert: &HashMap<String, String>, remove: &[String]) -> FieldsBuf {
        let kept = self.iter().filter(|(k, _)| {
            !upsert.contains_key(*k) && remove.binary_search_by(|r| r.as_str().cmp(k)).is_err()
        });
        let new = upsert.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        FieldsBuf::from_pairs(kept.chain(new))
    }

    /// Whether removing `remove` would change anything.
    pub fn has_any(self, remove: &[String]) -> bool {
        self.iter()
            .any(|(k, _)| remove.binary_search_by(|r| r.as_str().cmp(k)).is_ok())
    }
}

#[derive(Clone)]
struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let (key, rest) = take(self.rest);
        let (value, rest) = take(rest);
        self.rest = rest;
        Some((key, value))
    }
}

/// Appends one length-prefixed string (also how the memory store encodes
/// a session's user binding beside its fields).
pub(crate) fn put(out: &mut Vec<u8>, s: &str) {
    let mut n = s.len();
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
    out.extend_from_slice(s.as_bytes());
}

/// Splits one length-prefixed string off the front. The bytes were encoded
/// by `put`, so they are well formed.
pub(crate) fn take(bytes: &[u8]) -> (&[u8], &[u8]) {
    let mut n = 0usize;
    let mut shift = 0;
    let mut at = 0;
    loop {
        let b = bytes[at];
        at += 1;
        n |= usize::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
        shift += 7;
    }
    bytes[at..].split_at(n)
}

/// Keys and values went in as `&str`; only a bug could make them otherwise.
fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("session fields are encoded from UTF-8 strings")
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
        let long = "x".repeat(300); // a two-byte length prefix
        let m = map(&[
            ("user", "\"yuan\""),
            ("é", "[1]"),
            ("empty", "\"\""),
            ("long", &long),
        ]);
        let buf = FieldsBuf::from_map(&m);
        let f = buf.fields();
        assert_eq!(f.to_map(), m);
        assert_eq!(f.len(), 4);
        assert_eq!(f.iter().count(), 4);
        assert_eq!(
            f.bytes(),
            m.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
        );
        assert_eq!(f.get("é"), Some("[1]"));
        assert_eq!(f.get("long"), Some(long.as_str()));
        assert_eq!(f.get("nope"), None);
        assert_eq!(FieldsBuf::default().fields().len(), 0);
    }

    #[test]
    fn a_small_field_costs_two_bytes_of_framing() {
        let buf = FieldsBuf::from_pairs([("user", "\"yuan\"")]);
        assert_eq!(buf.as_bytes().len(), 2 + 4 + 6);
    }

    #[test]
    fn updates_replace_remove_and_add() {
        let buf = FieldsBuf::from_map(&map(&[("a", "1"), ("b", "2"), ("c", "3")]));
        let f = buf.fields();
        let g = f.updated(
            &map(&[("a", "10"), ("d", "4")]),
            &["b".to_string(), "z".to_string()],
        );
        assert_eq!(
            g.fields().to_map(),
            map(&[("a", "10"), ("c", "3"), ("d", "4")])
        );
        assert!(f.has_any(&["b".to_string()]));
        assert!(!f.has_any(&["z".to_string()]));
        assert_eq!(f.to_map().len(), 3, "the original is unchanged");
    }

    #[test]
    fn keys_are_kept_in_byte_order_whatever_order_they_come_in() {
        let keys = ["é", "b", "a", "Z", "ab", ""];
        let m = map(&keys.map(|k| (k, "1")));
        let order = |buf: &FieldsBuf| -> Vec<String> {
            buf.fields().iter().map(|(k, _)| k.to_owned()).collect()
        };
        let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        expected.sort();
        assert_eq!(order(&FieldsBuf::from_map(&m)), expected);
        let reversed = FieldsBuf::from_pairs(keys.iter().rev().map(|k| (*k, "1")));
        assert_eq!(order(&reversed), expected);
        let updated = reversed
            .fields()
            .updated(&map(&[("0", "2"), ("zz", "3")]), &["b".to_string()]);
        assert_eq!(order(&updated), ["", "0", "Z", "a", "ab", "zz", "é"]);
    }
}
