//! `records.jsonl`, read once the bundle's signature holds: a line at a time from its
//! re-encrypted copy in the vault folder (`super::entries` and `super::format2` spool it there
//! as it streams), each line parsed into a revision and checked on its own — its id matches its
//! content, its data is a valid record (or a well-formed purge), it is listed once. The file's
//! text is never held whole (it may be 512 MiB), and nothing of it is parsed before the manifest
//! and its signature have been checked: JSON parsing costs many times the text's size in
//! memory, and must not be open to anyone who merely holds the organisation's public key.
//!
//! Read twice: first into [`Light`] revisions — everything the checks need, not the record
//! data — then, once every check holds, again, each revision written as it is read
//! (`super::apply`). Memory grows with the number of revisions (a few hundred bytes each), not
//! with their text.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};

use zeroize::Zeroizing;

use super::decrypt::reject;
use crate::bundle::MAX_REVISION_LINE_BYTES;
use crate::error::Result;
use crate::model::{self, Kind, RecordId};
use crate::revision::{self, Revision, RevisionId};

/// A revision without its record data: what the checks need.
pub(super) struct Light {
    pub id: RevisionId,
    pub record: RecordId,
    pub kind: Kind,
    pub parents: Vec<RevisionId>,
    pub device: String,
    pub at: String,
    /// A purge marker.
    pub purge: bool,
    /// The attachments its data refers to (none for a purge marker).
    pub blobs: Vec<String>,
    /// For a purge marker, the revisions it destroys (docs/architecture.md "Purge").
    pub destroys: Vec<String>,
    /// Each attachment's custody facts (None for one without them).
    pub custody: Vec<(String, Option<serde_json::Value>)>,
}

/// The custody facts of the attachments in `data`, as [`Light::custody`] keeps them.
pub(super) fn custody_in(data: &serde_json::Value) -> Vec<(String, Option<serde_json::Value>)> {
    model::attachment_custody(data)
        .map(|(b, c)| (b.to_owned(), c.cloned()))
        .collect()
}

impl From<&Revision> for Light {
    fn from(r: &Revision) -> Self {
        let data = r.data.as_ref();
        let purge = data.is_some_and(revision::is_purge_marker);
        Light {
            id: r.id.clone(),
            record: r.record,
            kind: r.kind,
            parents: r.parents.clone(),
            device: r.device.clone(),
            at: r.at.clone(),
            purge,
            blobs: data
                .filter(|_| !purge)
                .into_iter()
                .flat_map(model::attachment_blobs)
                .map(str::to_owned)
                .collect(),
            destroys: data
                .filter(|_| purge)
                .and_then(revision::purge_targets)
                .map(|(revisions, _)| revisions)
                .unwrap_or_default(),
            custody: data.filter(|_| !purge).map(custody_in).unwrap_or_default(),
        }
    }
}

/// The revisions of `records.jsonl`, in order, without their data; refused at the first line
/// that is not one.
pub(super) fn read(input: impl Read) -> Result<Vec<Light>> {
    let mut revisions = Vec::new();
    let mut ids = BTreeSet::new();
    each(input, |number, rev| {
        if !ids.insert(rev.id.to_string()) {
            return Err(reject(format!(
                "records.jsonl line {number}: revision listed twice"
            )));
        }
        revisions.push(Light::from(&rev));
        Ok(())
    })?;
    Ok(revisions)
}

/// Every revision of `records.jsonl`, checked on its own, handed to `f` with its line number.
pub(super) fn each(
    input: impl Read,
    mut f: impl FnMut(usize, Revision) -> Result<()>,
) -> Result<()> {
    let mut input = BufReader::with_capacity(64 << 10, input);
    let mut line = Zeroizing::new(Vec::new());
    for number in 1.. {
        line.clear();
        let n = (&mut input)
            .take(MAX_REVISION_LINE_BYTES + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| {
                reject(format!(
                    "records.jsonl could not be read back ({e}): import the bundle again"
                ))
            })?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_REVISION_LINE_BYTES {
            return Err(reject(format!(
                "records.jsonl line {number} is longer than the {MAX_REVISION_LINE_BYTES}-byte limit"
            )));
        }
        if let Some(rev) = parse(number, &line)? {
            f(number, rev)?;
        }
    }
    Ok(())
}

/// One line (with its end of line), the `number`th of the file; `None` for a blank one.
fn parse(number: usize, raw: &[u8]) -> Result<Option<Revision>> {
    let at = |what: String| reject(format!("records.jsonl line {number}: {what}"));
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    let text = std::str::from_utf8(raw).map_err(|_| at("not UTF-8".into()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let rev: Revision =
        serde_json::from_str(text).map_err(|e| at(format!("not a revision ({e})")))?;
    if rev.id_matches() != Some(true) {
        return Err(at(
            "revision id does not match its content (forged or altered)".into(),
        ));
    }
    let data = rev.data.as_ref().expect("checked by id_matches");
    if revision::is_purge_marker(data) {
        if revision::purge_targets(data).is_none() {
            return Err(at("a malformed purge".into()));
        }
    } else {
        model::validate_value(rev.kind, data).map_err(|e| at(e.to_string()))?;
    }
    Ok(Some(rev))
}

/// Runs the reader on arbitrary bytes (for `cargo fuzz`).
#[cfg(fuzzing)]
pub(super) fn fuzz(data: &[u8]) {
    let _ = read(data);
}
