//! `verify`: everything a vault can check about itself — SQLCipher pages, every revision id
//! against its content, the revision graph and heads, the audit chain, attachment files.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::Path;

use rusqlite::Connection;

use super::{Vault, VerifyReport};
use crate::crypto::chunks;
use crate::error::Result;
use crate::model;
use crate::revision::Revision;
use crate::store::{self, audit, blobs, recordings};

/// A revision as `verify` reads it: id, record, parents.
/// A revision's id, record and parents, and for a purge marker the revisions it destroys.
type Node = (String, String, Vec<String>, Vec<String>);

impl Vault {
    /// Checks SQLCipher page integrity, every revision id against its content, the revision
    /// graph and heads, the audit chain, and that every referenced attachment file exists.
    pub fn verify(&self) -> Result<VerifyReport> {
        let c = &self.o()?.conn;
        let mut rep = VerifyReport::default();
        pages(c, &mut rep)?;
        rep.records =
            c.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0))? as usize;
        let nodes = revision_ids(c, &mut rep)?;
        graph(c, &nodes, &mut rep)?;
        match audit::verify(c)? {
            Ok(n) => rep.audit_events = n,
            Err(p) => rep.problems.push(p),
        }
        self.attachments(c, &mut rep)?;
        self.recording_pieces(c, &mut rep)?;
        Ok(rep)
    }

    /// Every attachment row has its file, every file under `blobs/` belongs to an attachment
    /// row, and every attachment a current version refers to is stored.
    fn attachments(&self, c: &Connection, rep: &mut VerifyReport) -> Result<()> {
        let rows = blobs::all(c)?;
        let known: BTreeSet<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
        let files: BTreeSet<&str> = rows.iter().map(|(_, f)| f.as_str()).collect();
        for stray in stored_files(&self.dir)
            .iter()
            .filter(|f| !files.contains(f.as_str()))
        {
            rep.problems.push(format!(
                "file {stray} belongs to no attachment (left by an interrupted save, import or purge; such files are removed at the next unlock): it holds only encrypted data"
            ));
        }
        for (sha, file) in &rows {
            if self.dir.join(file).is_file() {
                rep.blobs += 1;
            } else {
                rep.problems
                    .push(format!("attachment {} is missing its file", &sha[..12]));
            }
        }
        let mut st = c.prepare(
            "SELECT v.data FROM records r, json_each(r.heads) h JOIN revisions v ON v.id = h.value \
             WHERE v.data LIKE '%\"blob\":%'",
        )?;
        let mut rows = st.query([])?;
        while let Some(row) = rows.next()? {
            let data: String = row.get(0)?;
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            for b in model::attachment_blobs(&v).filter(|b| !known.contains(b)) {
                rep.problems.push(format!(
                    "attachment {} is referenced but not stored",
                    &b[..12.min(b.len())]
                ));
            }
        }
        Ok(())
    }
}

impl Vault {
    /// Every piece of a recording in progress has its file and opens with the vault's key, and
    /// every file under `recordings/` belongs to one.
    fn recording_pieces(&self, c: &Connection, rep: &mut VerifyReport) -> Result<()> {
        let rows = recordings::all_files(c)?;
        let known: BTreeSet<&str> = rows.iter().map(String::as_str).collect();
        for stray in chunks::stored(&self.dir)
            .iter()
            .filter(|f| !known.contains(f.as_str()))
        {
            rep.problems.push(format!(
                "file {stray} belongs to no recording (left by an interrupted recording; such files are removed at the next unlock): it holds only encrypted data"
            ));
        }
        let identity = self.o()?.secrets.identity();
        for f in &rows {
            if let Err(e) = chunks::read(&self.dir, f, identity) {
                rep.problems.push(format!(
                    "a piece of a recording in progress cannot be read: {e}"
                ));
            }
        }
        Ok(())
    }
}

/// The attachment files under `blobs/`, as paths relative to the vault folder (not the
/// `.tmp-` files of writes in progress).
fn stored_files(vault: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(top) = fs::read_dir(vault.join("blobs")) else {
        return out;
    };
    for sub in top.flatten().filter(|e| e.path().is_dir()) {
        for f in fs::read_dir(sub.path()).into_iter().flatten().flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            if !name.starts_with(".tmp-") {
                out.push(format!(
                    "blobs/{}/{name}",
                    sub.file_name().to_string_lossy()
                ));
            }
        }
    }
    out
}

