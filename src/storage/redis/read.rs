//! A Get without Lua: one HGETALL (or HMGET of the metadata and the keys
//! asked), decided here by the rules `read.lua` applies, at the same `now`.
//!
//! Most Gets write nothing: the session is live, no Rotate holds it, and its
//! idle deadline is not a granule behind (a read slides only in granules,
//! see `slide_read` in `common.lua`). Those are answered from the plain
//! read, which is atomic on its own, so the answer is the one the script
//! would give at that instant, and Redis is spared the script (a Lua call
//! and its tables cost it several times the read). When the read shows
//! that the script would write (the deadline has passed, so it deletes; or
//! the slide is due), the caller runs the script, which decides afresh.

use redis::Value;

use crate::clock::Millis;

use super::scripts::{bytes as owned, text, Malformed, Meta};

/// Metadata fields, as `common.lua` names them.
const VERSION: &[u8] = b"\0v";
const CREATED: &[u8] = b"\0c";
const ABSOLUTE: &[u8] = b"\0a";
const IDLE: &[u8] = b"\0i";
const IDLE_AT: &[u8] = b"\0d";
const ROTATED_TO: &[u8] = b"\0r";
const ROTATED_UNTIL: &[u8] = b"\0t";

/// The fields HMGET asks for ahead of a Get's named keys, in this order.
pub const META_FIELDS: [&[u8]; 7] = [
    VERSION,
    CREATED,
    ABSOLUTE,
    IDLE,
    IDLE_AT,
    ROTATED_TO,
    ROTATED_UNTIL,
];

/// What a plain read tells a Get.
#[derive(Debug, PartialEq, Eq)]
pub enum Plain {
    /// No session there, or a Rotate holds it: NOT_FOUND, as the script
    /// answers (writing nothing either).
    Absent,
    /// The session as it is, with nothing to write.
    Live(Meta),
    /// The script must run: it would delete the session (deadline passed)
    /// or slide it, or a field did not read as the scripts write it.
    Script,
}

/// The metadata a read needs, as raw field values (absent: `None`).
#[derive(Default)]
struct Fields<'a> {
    version: Option<&'a [u8]>,
    created: Option<&'a [u8]>,
    absolute: Option<&'a [u8]>,
    idle: Option<&'a [u8]>,
    idle_at: Option<&'a [u8]>,
    rotated_to: Option<&'a [u8]>,
    rotated_until: Option<&'a [u8]>,
}

impl<'a> Fields<'a> {
    fn set(&mut self, field: &[u8], value: &'a [u8]) {
        let slot = match field {
            VERSION => &mut self.version,
            CREATED => &mut self.created,
            ABSOLUTE => &mut self.absolute,
            IDLE => &mut self.idle,
            IDLE_AT => &mut self.idle_at,
            ROTATED_TO => &mut self.rotated_to,
            ROTATED_UNTIL => &mut self.rotated_until,
            _ => return,
        };
        *slot = Some(value);
    }
}

/// Decides a Get from an HGETALL answer (field, value, ...), and hands back
/// the data fields (metadata skipped) when the session is live.
pub fn decide_all(
    all: Value,
    now: Millis,
    touch: bool,
) -> Result<(Plain, Vec<(String, String)>), Malformed> {
    let Value::Array(items) = all else {
        return Err(Malformed);
    };
    let mut fields = Fields::default();
    let mut pairs = items.chunks_exact(2);
    for pair in &mut pairs {
        let field = bulk(&pair[0])?;
        if field.first() == Some(&0) {
            fields.set(field, bulk(&pair[1])?);
        }
    }
    if !pairs.remainder().is_empty() {
        return Err(Malformed);
    }
    let plain = decide(&fields, now, touch);
    if !matches!(plain, Plain::Live(_)) {
        return Ok((plain, Vec::new()));
    }
    let mut data = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        let field = owned(field)?;
        if field.first() != Some(&0) {
            data.push((text(field)?, text(owned(value)?)?));
        }
    }
    Ok((plain, data))
}

/// Decides a Get from an HMGET of [`META_FIELDS`] then `keys`, and hands
/// back the keys present when the session is live.
pub fn decide_named(
    answer: Value,
    keys: &[String],
    now: Millis,
    touch: bool,
) -> Result<(Plain, Vec<(String, String)>), Malformed> {
    let Value::Array(items) = answer else {
        return Err(Malformed);
    };
    if items.len() != META_FIELDS.len() + keys.len() {
        return Err(Malformed);
    }
    let mut fields = Fields::default();
    for (name, value) in META_FIELDS.iter().zip(&items) {
        if let Some(value) = optional(value)? {
            fields.set(name, value);
        }
    }
    let plain = decide(&fields, now, touch);
    if !matches!(plain, Plain::Live(_)) {
        return Ok((plain, Vec::new()));
    }
    let mut data = Vec::with_capacity(keys.len());
    for (key, value) in keys.iter().zip(items.into_iter().skip(META_FIELDS.len())) {
        if !matches!(value, Value::Nil) {
            data.push((key.clone(), text(owned(value)?)?));
        }
    }
    Ok((plain, data))
}

