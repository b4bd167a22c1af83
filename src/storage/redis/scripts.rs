//! The Lua scripts (files beside this one) and the shape of their answers.
//!
//! Each compound operation is one script, so it is atomic on the server: a
//! Get that slides, a Set that checks versions and limits, a Flush, a
//! Touch, the three steps of a Rotate, and the steps of a user's index
//! (`users.rs`). `redis::Script` hashes each text once and calls it by SHA
//! (EVALSHA), loading it on NOSCRIPT.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, Value};

use crate::clock::Millis;

macro_rules! script {
    ($file:literal) => {
        LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/common.lua"),
                "\n",
                include_str!(concat!("lua/", $file))
            ))
        })
    };
}

pub static CREATE: LazyLock<Script> = script!("create.lua");
pub static READ: LazyLock<Script> = script!("read.lua");
pub static SET: LazyLock<Script> = script!("set.lua");
pub static TOUCH: LazyLock<Script> = script!("touch.lua");
pub static FLUSH: LazyLock<Script> = script!("flush.lua");
pub static ROTATE_BEGIN: LazyLock<Script> = script!("rotate_begin.lua");
pub static ROTATE_COPY: LazyLock<Script> = script!("rotate_copy.lua");
pub static ROTATE_END: LazyLock<Script> = script!("rotate_end.lua");
pub static WRITE: LazyLock<Script> = script!("write.lua");
pub static NAMESPACE: LazyLock<Script> = script!("namespace.lua");
pub static BIND: LazyLock<Script> = script!("bind.lua");
pub static PEEK: LazyLock<Script> = script!("peek.lua");
pub static REVOKE: LazyLock<Script> = script!("revoke.lua");
pub static INDEX_ADD: LazyLock<Script> = script!("index_add.lua");

/// Every script, for loading them all up front.
pub fn all() -> [&'static Script; 14] {
    [
        &BIND,
        &PEEK,
        &REVOKE,
        &INDEX_ADD,
        &WRITE,
        &NAMESPACE,
        &CREATE,
        &READ,
        &SET,
        &TOUCH,
        &FLUSH,
        &ROTATE_BEGIN,
        &ROTATE_COPY,
        &ROTATE_END,
    ]
}

/// A session's info as a script answers it: `{1, version, created,
/// deadline, idle ms, ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub version: u64,
    pub created_ms: Millis,
    pub expires_ms: Millis,
    pub idle: Duration,
}

/// Why an answer could not be read: a script and this file disagree, which
/// is a bug, reported as a backend failure rather than a panic.
#[derive(Debug)]
pub struct Malformed;

pub fn int(value: &Value) -> Result<i64, Malformed> {
    match value {
        Value::Int(n) => Ok(*n),
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or(Malformed),
        _ => Err(Malformed),
    }
}

fn non_negative(value: &Value) -> Result<u64, Malformed> {
    u64::try_from(int(value)?).map_err(|_| Malformed)
}

pub fn array(value: Value) -> Result<Vec<Value>, Malformed> {
    match value {
        Value::Array(items) => Ok(items),
        _ => Err(Malformed),
    }
}

/// The status in front of an answer: 1 found, 0 not found, other figures
/// as each script says.
pub fn status(items: &[Value]) -> Result<i64, Malformed> {
    int(items.first().ok_or(Malformed)?)
}

/// The info of an answer that starts `{1, version, created, deadline,
/// idle}`.
pub fn meta(items: &[Value]) -> Result<Meta, Malformed> {
    let [_, version, created, deadline, idle, ..] = items else {
        return Err(Malformed);
    };
    Ok(Meta {
        version: non_negative(version)?,
        created_ms: non_negative(created)?,
        expires_ms: non_negative(deadline)?,
        idle: Duration::from_millis(non_negative(idle)?),
    })
}

/// Data fields of an HGETALL answer (field, value, field, value...),
/// metadata (fields starting with NUL) skipped.
pub fn data_fields(value: Value) -> Result<Vec<(String, String)>, Malformed> {
    let items = array(value)?;
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut items = items.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        let field = bytes(field)?;
        if field.first() == Some(&0) {
            continue;
        }
        out.push((text(field)?, text(bytes(value)?)?));
    }
    Ok(out)
}

/// Every field of an HGETALL answer, metadata included, as the arguments
/// that write them back (Rotate's copy).
pub fn raw_fields(value: Value) -> Result<Vec<Vec<u8>>, Malformed> {
    array(value)?.into_iter().map(bytes).collect()
}

/// Values of an HMGET-like answer aligned with `keys`; absent keys skipped.
pub fn named_fields(value: Value, keys: &[String]) -> Result<Vec<(String, String)>, Malformed> {
    let items = array(value)?;
    let mut out = Vec::with_capacity(items.len());
    for (key, value) in keys.iter().zip(items) {
        match value {
            Value::Nil => {}
            value => out.push((key.clone(), text(bytes(value)?)?)),
        }
    }
    Ok(out)
}

/// The text of a bulk answer, `None` for nil (an absent field).
pub fn opt_text(value: &Value) -> Result<Option<String>, Malformed> {
    match value {
        Value::Nil => Ok(None),
        value => text(bytes(value.clone())?).map(Some),
    }
}

pub(super) fn bytes(value: Value) -> Result<Vec<u8>, Malformed> {
    match value {
        Value::BulkString(b) => Ok(b),
        Value::SimpleString(s) => Ok(s.into_bytes()),
        Value::Int(n) => Ok(n.to_string().into_bytes()),
        _ => Err(Malformed),
    }
}

/// Stored keys and values were checked as UTF-8 on their way in; bytes
/// that are not (someone else wrote the hash) are refused, not trusted.
pub(super) fn text(bytes: Vec<u8>) -> Result<String, Malformed> {
    String::from_utf8(bytes).map_err(|_| Malformed)
}
