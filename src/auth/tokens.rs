//! Bearer tokens: the tokens file (`NAMESPACE:SHA256_HEX[:ro]` per line,
//! `#` comments), checked in constant time, re-read on demand (SIGHUP).
//!
//! Only SHA-256 hashes of tokens are held, so neither the file nor memory
//! hold a usable credential. A presented token is hashed and compared with
//! every entry, without stopping at a match, by `subtle`'s constant-time
//! equality: how long a check takes says nothing about how close a guess
//! was, or which entry matched.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use sha2::{Digest as _, Sha256};
use subtle::{ConditionallySelectable, ConstantTimeEq};

use super::Access;
use crate::session::Namespace;

/// One line of the file.
#[derive(Debug, Clone)]
struct Entry {
    hash: [u8; 32],
    namespace: Namespace,
    read_only: bool,
}

/// The tokens of one version of the file.
#[derive(Debug, Default)]
struct Table(Vec<Entry>);

impl Table {
    /// Parses the whole file; any bad line refuses it, naming the line (but
    /// never echoing it: it may hold a token pasted by mistake).
    fn parse(text: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let entry = parse_line(line).map_err(|why| format!("line {}: {why}", n + 1))?;
            if entries.iter().any(|e: &Entry| e.hash == entry.hash) {
                return Err(format!(
                    "line {}: the same token hash is listed twice",
                    n + 1
                ));
            }
            entries.push(entry);
        }
        if entries.is_empty() {
            return Err("no tokens in the file".into());
        }
        Ok(Table(entries))
    }

    /// The entry whose hash is the SHA-256 of `token`, found by comparing
    /// with every entry in constant time.
    fn check(&self, token: &[u8]) -> Option<Access> {
        let presented: [u8; 32] = Sha256::digest(token).into();
        // `found` is the index + 1 of the match (0: none), chosen without a
        // branch on secret data.
        let mut found = 0u32;
        for (i, entry) in self.0.iter().enumerate() {
            let is = entry.hash.ct_eq(&presented);
            let index = u32::try_from(i + 1).unwrap_or(u32::MAX);
            found = u32::conditional_select(&found, &index, is);
        }
        let entry = self.0.get(usize::try_from(found).ok()?.checked_sub(1)?)?;
        Some(Access {
            namespace: entry.namespace.clone(),
            read_only: entry.read_only,
        })
    }
}

fn parse_line(line: &str) -> Result<Entry, String> {
    let mut fields = line.split(':');
    let (Some(namespace), Some(hash)) = (fields.next(), fields.next()) else {
        return Err("expected NAMESPACE:SHA256_HEX[:ro]".into());
    };
    let read_only = match fields.next() {
        None => false,
        Some("ro") => true,
        Some(_) => return Err("the only flag after the hash is `ro`".into()),
    };
    if fields.next().is_some() {
        return Err("expected NAMESPACE:SHA256_HEX[:ro]".into());
    }
    let namespace = Namespace::parse(namespace.trim()).map_err(|e| e.to_string())?;
    let hash = parse_hex(hash.trim()).ok_or(
        "the hash must be 64 hex digits: the SHA-256 of the token, as `sessiond hash-token` prints",
    )?;
    Ok(Entry {
        hash,
        namespace,
        read_only,
    })
}

fn parse_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The tokens file's line for `token` in `namespace`, as `sessiond
/// hash-token` prints it.
pub fn hash_token_line(namespace: &Namespace, token: &str, read_only: bool) -> String {
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let ro = if read_only { ":ro" } else { "" };
    format!("{}:{hash}{ro}", namespace.as_str())
}

/// The tokens in force: a cheap `Clone` handle, shared by the gRPC check
/// and the SIGHUP handler that reloads them.
#[derive(Clone)]
pub struct Tokens {
    path: PathBuf,
    table: Arc<RwLock<Arc<Table>>>,
}

impl Tokens {
    /// Reads the file at start-up; an error stops start-up.
    pub fn load(path: &Path) -> Result<Self, String> {
        let table = read_table(path)?;
        Ok(Tokens {
            path: path.to_path_buf(),
            table: Arc::new(RwLock::new(Arc::new(table))),
        })
    }

