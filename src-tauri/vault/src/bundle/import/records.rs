//! `records.jsonl` as it streams out of the tar: read a line at a time, hashed, and each line
//! parsed into a revision and checked on its own — its id matches its content, its data is a
//! valid record (or a well-formed purge), it is listed once. The file's text is never held
//! whole (it may be 512 MiB): only the revisions are kept, for the checks that need them all.
//!
//! Nothing here is trusted yet: the manifest and its signature come later in the tar. So the
//! first line that fails is remembered, not raised, and the rest is still read and hashed; the
//! refusal is given in its turn, after the manifest and the signature have been checked
//! (`super::check::all`), so an altered bundle is reported as altered.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::decrypt::reject;
use crate::error::{Error, Result};
use crate::model;
use crate::revision::{self, Revision};

/// What `records.jsonl` held.
#[derive(Default)]
pub(super) struct Records {
    /// Its revisions in order, up to the first line refused.
    pub revisions: Vec<Revision>,
    /// Why a line was refused, to be raised once the bundle's signature holds.
    pub refused: Option<Error>,
    ids: BTreeSet<String>,
}

/// Reads `records.jsonl` from `entry`, at most `cap` bytes. Returns its size and SHA-256.
pub(super) fn read(entry: &mut impl Read, cap: u64, out: &mut Records) -> Result<(u64, String)> {
    let mut input = BufReader::with_capacity(64 << 10, entry.take(cap + 1));
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut line = Zeroizing::new(Vec::new());
    for number in 1.. {
        line.clear();
        let n = input.read_until(b'\n', &mut line).map_err(|e| {
            reject(format!(
                "the bundle could not be read ({e}): it is damaged or was altered"
            ))
        })?;
        if n == 0 {
            break;
        }
        size += n as u64;
        if size > cap {
            return Err(reject(format!(
                "records.jsonl is larger than the {cap}-byte limit"
            )));
        }
        hash.update(&line[..]);
        if out.refused.is_none() {
            if let Err(e) = out.line(number, &line) {
                out.refused = Some(e);
            }
        }
    }
    Ok((size, hex::encode(hash.finalize())))
}

impl Records {
    /// One line (with its end of line), the `number`th of the file.
    fn line(&mut self, number: usize, raw: &[u8]) -> Result<()> {
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw).map_err(|_| reject("records.jsonl is not UTF-8"))?;
        if text.trim().is_empty() {
            return Ok(());
        }
        let at = |what: String| reject(format!("records.jsonl line {number}: {what}"));
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
        if !self.ids.insert(rev.id.to_string()) {
            return Err(at("revision listed twice".into()));
        }
        self.revisions.push(rev);
        Ok(())
    }

    /// The revisions, or why a line was refused.
    pub(super) fn take(&mut self) -> Result<Vec<Revision>> {
        match self.refused.take() {
            Some(e) => Err(e),
            None => Ok(std::mem::take(&mut self.revisions)),
        }
    }
}
