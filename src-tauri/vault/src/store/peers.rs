//! Who this vault deals with: the recipients its bundles are encrypted to and what each set of
//! recipients already has (export cursors), the organisation identities it decrypts bundles
//! with, the caseworker devices it trusts, and the bundles it imported.

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::collect;
use crate::crypto::keys;
use crate::error::Result;
use crate::revision;

/// A configured recipient of this vault's bundles, as stored.
#[derive(Debug, Clone)]
pub(crate) struct RecipientRow {
    pub recipient: String,
    pub label: Option<String>,
    pub added_at: String,
}

/// Adds a recipient, or relabels it.
pub(crate) fn add_recipient(c: &Connection, recipient: &str, label: Option<&str>) -> Result<()> {
    c.execute(
        "INSERT INTO recipients(recipient, label, added_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT(recipient) DO UPDATE SET label = ?2",
        params![recipient, label, revision::now()],
    )?;
    Ok(())
}

/// The recipients, oldest first.
pub(crate) fn recipients(c: &Connection) -> Result<Vec<RecipientRow>> {
    collect(
        c.prepare("SELECT recipient, label, added_at FROM recipients ORDER BY added_at")?
            .query_map([], |r| {
                Ok(RecipientRow {
                    recipient: r.get(0)?,
                    label: r.get(1)?,
                    added_at: r.get(2)?,
                })
            })?,
    )
}

/// The recipients whose key or label is `key_or_label`.
pub(crate) fn find_recipients(c: &Connection, key_or_label: &str) -> Result<Vec<String>> {
    collect(
        c.prepare("SELECT recipient FROM recipients WHERE recipient = ?1 OR label = ?1")?
            .query_map([key_or_label], |r| r.get(0))?,
    )
}

/// Removes a recipient.
pub(crate) fn remove_recipient(c: &Connection, recipient: &str) -> Result<()> {
    c.execute("DELETE FROM recipients WHERE recipient = ?1", [recipient])?;
    Ok(())
}

