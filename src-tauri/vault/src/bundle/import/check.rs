//! What the staged entries mean, checked before anything is written: the manifest lists
//! exactly what was seen, its signature holds, the signer is trusted, and every revision is
//! what it claims to be and can join this vault's history.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::Connection;
use serde::Deserialize;

use super::decrypt::{reject, reject_as};
use super::entries::Staged;
use super::records::Light;
use super::{Mode, Signer};
use crate::bundle::FORMAT;
use crate::crypto::keys;
use crate::error::{Error, RejectReason, Result};
use crate::model;
use crate::store::{self, blobs, peers, purge, revisions};

/// A line of a manifest's `entries` (both formats).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ManifestEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// A manifest's `source` (both formats): who signed it.
#[derive(Deserialize)]
pub(super) struct Source {
    pub device_public_key: String,
    /// The signing vault's device id (what its own revisions name as their device).
    #[serde(default)]
    pub device_id: String,
}

/// The parts of `manifest.json` an import relies on.
#[derive(Deserialize)]
pub(super) struct Manifest {
    format: String,
    version: u32,
    bundle_id: String,
    source: Source,
    entries: Vec<ManifestEntry>,
}

/// A format-2 manifest whose signature held, read before the rest of the bundle
/// (`super::format2`).
pub(crate) struct Verified {
    pub bundle_id: String,
    /// The signing vault's device id.
    pub device_id: String,
    pub signer: Signer,
    pub was_trusted: bool,
    /// The format read.
    pub format: u32,
    /// SHA-256 of `manifest.json`: what recognises this bundle when it comes again.
    pub manifest_sha256: String,
}

/// A bundle that passed every check.
pub(super) struct Checked {
    pub bundle_id: String,
    /// The signing vault's device id (the `device` of the revisions it wrote itself).
    pub device_id: String,
    pub signer: Signer,
    /// The signer was trusted before this import.
    pub was_trusted: bool,
    /// Revisions this vault does not have, in bundle order.
    pub new: Vec<Light>,
    /// Revisions of the bundle this vault has already.
    pub known: usize,
    /// New revisions written by another device than the signer's, which it passes on.
    pub relayed: usize,
    /// The bundle format read (1 or 2).
    pub format: u32,
}

/// The minisign key id as minisign prints it.
pub(super) fn key_id(pk: &minisign::PublicKey) -> String {
    keys::minisign_key_id(pk)
}

/// Every check, in order; `read_records` reads `records.jsonl` (`super::records`). `trust_signer` names an unknown signer (or, when inspecting, lets it
/// be reported instead of refused).
pub(super) fn all(
    conn: &Connection,
    own_device: &str,
    staged: &Staged,
    trust_signer: Option<&str>,
    mode: Mode,
    read_records: impl FnOnce() -> Result<Vec<Light>>,
) -> Result<Checked> {
    let (bundle_id, device_id, signer, was_trusted, format) = match &staged.verified {
        // Format 2: checked before the rest was read.
        Some(v) => (
            v.bundle_id.clone(),
            v.device_id.clone(),
            v.signer.clone(),
            v.was_trusted,
            v.format,
        ),
        None => {
            let manifest_bytes = staged
                .small
                .get("manifest.json")
                .ok_or_else(|| reject("the bundle has no manifest.json"))?;
            let sig = staged
                .small
                .get("manifest.json.minisig")
                .ok_or_else(|| reject("the bundle has no signature (manifest.json.minisig)"))?;
            let manifest: Manifest = serde_json::from_slice(manifest_bytes)
                .map_err(|e| reject(format!("manifest.json is not valid: {e}")))?;
            manifest_matches(&manifest, staged)?;
            let (signer, was_trusted) = signed_by_trusted(
                conn,
                &manifest.source.device_public_key,
                manifest_bytes,
                sig,
                trust_signer,
                mode,
            )?;
            (
                manifest.bundle_id,
                manifest.source.device_id,
                signer,
                was_trusted,
                1,
            )
        }
    };
    // Fourth, only now that the signature holds: every line of records.jsonl is a revision
    // whose id matches its content, whose data is valid and which is listed once.
    let revisions = read_records()?;
    let (new, known) = joinable(conn, staged, revisions)?;
    history_holds(conn, own_device, &new)?;
    let relayed = new.iter().filter(|r| r.device != device_id).count();
    Ok(Checked {
        bundle_id,
        device_id,
        signer,
        was_trusted,
        new,
        known,
        relayed,
        format,
    })
}

