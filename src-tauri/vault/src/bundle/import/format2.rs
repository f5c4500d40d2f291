//! Taking a format-2 bundle apart (docs/bundle-format.md "Reading format 2"): the manifest and
//! its signature come first and are checked before anything else is read; then every entry must
//! be the next one the manifest lists, of its size and hash, as it streams past. Nothing is
//! staged whole: `records.jsonl` is re-encrypted into the vault folder as it streams (read line
//! by line once the bundle is whole, `super::records`), the README and `audit.jsonl` are only
//! hashed, and each attachment is re-addressed from the bundle's key to this vault's identity
//! by a new header, its payload copied as it is and checked against the signed payload hash
//! (`crate::crypto::agefile`): the cost of an attachment is that of copying it.

use std::collections::BTreeSet;
use std::io::{self, BufReader, Read};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::check::{ManifestEntry, Source, Verified};
use super::decrypt::{damaged, reject, reject_as};
use super::entries::{hash_capped, read_capped, spool, Sink, Staged};
use crate::bundle::{FORMAT, ROOT};
use crate::crypto::agefile::{self, HeaderError};
use crate::crypto::arriving;
use crate::crypto::blobs::{self, NewBlob};
use crate::error::{Error, RejectReason, Result};

/// The version this reader reads.
pub(super) const VERSION: u32 = 2;
/// The largest `bundle.key` (one identity and two comment lines: under 300 bytes).
const MAX_KEY_FILE: u64 = 4096;
/// The largest signature read (minisign's are under 400 bytes): held before it is checked.
const MAX_SIGNATURE: u64 = 4096;
/// The entries before the attachments, in their order.
const ENTRIES: [&str; 4] = ["README.txt", "bundle.key", "records.jsonl", "audit.jsonl"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attachment {
    path: String,
    sha256: String,
    size: u64,
    payload_sha256: String,
    payload_size: u64,
}

/// The one part of the manifest read before its signature is checked: whose it claims to be.
#[derive(Deserialize)]
struct Signing {
    source: Source,
}

/// The parts of a format-2 `manifest.json` an import relies on.
#[derive(Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    bundle_id: String,
    source: Source,
    entries: Vec<ManifestEntry>,
    attachments: Vec<Attachment>,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Manifest {
    /// The listing is one a Kuager exporter writes: the four entries in order, then
    /// attachments with names that say nothing, each content once, sizes that agree, within
    /// the caps.
    /// `held` is the size of the manifest and its signature, part of the total.
    fn check(&self, sink: &Sink<'_>, held: u64) -> Result<()> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(reject(format!(
                "not a Kuager bundle of a version this Kuager reads ({} {})",
                self.format, self.version
            )));
        }
        let paths: Vec<&str> = self.entries.iter().map(|e| e.path.as_str()).collect();
        if paths != ENTRIES {
            return Err(reject(format!(
                "the manifest must list {} in this order",
                ENTRIES.join(", ")
            )));
        }
        let l = sink.limits;
        if self.attachments.len() + ENTRIES.len() + 2 > l.entries {
            return Err(reject(format!(
                "the bundle has more than {} entries",
                l.entries
            )));
        }
        let (mut names, mut contents) = (BTreeSet::new(), BTreeSet::new());
        let mut total = held;
        for e in &self.entries {
            let cap = if e.path == "records.jsonl" {
                l.records_bytes
            } else {
                l.small_bytes
            };
            if e.size > cap {
                return Err(reject_as(
                    RejectReason::TooLarge,
                    format!("{} is larger than the {cap}-byte limit", e.path),
                ));
            }
            if !is_hex(&e.sha256, 64) {
                return Err(reject(format!(
                    "the manifest's line for {:?} is not valid",
                    e.path
                )));
            }
            total = total.saturating_add(e.size);
        }
        for a in &self.attachments {
            let name_ok = a
                .path
                .strip_prefix("blobs/")
                .and_then(|n| n.strip_suffix(".age"))
                .is_some_and(|n| is_hex(n, 32));
            if !name_ok {
                return Err(reject(format!("unexpected attachment name {:?}", a.path)));
            }
            if !names.insert(a.path.as_str()) || !contents.insert(a.sha256.as_str()) {
                return Err(reject(format!(
                    "the manifest lists attachment {:?} twice",
                    a.path
                )));
            }
            if a.size > l.blob_bytes {
                return Err(reject_as(
                    RejectReason::TooLarge,
                    format!("attachment {:?} is larger than the limit", a.path),
                ));
            }
            if !is_hex(&a.sha256, 64)
                || !is_hex(&a.payload_sha256, 64)
                || a.payload_size != agefile::payload_size(a.size)
            {
                return Err(reject(format!(
                    "the manifest's line for {:?} is not valid",
                    a.path
                )));
            }
            // The entry: our exporter's header, then the payload.
            let entry = agefile::X25519_HEADER_BYTES + a.payload_size;
            if entry > l.blob_bytes {
                return Err(reject_as(
                    RejectReason::TooLarge,
                    format!("attachment {:?} is larger than the limit", a.path),
                ));
            }
            total = total.saturating_add(entry);
        }
        if total > l.total_bytes {
            return Err(reject_as(
                RejectReason::TooLarge,
                "the bundle is larger than the total size limit",
            ));
        }
        Ok(())
    }
}

