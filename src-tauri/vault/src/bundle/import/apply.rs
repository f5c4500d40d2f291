//! Writing a checked bundle into the vault, in one transaction: new records, then the new
//! revisions as `records.jsonl` is read a second time (`super::records::each`: their data is
//! never all in memory), their heads, the attachments they need, the purges they carry, the
//! search index — then the signer's trust, the import itself and its audit event. When
//! inspecting, nothing is written: records and heads are only counted.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::check::Checked;
use super::decrypt::reject;
use super::entries::Staged;
use super::records::Light;
use super::{Applied, ImportReport, Mode, Target};
use crate::crypto::blobs::NewBlob;
use crate::error::Result;
use crate::index;
use crate::model::{Kind, RecordId};
use crate::revision::{self, Revision};
use crate::store::{self, audit, heads, peers, purge, revisions};

/// Hands every revision of `records.jsonl` to the function given, in order (a second read).
pub(super) type Reread<'a> = &'a dyn Fn(&mut dyn FnMut(Revision) -> Result<()>) -> Result<()>;

/// Writes what `checked` holds (or only counts it, when inspecting).
pub(super) fn commit(
    t: &Target<'_>,
    staged: &Staged,
    checked: Checked,
    mode: Mode,
    (file_sha, file_size): (&str, u64),
    reread: Reread<'_>,
) -> Result<Applied> {
    let mut report = ImportReport::empty(checked.bundle_id.clone(), checked.signer.clone());
    report.known_revisions = checked.known;
    report.format = checked.format;
    report.new_revisions = checked.new.len();
    let mut by_record: BTreeMap<String, Vec<&Light>> = BTreeMap::new();
    for r in &checked.new {
        by_record.entry(r.record.to_string()).or_default().push(r);
    }
    // Records whose consent was withdrawn: here already, or by a marker in this bundle.
    let mut purged = BTreeSet::new();
    for (record, revs) in &by_record {
        let marked = revs.iter().any(|r| r.purge);
        report.purged_records += usize::from(marked);
        if marked || purge::is_purged(t.conn, record.parse()?)? {
            purged.insert(record.clone());
        }
    }
    let new_blobs = needed_blobs(t.conn, staged, &checked.new, &purged)?;
    report.new_blobs = new_blobs.len();
    if mode == Mode::Inspect {
        // A review only counts: which records are new or changed, which end with two heads.
        // Nothing is written, not even in a transaction rolled back (the revisions, the index
        // and the purges were most of a review's time, for nothing it shows).
        for (record, revs) in &by_record {
            add_record(t.conn, record, revs, &mut report, false)?;
            set_heads(t.conn, record, revs, &mut report, false)?;
        }
        return Ok(Applied {
            report,
            kept: BTreeSet::new(),
            purged: false,
        });
    }
    let tx = t.conn.unchecked_transaction()?;
    for (record, revs) in &by_record {
        add_record(&tx, record, revs, &mut report, true)?;
    }
    let new: BTreeSet<&str> = checked.new.iter().map(|r| r.id.as_str()).collect();
    reread(&mut |rev| {
        if new.contains(rev.id.as_str()) {
            revisions::insert(&tx, &rev)?;
        }
        Ok(())
    })?;
    for (record, revs) in &by_record {
        set_heads(&tx, record, revs, &mut report, true)?;
    }
    let mut kept = BTreeSet::new();
    for b in &new_blobs {
        purge::adopt(&tx, t.dir, &b.rel)?;
        store::blobs::insert(&tx, &b.sha256, &b.rel, b.size, &b.payload_sha256)?;
        kept.insert(b.rel.clone());
    }
    // A purge wins: every revision of a purged record but its markers loses its content —
    // what the marker names, and what another caseworker wrote before the purge reached them,
    // whichever arrived first.
    for record in &purged {
        purge::apply_all(&tx, record.parse()?)?;
    }
    for record in by_record.keys() {
        index::reindex_record(&tx, record.parse()?)?;
    }
    let mut destroyed = !purged.is_empty();
    if let Some(after) = t.after {
        let touched: Vec<String> = by_record.keys().cloned().collect();
        destroyed |= after(&tx, &touched, &purged)?;
    }
    let signer = &checked.signer;
    if !checked.was_trusted {
        peers::trust_device_if_new(
            &tx,
            &signer.public_key,
            signer.label.as_deref().unwrap_or(""),
        )?;
    }
    peers::record_import(
        &tx,
        &checked.bundle_id,
        file_sha,
        &signer.public_key,
        &checked.device_id,
        file_size,
        report.new_records + report.changed_records,
    )?;
    audit::append(
        &tx,
        t.device,
        &revision::now(),
        "bundle_imported",
        serde_json::json!({
            "bundle_id": checked.bundle_id,
            "signer": signer.key_id,
            "new_records": report.new_records,
            "changed_records": report.changed_records,
            "new_revisions": report.new_revisions,
            "relayed_revisions": checked.relayed,
            "conflicts": report.conflicts.len(),
        }),
    )?;
    tx.commit()?;
    report.committed = report.new_revisions > 0 || report.new_blobs > 0;
    Ok(Applied {
        report,
        kept,
        purged: destroyed,
    })
}