    /// Re-reads the file (on SIGHUP). A file that cannot be read or parsed
    /// keeps the tokens in force, and the error says why. Returns the number
    /// of tokens now in force.
    pub fn reload(&self) -> Result<usize, String> {
        let table = read_table(&self.path)?;
        let n = table.0.len();
        *self.table.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(table);
        Ok(n)
    }

    /// [`Tokens::reload`], logged: what the SIGHUP handler calls.
    pub fn reload_and_log(&self) {
        match self.reload() {
            Ok(n) => tracing::info!(tokens = n, file = %self.path.display(), "tokens reloaded"),
            Err(e) => tracing::error!(
                file = %self.path.display(),
                error = %e,
                "tokens file not reloaded; the previous tokens stay in force"
            ),
        }
    }

    /// Who `token` is, or `None` for a token not in the file.
    pub fn check(&self, token: &str) -> Option<Access> {
        let table = self.table.read().unwrap_or_else(|e| e.into_inner()).clone();
        table.check(token.as_bytes())
    }

    /// Tokens in force.
    pub fn len(&self) -> usize {
        self.table.read().unwrap_or_else(|e| e.into_inner()).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn read_table(path: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the tokens file {}: {e}", path.display()))?;
    Table::parse(&text).map_err(|e| format!("tokens file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(name: &str) -> Namespace {
        Namespace::parse(name).unwrap()
    }

    fn file(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn a_listed_token_resolves_to_its_namespace_and_mode() {
        let text = format!(
            "# shop's backends\n{}\n\n{}  # reporting\n",
            hash_token_line(&ns("shop"), "s3cret", false),
            hash_token_line(&ns("blog"), "reader", true),
        );
        let table = Table::parse(&text).unwrap();
        assert_eq!(
            table.check(b"s3cret"),
            Some(Access {
                namespace: ns("shop"),
                read_only: false
            })
        );
        assert_eq!(
            table.check(b"reader"),
            Some(Access {
                namespace: ns("blog"),
                read_only: true
            })
        );
        assert_eq!(table.check(b"s3cre"), None);
        assert_eq!(table.check(b""), None);
    }

    #[test]
    fn the_hash_line_is_the_sha256_of_the_token() {
        assert_eq!(
            hash_token_line(&ns("app"), "abc", true),
            "app:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad:ro"
        );
    }

    #[test]
    fn bad_lines_are_refused_with_their_number_and_without_their_text() {
        let good = hash_token_line(&ns("a"), "t", false);
        for (text, why) in [
            ("a:not-hex".to_string(), "line 1"),
            (format!("{good}\nbad:line:with:fields"), "line 2"),
            (format!("{good}:rw"), "ro"),
            (format!("{good}\n{good}"), "twice"),
            (format!("a b{}", &good[1..]), "namespace"),
            ("# only comments\n".to_string(), "no tokens"),
        ] {
            let err = Table::parse(&text).unwrap_err();
            assert!(err.contains(why), "{err}");
            assert!(
                !err.contains("not-hex") && !err.contains("with:fields"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_reload_replaces_the_tokens_and_a_bad_file_keeps_the_old_ones() {
        let f = file(&hash_token_line(&ns("a"), "old", false));
        let tokens = Tokens::load(f.path()).unwrap();
        assert!(tokens.check("old").is_some());

        std::fs::write(f.path(), hash_token_line(&ns("a"), "new", false)).unwrap();
        assert_eq!(tokens.reload(), Ok(1));
        assert!(tokens.check("old").is_none());
        assert!(tokens.check("new").is_some());

        std::fs::write(f.path(), "garbage").unwrap();
        assert!(tokens.reload().unwrap_err().contains("line 1"));
        assert!(tokens.check("new").is_some(), "old tokens kept");

        std::fs::remove_file(f.path()).unwrap();
        assert!(tokens.reload().unwrap_err().contains("cannot read"));
        assert!(tokens.check("new").is_some());
    }
}
