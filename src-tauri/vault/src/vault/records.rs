//! Writing records: add, edit, purge, resolve a conflict, attach a file. Each save is one
//! transaction: the revision, the record's heads, its search entries and an audit event.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;

use rusqlite::Connection;

use super::{purges, AttachMeta, Saved, Vault};
use crate::crypto::blobs;
use crate::error::{Error, Result};
use crate::index::{self, Text};
use crate::model::{self, Attachment, Capture, Custody, Kind, Record, RecordId, Validated};
use crate::revision::{self, Revision, RevisionId};
use crate::store::{self, audit, heads, purge, revisions};

/// Fails unless every record `v` refers to exists here with the right kind.
pub(super) fn check_references(tx: &Connection, v: &Validated) -> Result<()> {
    for r in &v.references {
        match store::kind_of(tx, &r.id.to_string())? {
            None => {
                return Err(Error::invalid(
                    &r.field,
                    format!("no {} with id {} in this vault", r.kind, r.id),
                ))
            }
            Some(k) if k != r.kind.as_str() => {
                return Err(Error::invalid(
                    &r.field,
                    format!("{} is a {k}, not a {}", r.id, r.kind),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Stores a new record from validated data.
pub(super) fn insert_new(tx: &Connection, device: &str, v: Validated, text: Text) -> Result<Saved> {
    check_references(tx, &v)?;
    let id = RecordId::new();
    let at = revision::now();
    let rev = Revision::new(id, v.kind, vec![], device.to_owned(), at.clone(), v.data)?;
    store::insert_record(tx, &id.to_string(), v.kind, &at, &[rev.id.to_string()])?;
    revisions::insert(tx, &rev)?;
    index::reindex(tx, id, true, text, std::slice::from_ref(&rev))?;
    audit::append(
        tx,
        device,
        &at,
        "record_created",
        serde_json::json!({ "record": id, "kind": v.kind, "revision": rev.id }),
    )?;
    Ok(Saved {
        record: id,
        revision: rev.id,
        changed: true,
        warnings: v.warnings,
    })
}

/// Stores a new revision of `id` after `base` (no revision when nothing changed).
pub(super) fn insert_revision_of(
    tx: &Connection,
    device: &str,
    id: RecordId,
    base: Revision,
    v: Validated,
) -> Result<Saved> {
    if base.data.as_ref() == Some(&v.data) {
        return Ok(Saved {
            record: id,
            revision: base.id,
            changed: false,
            warnings: v.warnings,
        });
    }
    check_references(tx, &v)?;
    let at = revision::now();
    let rev = Revision::new(
        id,
        v.kind,
        vec![base.id.clone()],
        device.to_owned(),
        at.clone(),
        v.data,
    )?;
    revisions::insert(tx, &rev)?;
    let mut current = heads::ids(tx, id)?;
    current.retain(|h| h != base.id.as_str());
    current.push(rev.id.to_string());
    heads::set(tx, &id.to_string(), &current)?;
    if current.len() == 1 {
        index::reindex(tx, id, false, Text::Deferred, std::slice::from_ref(&rev))?;
    } else {
        index::reindex(tx, id, false, Text::Deferred, &heads::of(tx, id)?)?;
    }
    audit::append(
        tx,
        device,
        &at,
        "record_revised",
        serde_json::json!({ "record": id, "kind": v.kind, "revision": rev.id, "parents": [base.id] }),
    )?;
    Ok(Saved {
        record: id,
        revision: rev.id,
        changed: true,
        warnings: v.warnings,
    })
}

/// The kind and the revision an edit starts from: `base`, or the one head.
pub(super) fn edit_base(
    c: &Connection,
    id: RecordId,
    base: Option<RevisionId>,
) -> Result<(Kind, Revision)> {
    let kind = store::record_kind(c, id)?;
    let rev = match base {
        Some(b) => {
            let r = revisions::by_id(c, &b)?;
            if r.record != id {
                return Err(Error::invalid(
                    "base",
                    format!("revision {} belongs to another record", b.short()),
                ));
            }
            r
        }
        None => {
            let mut current = heads::of(c, id)?;
            if current.len() != 1 {
                return Err(Error::Conflict {
                    record: id.to_string(),
                    heads: current.len(),
                });
            }
            current.pop().expect("one head")
        }
    };
    Ok((kind, rev))
}

/// The data of a revision to build on (refused once purged).
pub(super) fn live_data(rev: &Revision, refusal: &str) -> Result<serde_json::Value> {
    rev.data
        .clone()
        .filter(|d| !revision::is_purge_marker(d))
        .ok_or_else(|| Error::invalid("", refusal))
}

/// The custody facts of an attachment are the vault's, set when the file came in: an edit
/// carries those of the version it builds on, whatever the caller sent (docs/records.md
/// "Custody").
fn keep_custody(data: &mut serde_json::Value, base: Option<&serde_json::Value>) {
    let before: std::collections::BTreeMap<&str, Option<&serde_json::Value>> = base
        .and_then(|b| b.get("attachments"))
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| Some((a.get("blob")?.as_str()?, a.get("custody"))))
        .collect();
    let Some(list) = data
        .get_mut("attachments")
        .and_then(serde_json::Value::as_array_mut)
    else {
        return;
    };
    for a in list.iter_mut().filter_map(serde_json::Value::as_object_mut) {
        let Some(blob) = a.get("blob").and_then(serde_json::Value::as_str) else {
            continue;
        };
        match before.get(blob) {
            Some(Some(c)) => {
                a.insert("custody".into(), (*c).clone());
            }
            Some(None) => {
                a.remove("custody");
            }
            None => {}
        }
    }
}

/// JSON from a caller, as an object.
fn json_object(json: &[u8]) -> Result<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
        Error::invalid(
            "",
            format!("not valid JSON: {}", model::json_error_message(&e)),
        )
    })?;
    Ok(v)
}

impl Vault {
    /// Adds one record from JSON.
    pub fn add(&mut self, kind: Kind, json: &[u8]) -> Result<Saved> {
        self.o()?;
        let v = model::validate(kind, json)?;
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let saved = insert_new(&tx, &o.device, v, Text::Deferred)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// Writes a new revision of `id`. `json` is an RFC 7396 merge patch over the edited revision
    /// (or, with `replace`, the whole new record). `base` is the revision the user was looking at;
    /// when omitted the record must have exactly one head. Editing an older revision than the
    /// head makes a second head (a conflict), never a silent overwrite.
    pub fn edit(
        &mut self,
        id: RecordId,
        json: &[u8],
        base: Option<RevisionId>,
        replace: bool,
    ) -> Result<Saved> {
        self.o()?;
        let patch = json_object(json)?;
        if !patch.is_object() {
            return Err(Error::invalid("", "expected a JSON object"));
        }
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let (kind, base_rev) = edit_base(&tx, id, base)?;
        let mut data = live_data(
            &base_rev,
            "this record was purged; its content no longer exists",
        )?;
        if replace {
            data = patch;
        } else {
            revision::merge_patch(&mut data, &patch);
        }
        keep_custody(&mut data, base_rev.data.as_ref());
        let v = model::validate_value(kind, &data)?;
        let saved = insert_revision_of(&tx, &o.device, id, base_rev, v)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// Purges a record (consent withdrawn, a court order): the content of every revision and
    /// every attachment of it is destroyed here; a purge marker revision (naming the revisions
    /// and attachments, never their content) replaces the heads and travels in the next bundle,
    /// so coordinators' copies are purged on import too. `reason` goes to the audit log.
    ///
    /// A person merged with others is one human under several ids, and the person kept holds
    /// copies of the others' names and documents: purging any id of the group purges every
    /// one (the returned revision is `id`'s).
    pub fn purge(&mut self, id: RecordId, reason: &str) -> Result<Saved> {
        self.o()?;
        if reason.trim().is_empty() {
            return Err(Error::invalid("reason", "say why the record is purged"));
        }
        let dir = self.dir.clone();
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let saved = purges::purge_reached(&tx, &o.device, &[id.to_string()], reason)?
            .into_iter()
            .find(|s| s.record == id)
            .ok_or_else(|| Error::invalid("", format!("{id} was purged already")))?;
        tx.commit()?;
        purge::finish(&o.conn, &dir)?;
        Ok(saved)
    }

    /// Resolves a conflict with a merge revision whose parents are all current heads: its data
    /// is that of the head `keep`, or `json` (a whole record).
    pub fn resolve(
        &mut self,
        id: RecordId,
        keep: Option<RevisionId>,
        json: Option<&[u8]>,
    ) -> Result<Saved> {
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let kind = store::record_kind(&tx, id)?;
        let current = heads::of(&tx, id)?;
        if purge::is_purged(&tx, id)? {
            return Err(Error::invalid(
                "",
                "this record was purged (consent withdrawn): its versions have no content to resolve",
            ));
        }
        if current.len() < 2 {
            return Err(Error::invalid(
                "",
                format!("record {id} has no conflict to resolve"),
            ));
        }
        let data = match (keep, json) {
            (Some(k), None) => current
                .iter()
                .find(|h| h.id == k)
                .ok_or_else(|| {
                    Error::invalid(
                        "keep",
                        format!("{} is not one of the conflicting versions", k.short()),
                    )
                })?
                .data
                .clone()
                .ok_or_else(|| Error::invalid("keep", "that version was purged"))?,
            (None, Some(j)) => json_object(j)?,
            _ => {
                return Err(Error::invalid(
                    "",
                    "say which version to keep, or give the merged record",
                ))
            }
        };
        let v = model::validate_value(kind, &data)?;
        check_references(&tx, &v)?;
        let at = revision::now();
        let parents: Vec<RevisionId> = current.iter().map(|h| h.id.clone()).collect();
        let rev = Revision::new(
            id,
            kind,
            parents.clone(),
            o.device.clone(),
            at.clone(),
            v.data,
        )?;
        revisions::insert(&tx, &rev)?;
        heads::set(&tx, &id.to_string(), &[rev.id.to_string()])?;
        index::reindex(&tx, id, false, Text::Deferred, std::slice::from_ref(&rev))?;
        audit::append(
            &tx,
            &o.device,
            &at,
            "record_resolved",
            serde_json::json!({ "record": id, "kind": kind, "revision": rev.id, "parents": parents }),
        )?;
        tx.commit()?;
        self.after_save()?;
        Ok(Saved {
            record: id,
            revision: rev.id,
            changed: true,
            warnings: v.warnings,
        })
    }

    /// [`Vault::resolve`] for a person who compared the versions `seen` (the conflicts
    /// screen): refused, changing nothing, when the record's versions are no longer exactly
    /// those (another arrived meanwhile, from an import), so that no version is merged away
    /// without having been shown.
    pub fn resolve_seen(
        &mut self,
        id: RecordId,
        seen: &[String],
        keep: Option<RevisionId>,
        json: Option<&[u8]>,
    ) -> Result<Saved> {
        let current: BTreeSet<String> = heads::of(&self.o()?.conn, id)?
            .iter()
            .map(|h| h.id.to_string())
            .collect();
        let shown: BTreeSet<String> = seen.iter().map(|s| s.trim().to_owned()).collect();
        if current != shown {
            return Err(Error::invalid(
                "",
                format!(
                    "this record now has {} versions, not the {} you compared: open it again",
                    current.len(),
                    shown.len()
                ),
            ));
        }
        self.resolve(id, keep, json)
    }

    /// Streams `input` into an encrypted attachment and adds it to record `id` (a new revision).
    pub fn attach(
        &mut self,
        id: RecordId,
        input: impl Read + Send,
        meta: AttachMeta,
    ) -> Result<Saved> {
        let dir = self.dir.clone();
        let recipient = self.o()?.secrets.identity().to_public();
        // Fail before streaming a large file if the record cannot take it.
        edit_base(&self.o()?.conn, id, None)?;
        let conn = &self.o()?.conn;
        let blob = blobs::write(&dir, &recipient, input, &mut |f| {
            store::purge::expect_file(conn, f)
        })?;
        let o = self.o_mut()?;
        let result = (|| -> Result<(Saved, bool)> {
            let tx = o.conn.transaction()?;
            let (kind, base_rev) = edit_base(&tx, id, None)?;
            let data = live_data(
                &base_rev,
                "this record was purged; nothing can be attached to it",
            )?;
            let mut record = Record::from_json(kind, &serde_json::to_vec(&data).expect("JSON"))?;
            if record.attachments().iter().any(|a| a.blob == blob.sha256) {
                return Err(Error::invalid(
                    "attachments",
                    "this file is already attached to the record",
                ));
            }
            let custody = custody_of(&meta, &o.device, record.attachments())?;
            record.attachments_mut().push(Attachment {
                blob: blob.sha256.clone(),
                size: blob.size,
                media_type: meta.media_type.clone(),
                name: meta.name.clone(),
                caption: meta.caption.clone(),
                custody: Some(custody),
            });
            let v = model::validate_record(record)?;
            model::check_record_size(serde_json::to_vec(&v.data).map_or(0, |b| b.len()))?;
            let reuse = store::blobs::exists(&tx, &blob.sha256)?;
            if !reuse {
                store::purge::adopt(&tx, &dir, &blob.rel)?;
                store::blobs::insert(
                    &tx,
                    &blob.sha256,
                    &blob.rel,
                    blob.size,
                    &blob.payload_sha256,
                )?;
            }
            let saved = insert_revision_of(&tx, &o.device, id, base_rev, v)?;
            tx.commit()?;
            Ok((saved, reuse))
        })();
        match result {
            Ok((saved, reuse)) => {
                if reuse && fs::remove_file(dir.join(&blob.rel)).is_ok() {
                    // Same content already stored: keep one encrypted copy (the new file, still
                    // noted as not part of the vault, goes at the next unlock if not now).
                    store::purge::forget_file(&self.o()?.conn, &blob.rel)?;
                }
                self.after_save()?;
                Ok(saved)
            }
            Err(e) => {
                let _ = fs::remove_file(dir.join(&blob.rel));
                Err(e)
            }
        }
    }

    /// An attachment's size in bytes.
    pub fn attachment_size(&self, sha256: &str) -> Result<u64> {
        let o = self.o()?;
        store::blobs::file_and_size(&o.conn, sha256)?
            .map(|(_, size)| size)
            .ok_or_else(|| Error::NotFound(format!("attachment {sha256}")))
    }

    /// Opens an attachment's plaintext as a stream (decrypted in memory, chunk by chunk).
    pub fn open_attachment(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        let o = self.o()?;
        let rel = store::blobs::file_of(&o.conn, sha256)?
            .ok_or_else(|| Error::NotFound(format!("attachment {sha256}")))?;
        blobs::open(&self.dir, &rel, o.secrets.identity())
    }

    /// The full id of a revision of `record` from a prefix of it (as `history` prints, 8 or more
    /// hex digits).
    pub fn find_revision(&self, record: RecordId, prefix: &str) -> Result<RevisionId> {
        self.o()?;
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 8 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadId(prefix.chars().take(80).collect()));
        }
        let found: Vec<RevisionId> = self
            .history(record)?
            .into_iter()
            .map(|h| h.id)
            .filter(|id| id.as_str().starts_with(&p))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::NotFound(format!("revision {p} of record {record}"))),
            _ => Err(Error::invalid(
                "revision",
                "that prefix matches several revisions: give more digits",
            )),
        }
    }
}

/// The custody facts of a file coming in now on `device`: when and where are the vault's; a
/// derived copy must name an attachment of the same record.
fn custody_of(meta: &AttachMeta, device: &str, existing: &[Attachment]) -> Result<Custody> {
    let mut c = meta.custody.clone().unwrap_or(Custody {
        how: Capture::Attached,
        at: String::new(),
        device: String::new(),
        derived_from: None,
        duration_ms: None,
        input: None,
        markers: Vec::new(),
    });
    // A recording's time is when the vault started it (`super::recordings`); any other file's
    // is now.
    if c.how != Capture::Recorded || c.at.is_empty() {
        c.at = revision::now();
    }
    c.device = device.to_owned();
    if let Some(d) = &c.derived_from {
        if !existing.iter().any(|a| &a.blob == d) {
            return Err(Error::invalid(
                "derived_from",
                "a copy must be made from an attachment of the same record",
            ));
        }
    }
    Ok(c)
}