/// Reads a format-2 bundle whose first entry, `manifest.json`, is `first`; the rest follow.
pub(super) fn stage<R: Read>(
    first: tar::Entry<'_, R>,
    rest: &mut tar::Entries<'_, R>,
    sink: &Sink<'_>,
    staged: &mut Staged,
) -> Result<()> {
    let small = sink.limits.small_bytes;
    let manifest_bytes = read_capped(
        &mut regular(first, "manifest.json")?,
        small,
        "manifest.json",
    )?;
    let sig = match rest.next() {
        Some(e) => {
            let e = e.map_err(damaged)?;
            if !is_named(&e, "manifest.json.minisig") {
                return Err(reject(
                    "the manifest's signature (manifest.json.minisig) must follow it",
                ));
            }
            let mut e = regular(e, "manifest.json.minisig")?;
            read_capped(&mut e, MAX_SIGNATURE, "manifest.json.minisig")?
        }
        None => {
            return Err(reject(
                "the bundle has no signature (manifest.json.minisig)",
            ))
        }
    };
    // The signature first: nothing the manifest says is used, and no other entry read, before
    // it holds and its signer is trusted.
    let key = serde_json::from_slice::<Signing>(&manifest_bytes)
        .map_err(|_| reject("manifest.json names no signing device"))?
        .source
        .device_public_key;
    let (signer, was_trusted) = (sink.signed)(&key, &manifest_bytes, &sig)?;
    // Inspecting a bundle whose signer is not trusted (and not being trusted now): it is named,
    // and nothing after the manifest is read, parsed or written.
    if !was_trusted && signer.label.as_deref() == Some("") {
        let bundle_id = serde_json::from_slice::<serde_json::Value>(&manifest_bytes)
            .ok()
            .and_then(|m| m.get("bundle_id")?.as_str().map(str::to_owned))
            .unwrap_or_default();
        staged.unread = Some((bundle_id, signer));
        return Ok(());
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| reject(format!("manifest.json is not valid: {e}")))?;
    manifest.check(sink, (manifest_bytes.len() + sig.len()) as u64)?;
    let manifest_sha256 = hex::encode(Sha256::digest(&manifest_bytes));
    // The same bundle again: everything it holds is here already (or purged since, and must
    // stay so). Nothing after the manifest is read.
    if let Some(earlier) = (sink.imported)(&manifest_sha256)? {
        staged.reimport = Some(earlier);
        return Ok(());
    }
    staged.verified = Some(Verified {
        bundle_id: manifest.bundle_id.clone(),
        device_id: manifest.source.device_id.clone(),
        signer,
        was_trusted,
        format: VERSION,
        manifest_sha256,
    });
    let mut bundle_key = None;
    for e in &manifest.entries {
        let entry = next(rest, &e.path)?;
        let mut entry = regular(entry, &e.path)?;
        let altered = || {
            reject_as(
                RejectReason::Tampered,
                format!(
                    "entry {:?} does not match the manifest (size or hash): the bundle was altered",
                    e.path
                ),
            )
        };
        // Its size is known before a byte of it is read.
        if entry.size() != e.size {
            return Err(altered());
        }
        let (size, sha) = match e.path.as_str() {
            "records.jsonl" => {
                let f = spool(&mut entry, sink)?;
                let r = (f.size, f.sha256.clone());
                staged.records = Some(f);
                r
            }
            "bundle.key" => {
                // Read into its final buffer (never moved, so never left behind unwiped).
                let mut text = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 1));
                (&mut entry)
                    .take(MAX_KEY_FILE + 1)
                    .read_to_end(&mut text)
                    .map_err(damaged)?;
                if text.len() as u64 > MAX_KEY_FILE {
                    return Err(altered());
                }
                bundle_key = Some(parse_key(&text)?);
                (text.len() as u64, hex::encode(Sha256::digest(&text[..])))
            }
            _ => hash_capped(&mut entry, e.size, &e.path)?,
        };
        if size != e.size || sha != e.sha256 {
            return Err(altered());
        }
    }
    let bundle_key = bundle_key.expect("bundle.key is listed");
    // The files the new attachments will take, noted at once as not yet part of the vault
    // (one commit, not one per file); those the vault holds already are only checked.
    let names: Vec<Option<String>> = manifest
        .attachments
        .iter()
        .map(|a| (!(sink.known_blob)(&a.sha256)).then(blobs::new_rel))
        .collect();
    let noted: Vec<String> = names.iter().flatten().cloned().collect();
    (sink.expect_files)(&noted)?;
    staged.noted.clone_from(&noted);
    for (a, rel) in manifest.attachments.iter().zip(&names) {
        let entry = regular(next(rest, &a.path)?, &a.path)?;
        attachment(entry, a, rel.as_deref(), &bundle_key, sink, staged)?;
    }
    // Written without a flush each: made durable together, before anything refers to them.
    if !noted.is_empty() {
        crate::crypto::harden::sync_new_files(sink.vault_dir, &noted)?;
    }
    if let Some(e) = rest.next() {
        let e = e.map_err(damaged)?;
        let name = String::from_utf8_lossy(&e.path_bytes())
            .chars()
            .take(80)
            .collect::<String>();
        return Err(reject(format!("entry {name:?} is not in the manifest")));
    }
    Ok(())
}

