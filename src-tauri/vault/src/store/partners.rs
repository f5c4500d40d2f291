//! Partner organisations (docs/design-notes.md "Partner bundles"): each one's age key and label,
//! the secret its pseudonyms are made with, and what was sent to it — per record of ours, the id
//! it has there, the revisions sent (so the next bundle continues them, and a withdrawal names
//! them), and a digest of the last version sent (so an unchanged record is not sent again).
//! Nothing of a record's content is kept here.

use rusqlite::{params, Connection, OptionalExtension};
use zeroize::Zeroizing;

use super::collect;
use crate::error::Result;
use crate::revision;

/// Schema 12. A partner removed is kept (its secret and what was sent to it), only marked:
/// added again by the same key, it gets its pseudonyms back, and what was sent before can
/// still be withdrawn.
pub(super) const SCHEMA_V12: &str = r#"
CREATE TABLE IF NOT EXISTS partners (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    recipient TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    added_at TEXT NOT NULL,
    removed_at TEXT
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS partners_label ON partners(label) WHERE removed_at IS NULL;
CREATE TABLE IF NOT EXISTS partner_sent (
    partner TEXT NOT NULL REFERENCES partners(id),
    record TEXT NOT NULL,
    out_record TEXT NOT NULL,
    kind TEXT NOT NULL,
    revisions TEXT NOT NULL,
    blobs TEXT NOT NULL,
    digest TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    generation INTEGER NOT NULL DEFAULT 0,
    pseudonym INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (partner, record)
) WITHOUT ROWID;
"#;

/// A partner as stored (its secret stays in [`secret`]).
#[derive(Debug, Clone)]
pub(crate) struct PartnerRow {
    /// Kept across a removal and a new label.
    pub id: String,
    pub label: String,
    pub recipient: String,
    pub added_at: String,
}

/// What was sent to a partner of one record of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sent {
    /// Its id at the partner.
    pub out_record: String,
    pub kind: String,
    /// The revisions sent, oldest first (the last is the head there).
    pub revisions: Vec<String>,
    /// The attachments sent with them.
    pub blobs: Vec<String>,
    /// SHA-256 of the canonical JSON of the last version sent.
    pub digest: String,
    /// A withdrawal (purge marker) was sent after it.
    pub withdrawn: bool,
    /// How many times it was withdrawn and sent again (each time under a new id).
    pub generation: i64,
    /// A person who ever went to this partner as a pseudonym (and so always will).
    pub pseudonym: bool,
}

/// Adds a partner with a fresh pseudonym secret, or takes back one removed with this key
/// (its secret and what was sent to it) under `label`.
pub(crate) fn add(c: &Connection, label: &str, recipient: &str) -> Result<()> {
    let revived = c.execute(
        "UPDATE partners SET label = ?1, removed_at = NULL WHERE recipient = ?2 AND removed_at IS NOT NULL",
        params![label, recipient],
    )?;
    if revived > 0 {
        return Ok(());
    }
    let mut secret = Zeroizing::new([0u8; 32]);
    crate::fsutil::fill_random(&mut secret[..]);
    c.execute(
        "INSERT INTO partners(id, label, recipient, secret, added_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            uuid::Uuid::new_v4().to_string(),
            label,
            recipient,
            hex::encode(&secret[..]),
            revision::now()
        ],
    )?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PartnerRow> {
    Ok(PartnerRow {
        id: r.get(0)?,
        label: r.get(1)?,
        recipient: r.get(2)?,
        added_at: r.get(3)?,
    })
}

/// Partners (not removed), by label.
pub(crate) fn all(c: &Connection) -> Result<Vec<PartnerRow>> {
    collect(
        c.prepare(
            "SELECT id, label, recipient, added_at FROM partners WHERE removed_at IS NULL ORDER BY label",
        )?
        .query_map([], row)?,
    )
}

/// The partner (not removed) with this label or key.
pub(crate) fn find(c: &Connection, label_or_key: &str) -> Result<Option<PartnerRow>> {
    Ok(c.query_row(
        "SELECT id, label, recipient, added_at FROM partners \
         WHERE removed_at IS NULL AND (label = ?1 OR recipient = ?1)",
        [label_or_key],
        row,
    )
    .optional()?)
}

/// The secret a partner's pseudonyms and ids are derived from.
pub(crate) fn secret(c: &Connection, id: &str) -> Result<Zeroizing<Vec<u8>>> {
    let hex_secret: Zeroizing<String> = Zeroizing::new(c.query_row(
        "SELECT secret FROM partners WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?);
    Ok(Zeroizing::new(hex::decode(hex_secret.as_bytes()).map_err(
        |_| crate::error::Error::Verify(format!("partner {id}: its secret is damaged")),
    )?))
}

/// Removes a partner from the list; its secret and what was sent to it stay (see the schema).
pub(crate) fn remove(c: &Connection, id: &str) -> Result<()> {
    c.execute(
        "UPDATE partners SET removed_at = ?2 WHERE id = ?1",
        params![id, revision::now()],
    )?;
    Ok(())
}

/// Everything sent to a partner, by our record id.
pub(crate) fn sent(
    c: &Connection,
    partner: &str,
) -> Result<std::collections::BTreeMap<String, Sent>> {
    let rows: Vec<(String, Sent)> = collect(
        c.prepare(
            "SELECT record, out_record, kind, revisions, blobs, digest, withdrawn, generation, pseudonym \
             FROM partner_sent WHERE partner = ?1",
        )?
        .query_map([partner], |r| {
            let list = |i: usize| -> rusqlite::Result<Vec<String>> {
                let s: String = r.get(i)?;
                Ok(serde_json::from_str(&s).unwrap_or_default())
            };
            Ok((
                r.get(0)?,
                Sent {
                    out_record: r.get(1)?,
                    kind: r.get(2)?,
                    revisions: list(3)?,
                    blobs: list(4)?,
                    digest: r.get(5)?,
                    withdrawn: r.get::<_, i64>(6)? != 0,
                    generation: r.get(7)?,
                    pseudonym: r.get::<_, i64>(8)? != 0,
                },
            ))
        })?,
    )?;
    Ok(rows.into_iter().collect())
}

/// Records what was sent of one record.
pub(crate) fn set_sent(c: &Connection, partner: &str, record: &str, s: &Sent) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO partner_sent(partner, record, out_record, kind, revisions, blobs, digest, withdrawn, generation, pseudonym) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT(partner, record) DO UPDATE SET out_record = ?3, kind = ?4, revisions = ?5, \
         blobs = ?6, digest = ?7, withdrawn = ?8, generation = ?9, pseudonym = ?10",
    )?
    .execute(params![
        partner,
        record,
        s.out_record,
        s.kind,
        serde_json::to_string(&s.revisions).expect("strings serialise"),
        serde_json::to_string(&s.blobs).expect("strings serialise"),
        s.digest,
        s.withdrawn,
        s.generation,
        s.pseudonym,
    ])?;
    Ok(())
}
