//! Taking the decrypted tar apart: every entry checked for its type, name and size as it
//! streams past, hashed; the manifest and its signature kept in memory; `records.jsonl` and
//! attachments re-encrypted to this vault as they stream (never written in plaintext), the
//! former to be read once the signature holds ([`super::records`]); the README and
//! `audit.jsonl` only hashed. Nothing here knows what the entries mean.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::decrypt::{damaged, reject, reject_as};
use crate::bundle::{BundleLimits, ROOT};
use crate::crypto::blobs::{self, NewBlob};
use crate::error::{Error, RejectReason, Result};
use crate::store::purge;

/// What was read from the archive before any check of meaning.
#[derive(Default)]
pub(super) struct Staged {
    /// `manifest.json` and `manifest.json.minisig`, in memory.
    pub small: HashMap<String, Vec<u8>>,
    /// `records.jsonl`, re-encrypted into the vault folder until it has been read.
    pub records: Option<NewBlob>,
    /// Every entry seen: name → (size, SHA-256).
    pub seen: BTreeMap<String, (u64, String)>,
    /// Attachments re-encrypted (format 1) or re-addressed (format 2) into the vault folder,
    /// not (yet) referenced.
    pub blobs: Vec<NewBlob>,
    /// Format 2: the manifest and its signer, checked before anything else was read.
    pub verified: Option<super::check::Verified>,
    /// Format 2: the files noted at once for the new attachments (`Sink::expect_files`),
    /// written or not.
    pub noted: Vec<String>,
    /// Format 2: this very manifest was imported before (bundle id, signer's key); nothing
    /// after it was read.
    pub reimport: Option<(String, String)>,
    /// Format 2, inspected: the signer is not trusted, so nothing after the manifest was read.
    pub unread: Option<(String, super::Signer)>,
}

impl Staged {
    /// Whether reading stopped after the manifest (nothing more is to be read).
    pub(super) fn stopped(&self) -> bool {
        self.reimport.is_some() || self.unread.is_some()
    }
}

impl Staged {
    /// Removes the staged attachment files not in `keep` (they did not become part of the
    /// vault), and their folders when now empty. One that cannot be removed now stays noted,
    /// for the next unlock.
    pub(super) fn remove_unkept(
        &self,
        conn: &Connection,
        vault_dir: &Path,
        keep: &BTreeSet<String>,
    ) {
        let unkept = self.blobs.iter().filter(|b| !keep.contains(&b.rel));
        for b in unkept.chain(&self.records) {
            let path = vault_dir.join(&b.rel);
            if fs::remove_file(&path).is_ok() {
                let _ = purge::forget_file(conn, &b.rel);
            }
            if let Some(sub) = path.parent() {
                let _ = fs::remove_dir(sub); // only if now empty
            }
        }
        // Names noted for files never written (the import stopped before them).
        for rel in self.noted.iter().filter(|r| !keep.contains(*r)) {
            if !vault_dir.join(rel).exists() {
                let _ = purge::forget_file(conn, rel);
            }
        }
    }
}

/// Checks a manifest (its device key, its bytes, its signature): the signer, and whether it was
/// trusted before.
pub(super) type SignedBy<'a> = dyn Fn(&str, &[u8], &[u8]) -> Result<(super::Signer, bool)> + 'a;

/// An earlier import of a bundle by what recognises it: (bundle id, signer's key).
pub(super) type ImportedAs<'a> = dyn Fn(&str) -> Result<Option<(String, String)>> + 'a;

/// Where attachments go, and the caps.
pub(super) struct Sink<'a> {
    pub vault_dir: &'a Path,
    pub own: &'a age::x25519::Recipient,
    /// This vault's identity (format 2: an arriving attachment's content is checked with it).
    pub identity: &'a age::x25519::Identity,
    pub limits: &'a BundleLimits,
    /// Whether the vault already holds an attachment (checked, not stored again).
    pub known_blob: &'a dyn Fn(&str) -> bool,
    /// Notes a new attachment file as not yet part of the vault (`store::purge::expect_file`).
    pub expect_file: &'a dyn Fn(&str) -> Result<()>,
    /// The same for many files at once, in one transaction.
    pub expect_files: &'a dyn Fn(&[String]) -> Result<()>,
    /// Checks a manifest's signature by the device key it names, and that the device is
    /// trusted (`super::check::signed_by_trusted`): the signer, and whether it was trusted.
    pub signed: &'a SignedBy<'a>,
    /// An earlier import of the format-2 bundle whose manifest has this SHA-256: its bundle id
    /// and signer.
    pub imported: &'a ImportedAs<'a>,
}