fn is_named<R: Read>(e: &tar::Entry<'_, R>, path: &str) -> bool {
    e.path_bytes().as_ref() == format!("{ROOT}/{path}").as_bytes()
}

/// The next entry, which must be `path`.
fn next<'a, R: Read + 'a>(rest: &mut tar::Entries<'a, R>, path: &str) -> Result<tar::Entry<'a, R>> {
    match rest.next() {
        None => Err(reject(format!(
            "the manifest lists {path:?}, which is not in the bundle"
        ))),
        Some(e) => {
            let e = e.map_err(damaged)?;
            if is_named(&e, path) {
                Ok(e)
            } else {
                let name: String = String::from_utf8_lossy(&e.path_bytes())
                    .chars()
                    .take(80)
                    .collect();
                Err(reject(format!(
                    "entry {name:?} is not the next one the manifest lists ({path:?})"
                )))
            }
        }
    }
}

/// The entry, if it is a regular file.
fn regular<'a, R: Read>(e: tar::Entry<'a, R>, name: &str) -> Result<tar::Entry<'a, R>> {
    if e.header().entry_type().is_file() {
        Ok(e)
    } else {
        Err(reject(format!(
            "entry {name:?} is not a regular file (links, folders and devices are refused)"
        )))
    }
}

/// The one identity in `bundle.key`.
fn parse_key(text: &[u8]) -> Result<age::x25519::Identity> {
    let bad = || reject("bundle.key does not hold one age identity");
    let text = std::str::from_utf8(text).map_err(|_| bad())?;
    let mut keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    match (keys.next(), keys.next()) {
        (Some(k), None) => k.parse().map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// One attachment: its header opened with the bundle key, a new one written for this vault,
/// the payload copied behind it and checked against the manifest. An attachment the vault
/// holds already is only checked.
fn attachment<R: Read>(
    entry: tar::Entry<'_, R>,
    a: &Attachment,
    rel: Option<&str>,
    bundle_key: &age::x25519::Identity,
    sink: &Sink<'_>,
    staged: &mut Staged,
) -> Result<()> {
    let size = entry.size();
    let altered = || {
        reject_as(
            RejectReason::Tampered,
            format!(
                "attachment {:?} does not match the manifest: the bundle was altered",
                a.path
            ),
        )
    };
    if size > sink.limits.blob_bytes {
        return Err(reject_as(
            RejectReason::TooLarge,
            format!("attachment {:?} is larger than the limit", a.path),
        ));
    }
    // Exactly an exporter's header and the payload the manifest states.
    if size != agefile::X25519_HEADER_BYTES + a.payload_size {
        return Err(altered());
    }
    let mut r = BufReader::with_capacity(
        usize::try_from(size).unwrap_or(1).clamp(1, 256 << 10),
        entry,
    );
    let header = agefile::read_header(&mut r).map_err(|e| match e {
        HeaderError::Io(e) => damaged(e),
        e => reject(format!("attachment {:?} cannot be opened: {e}", a.path)),
    })?;
    let (got_size, got_sha, content) = match rel {
        // Held already: only checked.
        None => {
            let mut h = Sha256::new();
            let n = io::copy(&mut r, &mut h).map_err(damaged)?;
            (n, hex::encode(h.finalize()), None)
        }
        Some(rel) => {
            let key = header.file_key(bundle_key).map_err(|e| {
                reject(format!(
                    "attachment {:?} cannot be opened with bundle.key: {e}",
                    a.path
                ))
            })?;
            let new_header =
                agefile::header_for(sink.own, &key).map_err(|e| Error::Crypto(e.to_string()))?;
            // A payload that does not decrypt is the bundle's fault; a write that fails is this
            // computer's (a full disk), and is said as such.
            let got = arriving::store(
                sink.vault_dir,
                rel,
                &new_header,
                &mut r,
                a.payload_size,
                sink.identity,
            )
            .map_err(|e| match e {
                Error::Verify(m) => reject_as(
                    RejectReason::Tampered,
                    format!(
                        "attachment {:?} does not match the manifest: the bundle was altered ({m})",
                        a.path
                    ),
                ),
                other => other,
            })?;
            // Kept in mind, so that it is removed with the rest if anything is refused.
            staged.blobs.push(NewBlob {
                sha256: a.sha256.clone(),
                size: a.size,
                rel: got.rel,
                payload_sha256: got.payload_sha256.clone(),
            });
            (
                got.payload_size,
                got.payload_sha256,
                Some((got.size, got.sha256)),
            )
        }
    };
    // The payload first (the signature binds it), then what it decrypted to.
    if got_size != a.payload_size || got_sha != a.payload_sha256 {
        return Err(altered());
    }
    if content.is_some_and(|(size, sha)| size != a.size || sha != a.sha256) {
        return Err(reject(format!(
            "attachment {:?} does not hold the content the manifest names: the bundle was forged",
            a.path
        )));
    }
    Ok(())
}

/// The format-2 manifest parser and the inner header reader on arbitrary bytes (for
/// `cargo fuzz`).
#[cfg(fuzzing)]
pub(super) fn fuzz(data: &[u8]) {
    let _ = serde_json::from_slice::<Signing>(data);
    let _ = serde_json::from_slice::<Manifest>(data);
    let _ = parse_key(data);
    if let Ok(h) = agefile::read_header(&mut &data[..]) {
        let _ = h.len();
        let _ = h.file_key(&age::x25519::Identity::generate());
    }
}