/// `read.lua`'s rules on the metadata read at `now`.
fn decide(fields: &Fields<'_>, now: Millis, touch: bool) -> Plain {
    let Some(version) = fields.version else {
        return Plain::Absent;
    };
    let figures = (|| {
        Some((
            number(version)?,
            number(fields.created?)?,
            maybe(fields.absolute)?,
            number(fields.idle?)?,
            number(fields.idle_at?)?,
            maybe(fields.rotated_until)?,
        ))
    })();
    // The scripts write every figure as digits; anything else is left to
    // the script (which reads it as Lua would) rather than guessed at.
    let Some((version, created, absolute, idle, idle_at, rotated_until)) = figures else {
        return Plain::Script;
    };
    let deadline = absolute.map_or(idle_at, |a| a.min(idle_at));
    if now >= deadline {
        return Plain::Script;
    }
    if fields.rotated_to.is_some() && rotated_until.is_some_and(|t| now < t) {
        return Plain::Absent;
    }
    if touch && now.saturating_add(idle) >= idle_at.saturating_add(granule(idle)) {
        return Plain::Script;
    }
    Plain::Live(Meta {
        version,
        created_ms: created,
        expires_ms: deadline,
        idle: std::time::Duration::from_millis(idle),
    })
}

/// The step a read slides by: 1/64 of the idle timeout, 1 s to 1 h.
pub fn granule(idle_ms: u64) -> u64 {
    (idle_ms / 64).clamp(1000, 3_600_000)
}

/// An optional field's figure: `Some(None)` when absent, `None` when it
/// does not read as one.
fn maybe(field: Option<&[u8]>) -> Option<Option<u64>> {
    match field {
        None => Some(None),
        Some(digits) => number(digits).map(Some),
    }
}

fn number(digits: &[u8]) -> Option<u64> {
    std::str::from_utf8(digits).ok()?.parse().ok()
}

fn bulk(value: &Value) -> Result<&[u8], Malformed> {
    match value {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.as_bytes()),
        _ => Err(Malformed),
    }
}

fn optional(value: &Value) -> Result<Option<&[u8]>, Malformed> {
    match value {
        Value::Nil => Ok(None),
        value => bulk(value).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(pairs: &[(&[u8], &str)]) -> Value {
        Value::Array(
            pairs
                .iter()
                .flat_map(|(f, v)| {
                    [
                        Value::BulkString(f.to_vec()),
                        Value::BulkString(v.as_bytes().to_vec()),
                    ]
                })
                .collect(),
        )
    }

    /// A session created at 1 000 with a 640 s idle timeout (granule 10 s),
    /// idle deadline 641 000, and a data key.
    fn session(extra: &[(&[u8], &str)]) -> Value {
        let mut pairs: Vec<(&[u8], &str)> = vec![
            (VERSION, "3"),
            (CREATED, "1000"),
            (IDLE, "640000"),
            (IDLE_AT, "641000"),
            (b"\0b", "9"),
            (b"\0n", "1"),
            (b"user", "\"yuan\""),
        ];
        pairs.extend_from_slice(extra);
        hash(&pairs)
    }

    #[test]
    fn a_live_session_is_answered_with_its_data_and_nothing_to_write() {
        let (plain, data) = decide_all(session(&[]), 5_000, true).unwrap();
        assert_eq!(
            plain,
            Plain::Live(Meta {
                version: 3,
                created_ms: 1000,
                expires_ms: 641_000,
                idle: std::time::Duration::from_secs(640),
            })
        );
        assert_eq!(data, vec![("user".to_owned(), "\"yuan\"".to_owned())]);
    }

    #[test]
    fn a_slide_that_is_due_and_a_passed_deadline_go_to_the_script() {
        // now + idle reaches the deadline plus a granule at now = 11 000.
        assert!(matches!(
            decide_all(session(&[]), 10_999, true).unwrap().0,
            Plain::Live(_)
        ));
        assert_eq!(
            decide_all(session(&[]), 11_000, true).unwrap().0,
            Plain::Script
        );
        // Without counting as activity, nothing slides.
        assert!(matches!(
            decide_all(session(&[]), 11_000, false).unwrap().0,
            Plain::Live(_)
        ));
        assert_eq!(
            decide_all(session(&[]), 641_000, false).unwrap().0,
            Plain::Script
        );
        let capped = session(&[(ABSOLUTE, "2000")]);
        assert_eq!(decide_all(capped, 2_000, false).unwrap().0, Plain::Script);
    }

    #[test]
    fn absent_held_and_unreadable_sessions() {
        assert_eq!(
            decide_all(Value::Array(vec![]), 5_000, true).unwrap().0,
            Plain::Absent
        );
        let held = session(&[(ROTATED_TO, "sessiond:{ab}"), (ROTATED_UNTIL, "6000")]);
        assert_eq!(decide_all(held, 5_000, true).unwrap().0, Plain::Absent);
        let abandoned = session(&[(ROTATED_TO, "sessiond:{ab}"), (ROTATED_UNTIL, "4000")]);
        assert!(matches!(
            decide_all(abandoned, 5_000, false).unwrap().0,
            Plain::Live(_)
        ));
        let odd = session(&[(ABSOLUTE, "1e6")]);
        assert_eq!(decide_all(odd, 5_000, true).unwrap().0, Plain::Script);
        assert!(decide_all(Value::Int(1), 5_000, true).is_err());
    }

    #[test]
    fn named_keys_come_after_the_metadata() {
        let keys = vec!["user".to_owned(), "cart".to_owned()];
        let mut items: Vec<Value> = [Some("3"), Some("1000"), None, Some("640000")]
            .into_iter()
            .chain([Some("641000"), None, None, Some("\"yuan\""), None])
            .map(|v| v.map_or(Value::Nil, |v| Value::BulkString(v.as_bytes().to_vec())))
            .collect();
        let (plain, data) = decide_named(Value::Array(items.clone()), &keys, 5_000, true).unwrap();
        assert!(matches!(plain, Plain::Live(m) if m.version == 3));
        assert_eq!(data, vec![("user".to_owned(), "\"yuan\"".to_owned())]);
        items.pop();
        assert!(decide_named(Value::Array(items), &keys, 5_000, true).is_err());
    }
}