/// SQLite's own integrity check and SQLCipher's page authentication.
fn pages(c: &Connection, rep: &mut VerifyReport) -> Result<()> {
    let ic: Vec<String> = store::collect(
        c.prepare("PRAGMA integrity_check")?
            .query_map([], |r| r.get(0))?,
    )?;
    if ic != ["ok"] {
        rep.problems
            .push(format!("database integrity: {}", ic.join("; ")));
    }
    let cic: Vec<String> = store::collect(
        c.prepare("PRAGMA cipher_integrity_check")?
            .query_map([], |r| r.get(0))?,
    )?;
    if !cic.is_empty() {
        rep.problems.push(format!(
            "encrypted pages fail authentication: {}",
            cic.join("; ")
        ));
    }
    Ok(())
}

/// Recomputes every (unpurged) revision's id from its content. Returns every revision's id,
/// record and parents.
fn revision_ids(c: &Connection, rep: &mut VerifyReport) -> Result<Vec<Node>> {
    let mut nodes = Vec::new();
    let mut st = c.prepare(
        "SELECT v.id, v.record, r.kind, v.parents, v.device, v.at, v.data, v.purged \
         FROM revisions v JOIN records r ON r.id = v.record ORDER BY v.seq",
    )?;
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        rep.revisions += 1;
        let id: String = row.get(0)?;
        let record: String = row.get(1)?;
        let kind: String = row.get(2)?;
        let parents: String = row.get(3)?;
        let device: String = row.get(4)?;
        let at: String = row.get(5)?;
        let data: Option<String> = row.get(6)?;
        let purged: bool = row.get(7)?;
        let parents: Vec<String> = serde_json::from_str(&parents).unwrap_or_default();
        let destroys = data
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .filter(crate::revision::is_purge_marker)
            .and_then(|d| crate::revision::purge_targets(&d))
            .map(|(revisions, _)| revisions)
            .unwrap_or_default();
        if !purged {
            let ok = (|| -> Option<bool> {
                let rev = Revision {
                    id: id.parse().ok()?,
                    record: record.parse().ok()?,
                    kind: kind.parse().ok()?,
                    parents: parents
                        .iter()
                        .map(|p| p.parse().ok())
                        .collect::<Option<_>>()?,
                    device,
                    at,
                    data: Some(serde_json::from_str(data.as_deref()?).ok()?),
                };
                rev.id_matches()
            })();
            if ok != Some(true) {
                rep.problems.push(format!(
                    "revision {} of record {record} does not match its id (altered content)",
                    &id[..12.min(id.len())]
                ));
            }
        }
        nodes.push((id, record, parents, destroys));
    }
    Ok(nodes)
}

/// Every parent is in the same record's history, and the stored heads are exactly the
/// revisions no other revision replaces: names as a parent, or (a purge marker) destroys. A
/// purge marker may continue versions this vault never had, when it destroys them (they were
/// edited and purged before any bundle carried them).
fn graph(c: &Connection, nodes: &[Node], rep: &mut VerifyReport) -> Result<()> {
    let record_of: HashMap<&str, &str> = nodes
        .iter()
        .map(|(id, r, _, _)| (id.as_str(), r.as_str()))
        .collect();
    let mut has_child: BTreeSet<&str> = BTreeSet::new();
    for (id, record, parents, destroys) in nodes {
        for d in destroys {
            if record_of.get(d.as_str()) == Some(&record.as_str()) {
                has_child.insert(d);
            }
        }
        for p in parents {
            match record_of.get(p.as_str()) {
                Some(r) if r == record => {
                    has_child.insert(p);
                }
                None if destroys.contains(p) => {}
                _ => rep.problems.push(format!(
                    "revision {} names a parent {} that is not in this record's history",
                    &id[..12],
                    &p[..12.min(p.len())]
                )),
            }
        }
    }
    let expected: BTreeSet<(String, String)> = nodes
        .iter()
        .filter(|(id, _, _, _)| !has_child.contains(id.as_str()))
        .map(|(id, r, _, _)| (r.clone(), id.clone()))
        .collect();
    let stored: BTreeSet<(String, String)> = store::collect(
        c.prepare("SELECT r.id, h.value FROM records r, json_each(r.heads) h")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )?
    .into_iter()
    .collect();
    if expected != stored {
        rep.problems
            .push("the list of current versions (heads) does not match the history".into());
    }
    Ok(())
}