/// What an earlier export to a set of recipients covered: (revision seq, audit seq).
pub(crate) fn export_cursor(c: &Connection, recipients_key: &str) -> Result<Option<(i64, i64)>> {
    Ok(c.query_row(
        "SELECT revision_seq, audit_seq FROM export_cursors WHERE recipients_key = ?1",
        [recipients_key],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// Moves the export cursor of a set of recipients forward (never back).
pub(crate) fn advance_export_cursor(
    c: &Connection,
    recipients_key: &str,
    revision_seq: i64,
    audit_seq: i64,
    at: &str,
) -> Result<()> {
    c.execute(
        "INSERT INTO export_cursors(recipients_key, revision_seq, audit_seq, at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(recipients_key) DO UPDATE SET revision_seq = max(revision_seq, ?2), audit_seq = max(audit_seq, ?3), at = ?4",
        params![recipients_key, revision_seq, audit_seq, at],
    )?;
    Ok(())
}

/// Keeps an organisation identity (its secret key lives only in this encrypted database), or
/// relabels it when given a label.
pub(crate) fn add_identity(
    c: &Connection,
    public: &str,
    secret: &str,
    label: Option<&str>,
) -> Result<()> {
    c.execute(
        "INSERT INTO identities(recipient, secret, label, added_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT(recipient) DO UPDATE SET label = coalesce(?3, label)",
        params![public, secret, label, revision::now()],
    )?;
    Ok(())
}

/// The organisation identities: public key and label, oldest first.
pub(crate) fn identities(c: &Connection) -> Result<Vec<(String, Option<String>)>> {
    collect(
        c.prepare("SELECT recipient, label FROM identities ORDER BY added_at")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )
}

/// The organisation identities' secret keys (`AGE-SECRET-KEY-1…`), wiped when dropped.
pub(crate) fn identity_secrets(c: &Connection) -> Result<Vec<Zeroizing<String>>> {
    collect(
        c.prepare("SELECT secret FROM identities")?
            .query_map([], |r| r.get::<_, String>(0).map(Zeroizing::new))?,
    )
}

/// Trusts a device key under `label`, or relabels it if this vault knows its Ed25519 key
/// already (under this or another key id). A revoked key stays revoked: the caller refuses it
/// first ([`device`]).
pub(crate) fn trust_device(c: &Connection, key: &str, label: &str) -> Result<()> {
    match device(c, key)? {
        Some(known) => {
            c.execute(
                "UPDATE trusted_devices SET label = ?2 WHERE public_key = ?1 AND revoked_at IS NULL",
                params![known.public_key, label],
            )?;
        }
        None => {
            c.execute(
                "INSERT INTO trusted_devices(public_key, label, added_at) VALUES (?1, ?2, ?3)",
                params![key, label, revision::now()],
            )?;
        }
    }
    Ok(())
}

/// Trusts a device key under `label` unless this vault knows it already (first import of a
/// signer).
pub(crate) fn trust_device_if_new(c: &Connection, key: &str, label: &str) -> Result<()> {
    if device(c, key)?.is_none() {
        trust_device(c, key, label)?;
    }
    Ok(())
}

/// Trusted (not revoked) device keys and their labels, oldest first.
pub(crate) fn trusted_devices(c: &Connection) -> Result<Vec<(String, String)>> {
    collect(
        c.prepare(
            "SELECT public_key, label FROM trusted_devices WHERE revoked_at IS NULL \
             ORDER BY added_at",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )
}

/// A device key as this vault knows it: the key as first trusted, its label, and when it was
/// revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Known {
    pub public_key: String,
    pub label: String,
    pub revoked_at: Option<String>,
}

/// How this vault knows the device whose minisign key is `key`, if it does: matched by the
/// 32 bytes of its Ed25519 key, never by the base64 line, whose key id its owner chooses (a
/// revoked key signing under a new id is the same revoked device). A revoked match wins over
/// a trusted one.
pub(crate) fn device(c: &Connection, key: &str) -> Result<Option<Known>> {
    let Some(wanted) = keys::ed25519_key(key) else {
        return Ok(None);
    };
    let rows: Vec<Known> = collect(
        c.prepare("SELECT public_key, label, revoked_at FROM trusted_devices")?
            .query_map([], |r| {
                Ok(Known {
                    public_key: r.get(0)?,
                    label: r.get(1)?,
                    revoked_at: r.get(2)?,
                })
            })?,
    )?;
    let mut same: Vec<Known> = rows
        .into_iter()
        .filter(|k| keys::ed25519_key(&k.public_key) == Some(wanted))
        .collect();
    same.sort_by_key(|k| k.revoked_at.is_none());
    Ok(same.into_iter().next())
}

/// The label a device key is trusted under, if it is trusted (and not revoked).
pub(crate) fn device_label(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(device(c, key)?
        .filter(|k| k.revoked_at.is_none())
        .map(|k| k.label))
}

/// The device keys that `key_or_label` names: the device of that key (trusted or revoked), or
/// the trusted devices of that label (a revoked device's label may be given to a new one).
pub(crate) fn find_devices(c: &Connection, key_or_label: &str) -> Result<Vec<String>> {
    if let Some(k) = device(c, key_or_label)? {
        return Ok(vec![k.public_key]);
    }
    collect(
        c.prepare(
            "SELECT public_key FROM trusted_devices WHERE label = ?1 AND revoked_at IS NULL",
        )?
        .query_map([key_or_label], |r| r.get(0))?,
    )
}

/// Revokes a device key: it stays known, so that its later bundles are refused.
pub(crate) fn revoke_device(c: &Connection, key: &str) -> Result<()> {
    c.execute(
        "UPDATE trusted_devices SET revoked_at = ?2 WHERE public_key = ?1 AND revoked_at IS NULL",
        params![key, revision::now()],
    )?;
    Ok(())
}

/// One device as the coordinator's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Its minisign public key (base64).
    pub public_key: String,
    /// Its label.
    pub label: String,
    /// When it was first trusted.
    pub added_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
    /// When its first and last bundles were imported.
    pub first_import: Option<String>,
    /// When its last bundle was imported.
    pub last_import: Option<String>,
    /// Its bundles imported.
    pub bundles: u64,
    /// Records its bundles brought (new or changed; bundles imported before Kuager counted
    /// them are not in it).
    pub records: u64,
}

/// Every device this vault knows, trusted first, then revoked, each oldest first.
pub(crate) fn devices(c: &Connection) -> Result<Vec<Device>> {
    collect(
        c.prepare(
            "SELECT d.public_key, d.label, d.added_at, d.revoked_at, min(i.at), max(i.at), \
                    count(i.bundle_id), coalesce(sum(i.records), 0) \
             FROM trusted_devices d LEFT JOIN imports i ON i.signer = d.public_key \
             GROUP BY d.public_key ORDER BY d.revoked_at IS NOT NULL, d.added_at",
        )?
        .query_map([], |r| {
            Ok(Device {
                public_key: r.get(0)?,
                label: r.get(1)?,
                added_at: r.get(2)?,
                revoked_at: r.get(3)?,
                first_import: r.get(4)?,
                last_import: r.get(5)?,
                bundles: r.get::<_, i64>(6)? as u64,
                records: r.get::<_, i64>(7)? as u64,
            })
        })?,
    )
}

/// Whether an imported file may have had this size (rows from before schema 4 have none).
pub(crate) fn import_of_size_may_exist(c: &Connection, size: u64) -> Result<bool> {
    Ok(c.query_row(
        "SELECT EXISTS(SELECT 1 FROM imports WHERE size IS NULL OR size = ?1)",
        [size as i64],
        |r| r.get(0),
    )?)
}

/// The bundle id and signer of an earlier import of the file with this SHA-256.
pub(crate) fn import_by_sha(c: &Connection, sha256: &str) -> Result<Option<(String, String)>> {
    Ok(c.query_row(
        "SELECT bundle_id, signer FROM imports WHERE sha256 = ?1",
        [sha256],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()?)
}

/// Records an imported bundle: what recognises it when it comes again — the file's SHA-256
/// and size (format 1), or its manifest's SHA-256 and size 0 (format 2: known by its manifest,
/// the first thing read; no file is hashed before it is opened).
pub(crate) fn record_import(
    c: &Connection,
    bundle_id: &str,
    sha256: &str,
    signer: &str,
    device_id: &str,
    size: u64,
    records: usize,
) -> Result<()> {
    c.execute(
        "INSERT OR IGNORE INTO imports(bundle_id, sha256, signer, at, size, records, device_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            bundle_id,
            sha256,
            signer,
            revision::now(),
            size as i64,
            records as i64,
            device_id
        ],
    )?;
    Ok(())
}

/// The label this vault gave each device whose bundles it imported, by the device id its
/// revisions carry (bundles imported before schema 12 did not keep it).
pub(crate) fn device_labels_by_id(
    c: &Connection,
) -> Result<std::collections::BTreeMap<String, String>> {
    Ok(collect(
        c.prepare_cached(
            "SELECT DISTINCT i.device_id, d.label FROM imports i \
             JOIN trusted_devices d ON d.public_key = i.signer WHERE i.device_id IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )?
    .into_iter()
    .collect())
}