/// First check: the manifest lists exactly what was seen.
fn manifest_matches(manifest: &Manifest, staged: &Staged) -> Result<()> {
    if manifest.format != FORMAT || manifest.version != 1 {
        return Err(reject(format!(
            "not a Kuager bundle of a version this Kuager reads ({} {})",
            manifest.format, manifest.version
        )));
    }
    let mut listed: BTreeMap<&str, (u64, &str)> = BTreeMap::new();
    for e in &manifest.entries {
        if listed.insert(&e.path, (e.size, &e.sha256)).is_some() {
            return Err(reject(format!("the manifest lists {:?} twice", e.path)));
        }
    }
    // What the manifest must list: every entry but itself and its signature.
    let seen: BTreeMap<&str, &(u64, String)> = staged
        .seen
        .iter()
        .filter(|(p, _)| !matches!(p.as_str(), "manifest.json" | "manifest.json.minisig"))
        .map(|(p, v)| (p.as_str(), v))
        .collect();
    for (path, (size, sha)) in &seen {
        match listed.get(path) {
            None => return Err(reject(format!("entry {path:?} is not in the manifest"))),
            Some((s, h)) if s != size || h != sha => {
                return Err(reject_as(
                    RejectReason::Tampered,
                    format!(
                "entry {path:?} does not match the manifest (size or hash): the bundle was altered"
            ),
                ))
            }
            Some(_) => {}
        }
        if path.strip_prefix("blobs/").is_some_and(|h| h != sha) {
            return Err(reject_as(
                RejectReason::Tampered,
                format!("attachment {path:?} does not match its name"),
            ));
        }
    }
    if let Some(missing) = listed.keys().find(|p| !seen.contains_key(*p)) {
        return Err(reject(format!(
            "the manifest lists {missing:?}, which is not in the bundle"
        )));
    }
    Ok(())
}

/// The signature over `manifest_bytes`, by `device_key` (the key the manifest names); that key
/// must be trusted (or be trusted now, under the label given). Returns the signer and whether
/// it was trusted before.
pub(super) fn signed_by_trusted(
    conn: &Connection,
    device_key: &str,
    manifest_bytes: &[u8],
    sig: &[u8],
    trust_signer: Option<&str>,
    mode: Mode,
) -> Result<(Signer, bool)> {
    let pk = minisign::PublicKey::from_base64(device_key)
        .map_err(|_| reject("the manifest's device key is not a minisign key"))?;
    let sig_text = std::str::from_utf8(sig).map_err(|_| reject("the signature is not text"))?;
    let key_id = keys::verify_minisign(device_key, manifest_bytes, sig_text).map_err(|e| match e {
        keys::SignatureError::Key => reject("the manifest's device key is not a minisign key"),
        keys::SignatureError::Malformed => reject("the signature file is not a minisign signature"),
        keys::SignatureError::Mismatch => reject_as(RejectReason::Tampered,
            "signature does not match: the bundle was altered after export, or signed by another key",
        ),
    })?;
    let public_key = pk.to_base64();
    let known = peers::device(conn, &public_key)?;
    if let Some(peers::Known {
        label,
        revoked_at: Some(when),
        ..
    }) = &known
    {
        // Revoked (a device lost, seized or coerced): nothing signed by it comes in again,
        // whatever the importer says about trusting it.
        return Err(reject_as(
            RejectReason::Revoked,
            format!(
                "signed by the device {label:?}, which was revoked on {}: nothing from it is \
                 imported any more; ask the caseworker to send their records from a new vault",
                when.get(..10).unwrap_or(when)
            ),
        ));
    }
    let label = known.map(|k| k.label);
    let was_trusted = label.is_some();
    let label = match (label, trust_signer) {
        (Some(l), _) => Some(l),
        (None, Some(new_label)) => Some(new_label.to_owned()),
        (None, None) if mode == Mode::Inspect => Some(String::new()),
        (None, None) => return Err(Error::UnknownSigner { key_id, public_key }),
    };
    Ok((
        Signer {
            public_key,
            key_id,
            label,
        },
        was_trusted,
    ))
}