/// The staged attachments to keep: those a revision being added refers to and this vault does
/// not have (a bundle cannot bring back an attachment purged here, nor leave files nothing
/// refers to).
fn needed_blobs<'s>(
    conn: &Connection,
    staged: &'s Staged,
    new: &[Light],
    purged: &BTreeSet<String>,
) -> Result<Vec<&'s NewBlob>> {
    let needed: BTreeSet<&str> = new
        .iter()
        .filter(|r| !purged.contains(&r.record.to_string()))
        .flat_map(|r| r.blobs.iter().map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for b in staged
        .blobs
        .iter()
        .filter(|b| needed.contains(b.sha256.as_str()))
    {
        if !store::blobs::exists(conn, &b.sha256)? {
            out.push(b);
        }
    }
    Ok(out)
}

/// Checks one record's new revisions agree with it about its kind, and creates it if new.
fn add_record(
    tx: &Connection,
    record: &str,
    revs: &[&Light],
    report: &mut ImportReport,
    write: bool,
) -> Result<()> {
    let kind: Kind = revs[0].kind;
    if revs.iter().any(|r| r.kind != kind) {
        return Err(reject(format!(
            "record {record} has revisions of different kinds"
        )));
    }
    match store::kind_of(tx, record)? {
        Some(k) if k != kind.as_str() => {
            return Err(reject(format!(
                "record {record} is a {k} here but a {kind} in the bundle"
            )))
        }
        Some(_) => report.changed_records += 1,
        None => {
            report.new_records += 1;
            if write {
                store::insert_record(tx, record, kind, &revs[0].at, &[])?;
            }
        }
    }
    Ok(())
}

/// A record's heads once its new revisions are in (a bundle may carry two branches of one
/// record).
fn set_heads(
    tx: &Connection,
    record: &str,
    revs: &[&Light],
    report: &mut ImportReport,
    write: bool,
) -> Result<()> {
    // A purge marker replaces every version it destroys, its parents or not (one may continue
    // versions never exported): the record ends with the marker alone as its head.
    let added: Vec<(String, Vec<String>)> = revs
        .iter()
        .map(|r| {
            let mut replaced: Vec<String> = r.parents.iter().map(ToString::to_string).collect();
            replaced.extend(r.destroys.iter().cloned());
            (r.id.to_string(), replaced)
        })
        .collect();
    let id: RecordId = record.parse()?;
    let new_heads = heads::after_adding(tx, id, &added)?;
    if new_heads.len() > 1 {
        report.conflicts.push(record.to_owned());
    }
    if write {
        heads::set(tx, record, &new_heads)?;
    }
    Ok(())
}