/// A checked entry name: `README.txt`, `records.jsonl`, `audit.jsonl`, `manifest.json`,
/// `manifest.json.minisig` or `blobs/<64 lowercase hex>`. Never used as a path on disk.
pub(super) fn entry_name(raw: &[u8]) -> Result<String> {
    let s = std::str::from_utf8(raw).map_err(|_| reject("an entry name is not UTF-8"))?;
    let shown: String = s.chars().take(80).collect();
    let rest = s
        .strip_prefix(ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| reject(format!("entry {shown:?} is outside {ROOT}/")))?;
    if rest
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
        || rest.contains('\\')
    {
        return Err(reject(format!(
            "entry {shown:?} has a path that is not normalised"
        )));
    }
    let ok = matches!(
        rest,
        "README.txt" | "records.jsonl" | "audit.jsonl" | "manifest.json" | "manifest.json.minisig"
    ) || rest.strip_prefix("blobs/").is_some_and(|h| {
        h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if !ok {
        return Err(reject(format!("unexpected entry {shown:?}")));
    }
    Ok(rest.to_owned())
}

/// A name only format 2 has (`bundle.key`, `blobs/<32 hex>.age`), met while reading format 1.
fn is_format2_only(raw: &[u8]) -> bool {
    let Some(rest) = raw.strip_prefix(format!("{ROOT}/").as_bytes()) else {
        return false;
    };
    rest == b"bundle.key"
        || rest
            .strip_prefix(b"blobs/")
            .and_then(|n| n.strip_suffix(b".age"))
            .is_some_and(|n| n.len() == 32 && n.iter().all(u8::is_ascii_hexdigit))
}

pub(super) fn read_capped(r: &mut impl Read, cap: u64, name: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.take(cap.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| {
            reject_as(
                RejectReason::Damaged,
                format!("the bundle could not be read ({e}): it is damaged or was altered"),
            )
        })?;
    if buf.len() as u64 > cap {
        return Err(reject_as(
            RejectReason::TooLarge,
            format!("{name} is larger than the {cap}-byte limit"),
        ));
    }
    Ok(buf)
}

/// The size and SHA-256 of an entry of at most `cap` bytes, not kept.
pub(super) fn hash_capped(r: &mut impl Read, cap: u64, name: &str) -> Result<(u64, String)> {
    let mut h = Sha256::new();
    let n = io::copy(&mut r.take(cap.saturating_add(1)), &mut h).map_err(|e| {
        reject_as(
            RejectReason::Damaged,
            format!("the bundle could not be read ({e}): it is damaged or was altered"),
        )
    })?;
    if n > cap {
        return Err(reject_as(
            RejectReason::TooLarge,
            format!("{name} is larger than the {cap}-byte limit"),
        ));
    }
    Ok((n, hex::encode(h.finalize())))
}

/// Reads every entry of the tar `stream` into `staged`: a format-2 bundle (its manifest first)
/// through `super::format2`, one of format 1 here.
pub(super) fn stage_tar(stream: impl Read, sink: &Sink<'_>, staged: &mut Staged) -> Result<()> {
    let mut archive = tar::Archive::new(stream);
    // Raw: GNU long-name and PAX entries are handed to us as entries (and refused as such),
    // not read whole into memory by the tar reader before we see them.
    let mut entries = archive
        .entries()
        .map_err(|e| reject(format!("the bundle is not a tar archive: {e}")))?
        .raw(true);
    let Some(first) = entries.next() else {
        return Err(reject("the bundle holds no files"));
    };
    let first = first.map_err(damaged)?;
    if first.path_bytes().as_ref() == format!("{ROOT}/manifest.json").as_bytes() {
        return super::format2::stage(first, &mut entries, sink, staged);
    }
    let mut total = 0u64;
    for (n, entry) in std::iter::once(Ok(first)).chain(entries).enumerate() {
        if n >= sink.limits.entries {
            return Err(reject(format!(
                "the bundle has more than {} entries",
                sink.limits.entries
            )));
        }
        let mut entry = entry.map_err(damaged)?;
        if is_format2_only(&entry.path_bytes()) {
            return Err(reject(
                "a format-2 bundle with entries before its manifest: the manifest and its signature must come first",
            ));
        }
        let name = entry_name(&entry.path_bytes())?;
        if !entry.header().entry_type().is_file() {
            return Err(reject(format!(
                "entry {name:?} is not a regular file (links, folders and devices are refused)"
            )));
        }
        if staged.seen.contains_key(&name) {
            return Err(reject(format!("entry {name:?} appears twice")));
        }
        let size = entry.size();
        total = total.saturating_add(size);
        if total > sink.limits.total_bytes {
            return Err(reject_as(
                RejectReason::TooLarge,
                "the bundle is larger than the total size limit",
            ));
        }
        let (size_read, sha) = if name.starts_with("blobs/") {
            stage_blob(&mut entry, &name, size, sink, staged)?
        } else if name == "records.jsonl" {
            stage_records(&mut entry, size, sink, staged)?
        } else if name.starts_with("manifest.json") {
            let bytes = read_capped(&mut entry, sink.limits.small_bytes, &name)?;
            let r = (bytes.len() as u64, hex::encode(Sha256::digest(&bytes)));
            staged.small.insert(name.clone(), bytes);
            r
        } else {
            // README.txt, audit.jsonl: for people, hashed and passed by.
            hash_capped(&mut entry, sink.limits.small_bytes, &name)?
        };
        if size_read != size {
            return Err(reject(format!(
                "entry {name:?} is shorter than its header says"
            )));
        }
        staged.seen.insert(name, (size_read, sha));
    }
    Ok(())
}

/// `records.jsonl`: re-encrypted into the vault folder as it streams, to be read line by line
/// once the bundle's signature holds. Returns (size read, SHA-256).
fn stage_records(
    entry: &mut impl Read,
    size: u64,
    sink: &Sink<'_>,
    staged: &mut Staged,
) -> Result<(u64, String)> {
    let cap = sink.limits.records_bytes;
    if size > cap {
        return Err(reject_as(
            RejectReason::TooLarge,
            format!("records.jsonl is larger than the {cap}-byte limit"),
        ));
    }
    let f = spool(entry, sink)?;
    let r = (f.size, f.sha256.clone());
    staged.records = Some(f);
    Ok(r)
}

/// An entry's content re-encrypted to the vault, under a random name noted as not (yet) part
/// of the vault.
pub(super) fn spool(entry: &mut impl Read, sink: &Sink<'_>) -> Result<NewBlob> {
    blobs::write_serial(sink.vault_dir, sink.own, entry, &mut |f| {
        (sink.expect_file)(f)
    })
    .map_err(|e| match e {
        Error::Io { source, .. } => damaged(source),
        other => other,
    })
}

/// An attachment entry: only checked when the vault has it, else re-encrypted to the vault as
/// it streams (the plaintext never touches the disk). Returns (size read, SHA-256).
fn stage_blob(
    entry: &mut impl Read,
    name: &str,
    size: u64,
    sink: &Sink<'_>,
    staged: &mut Staged,
) -> Result<(u64, String)> {
    if size > sink.limits.blob_bytes {
        return Err(reject_as(
            RejectReason::TooLarge,
            format!("attachment {name:?} is larger than the limit"),
        ));
    }
    if name.strip_prefix("blobs/").is_some_and(sink.known_blob) {
        let mut h = Sha256::new();
        let n = io::copy(entry, &mut h).map_err(damaged)?;
        return Ok((n, hex::encode(h.finalize())));
    }
    let b = spool(entry, sink)?;
    let r = (b.size, b.sha256.clone());
    staged.blobs.push(b);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::entry_name;

    /// Every entry name is checked on its own, before anything else is done with the entry.
    #[test]
    fn entry_names_are_the_known_ones_under_the_root_and_normalised() {
        let sha = "0123456789abcdef".repeat(4);
        for good in [
            "README.txt",
            "records.jsonl",
            "audit.jsonl",
            "manifest.json",
            "manifest.json.minisig",
            &format!("blobs/{sha}"),
        ] {
            assert_eq!(
                entry_name(format!("kuager-bundle/{good}").as_bytes()).unwrap(),
                good
            );
        }
        for (bad, why) in [
            ("records.jsonl", "outside"),
            ("other/records.jsonl", "outside"),
            ("kuager-bundle/./records.jsonl", "not normalised"),
            ("kuager-bundle//records.jsonl", "not normalised"),
            ("kuager-bundle/blobs/", "not normalised"),
            ("kuager-bundle/../records.jsonl", "not normalised"),
            ("kuager-bundle/blobs\\x", "not normalised"),
            ("kuager-bundle/notes.txt", "unexpected"),
            (&format!("kuager-bundle/blobs/{}", &sha[..63]), "unexpected"),
            (
                &format!("kuager-bundle/blobs/{}A", &sha[..63]),
                "unexpected",
            ),
            (
                &format!("kuager-bundle/blobs/{}", "g".repeat(64)),
                "unexpected",
            ),
        ] {
            let e = entry_name(bad.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(entry_name(b"kuager-bundle/\xff").is_err());
    }
}