/// Whether purge marker `rev` names, among the versions it destroys, one of its record that
/// this vault holds or the bundle brings: proof that its device held the record's history (a
/// purge of a record by its id alone stays refused).
fn holds_a_destroyed_version(
    conn: &Connection,
    in_bundle: &HashMap<String, String>,
    rev: &Light,
) -> Result<bool> {
    let record = rev.record.to_string();
    for d in &rev.destroys {
        let of = match in_bundle.get(d.as_str()) {
            Some(r) => Some(r.clone()),
            None => revisions::record_of(conn, d)?,
        };
        if of.as_deref() == Some(record.as_str()) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every revision's parents are in the bundle or here, and its attachments too. Returns the
/// revisions this vault does not have yet, and how many it has.
fn joinable(
    conn: &Connection,
    staged: &Staged,
    revisions: Vec<Light>,
) -> Result<(Vec<Light>, usize)> {
    let in_bundle: HashMap<String, String> = revisions
        .iter()
        .map(|r| (r.id.to_string(), r.record.to_string()))
        .collect();
    let staged_blobs: BTreeSet<&str> = staged.blobs.iter().map(|b| b.sha256.as_str()).collect();
    let purged_in_bundle: BTreeSet<String> = revisions
        .iter()
        .filter(|r| r.purge)
        .map(|r| r.record.to_string())
        .collect();
    let custody_in_bundle: HashMap<String, Custody> = revisions
        .iter()
        .map(|r| (r.id.to_string(), r.custody.clone()))
        .collect();
    let mut new = Vec::new();
    let mut known = 0;
    for rev in revisions {
        custody_kept(conn, &custody_in_bundle, &rev)?;
        let proven = rev.purge && holds_a_destroyed_version(conn, &in_bundle, &rev)?;
        for p in &rev.parents {
            let record = match in_bundle.get(p.as_str()) {
                Some(r) => Some(r.clone()),
                None => revisions::record_of(conn, p.as_str())?,
            };
            match record {
                // A purge continues versions never exported (edited, then purged, before the
                // next bundle: their content is gone, so they never travel). It may, when it
                // names them among what it destroys and also names a version held here.
                None if proven && rev.destroys.iter().any(|d| d == p.as_str()) => {}
                None => return Err(reject_as(RejectReason::MissingEarlier, format!(
                    "revision {} continues a revision this vault does not have: import the earlier bundle from this caseworker first",
                    rev.id.short()
                ))),
                // A parent elsewhere would graft that record's history onto this one.
                Some(r) if r != rev.record.to_string() => return Err(reject(format!(
                    "revision {} continues revision {}, which belongs to another record: the bundle was forged",
                    rev.id.short(),
                    p.short()
                ))),
                Some(_) => {}
            }
        }
        for b in rev.blobs.iter().map(String::as_str) {
            if !staged_blobs.contains(b)
                && !blobs::exists(conn, b)?
                && !purged(conn, &purged_in_bundle, &rev.record)?
            {
                return Err(reject(format!(
                    "revision {} refers to attachment {} which is neither in the bundle nor in this vault",
                    rev.id.short(),
                    &b[..12.min(b.len())]
                )));
            }
        }
        if revisions::exists(conn, rev.id.as_str())? {
            known += 1;
        } else {
            new.push(rev);
        }
    }
    Ok((new, known))
}

/// Each attachment's file and custody facts, in one revision.
type Custody = Vec<(String, Option<serde_json::Value>)>;

/// An attachment's custody facts are set when its file comes in and never change (docs/records.md
/// "Custody"): a revision that keeps an attachment of the version it continues keeps its facts
/// (or, written by a Kuager that knew none, leaves them out). Facts that differ from every
/// parent's were written by hand: the bundle is refused.
fn custody_kept(
    conn: &Connection,
    in_bundle: &HashMap<String, Custody>,
    rev: &Light,
) -> Result<()> {
    if rev.custody.iter().all(|(_, c)| c.is_none()) {
        return Ok(());
    }
    let mut parents = Vec::new();
    for p in &rev.parents {
        match in_bundle.get(p.as_str()) {
            Some(c) => parents.push(c.clone()),
            None => {
                if let Ok(r) = revisions::by_id(conn, p) {
                    // A purged version keeps nothing to compare with.
                    if let Some(d) = r.data.as_ref() {
                        parents.push(super::records::custody_in(d));
                    }
                }
            }
        }
    }
    for (blob, facts) in rev.custody.iter().filter(|(_, c)| c.is_some()) {
        let before: Vec<&Option<serde_json::Value>> = parents
            .iter()
            .flatten()
            .filter(|(b, _)| b == blob)
            .map(|(_, c)| c)
            .collect();
        if !before.is_empty() && !before.contains(&facts) {
            return Err(reject(format!(
                "revision {} changes the custody facts of attachment {} (when, how and on which device it was captured): they are set once, so the bundle was altered",
                rev.id.short(),
                &blob[..12.min(blob.len())]
            )));
        }
    }
    Ok(())
}

/// Whether `record`'s content is destroyed here or by this bundle: its revisions keep no
/// attachments, so none need come with them (an export of several bundles sends each
/// attachment once, and this vault dropped it with the first if the record was purged here).
fn purged(
    conn: &Connection,
    in_bundle: &BTreeSet<String>,
    record: &model::RecordId,
) -> Result<bool> {
    Ok(in_bundle.contains(&record.to_string()) || purge::is_purged(conn, *record)?)
}

/// Fifth: the new revisions continue only what their signer could have held. A record begins
/// once: a revision without parents for a record this vault (or the bundle) already begins
/// would let a device that never held the record add a version of it, and a purge always
/// continues the versions it destroys. No device writes in this vault's name: it knows every
/// revision it wrote itself.
fn history_holds(conn: &Connection, own_device: &str, new: &[Light]) -> Result<()> {
    let mut begun: BTreeSet<String> = BTreeSet::new();
    for rev in new {
        let record = rev.record.to_string();
        if rev.device == own_device {
            return Err(reject(format!(
                "revision {} claims to be written by this vault, which wrote no such revision: the bundle was forged",
                rev.id.short()
            )));
        }
        if !rev.parents.is_empty() {
            continue;
        }
        if rev.purge {
            return Err(reject(format!(
                "revision {} purges record {record} without naming any version of it: a purge must continue the record it purges",
                rev.id.short()
            )));
        }
        if !begun.insert(record.clone()) || store::kind_of(conn, &record)?.is_some() {
            return Err(reject(format!(
                "revision {} starts record {record} again, which already has a beginning: the bundle was forged",
                rev.id.short()
            )));
        }
    }
    Ok(())
}
