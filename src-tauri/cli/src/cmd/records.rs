//! Records: add, edit, show, list, history, attach, search, purge, conflicts, resolve.

use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::Path;

use ::vault::{AttachMeta, BulkError, Error, Kind, RecordId, Saved};

use super::{input, unlock, Out};
use crate::output;
use crate::report::exit;

pub fn add(out: Out, dir: &Path, kind: Kind, file: Option<&Path>) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let src = input(file)?;
    let tty = io::stderr().is_terminal();
    let mut progress = |n: usize| {
        if tty && n > 0 {
            eprint!("\r{n} records read");
        }
    };
    let res = v.add_many(kind, src, &mut progress)?;
    if tty {
        eprint!("\r");
    }
    match res {
        Ok(saved) => added(out, kind, &saved),
        Err(bulk) => {
            refused_lines(&bulk);
            Ok(exit::INVALID)
        }
    }
}

fn added(out: Out, kind: Kind, saved: &[Saved]) -> anyhow::Result<u8> {
    for s in saved {
        for w in &s.warnings {
            eprintln!("warning: {}: {}: {}", s.record, w.field, w.message);
        }
        writeln!(out, "{}", s.record)?;
    }
    if saved.is_empty() {
        eprintln!("kuager: the input held no records");
        return Ok(exit::INVALID);
    }
    if saved.len() > 1 {
        eprintln!("added {} {kind} records", saved.len());
    }
    Ok(0)
}

fn refused_lines(bulk: &BulkError) {
    for (line, e) in &bulk.errors {
        match e {
            Error::Invalid { field, message } if !field.is_empty() => {
                eprintln!("line {line}: {field}: {message}")
            }
            Error::Invalid { message, .. } => eprintln!("line {line}: {message}"),
            other => eprintln!("line {line}: {}", crate::report::explain(other)),
        }
    }
    if bulk.errors.len() >= ::vault::MAX_REPORTED_ERRORS {
        eprintln!("(stopped after {} errors)", bulk.errors.len());
    }
    eprintln!("kuager: nothing was added: fix the lines above and run the same command again");
}

/// A whole JSON document from a file or standard input, at most a record's size.
fn read_record(file: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    let mut json = Vec::new();
    let limit = ::vault::model::MAX_RECORD_BYTES as u64;
    input(file)?.take(limit + 1).read_to_end(&mut json)?;
    if json.len() as u64 > limit {
        return Err(Error::Invalid {
            field: String::new(),
            message: format!("the edit is larger than {limit} bytes"),
        }
        .into());
    }
    Ok(json)
}

pub fn edit(
    out: Out,
    dir: &Path,
    id: RecordId,
    file: Option<&Path>,
    base: Option<&str>,
    replace: bool,
) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let base = base.map(|b| v.find_revision(id, b)).transpose()?;
    let json = read_record(file)?;
    let s = v.edit(id, &json, base, replace)?;
    for w in &s.warnings {
        eprintln!("warning: {}: {}", w.field, w.message);
    }
    if !s.changed {
        eprintln!("no change: the record already holds this");
    }
    writeln!(out, "{}", s.revision)?;
    let heads = v.get(id)?.heads.len();
    if heads > 1 {
        eprintln!(
            "note: record {id} now has {heads} versions that conflict; a coordinator resolves them"
        );
    }
    Ok(0)
}

pub fn show(out: Out, dir: &Path, id: RecordId, json: bool) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let view = v.get(id)?;
    if json {
        let heads: Vec<_> = view.heads.iter().map(|h| &h.data).collect();
        let text = if heads.len() == 1 {
            serde_json::to_string_pretty(&heads[0])?
        } else {
            serde_json::to_string_pretty(&heads)?
        };
        writeln!(out, "{text}")?;
    } else {
        output::show(out, &v, &view)?;
    }
    Ok(0)
}

pub fn list(out: Out, dir: &Path, kind: Option<Kind>) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let list = v.list(kind)?;
    output::summaries(out, &list, kind.is_none())?;
    if list.is_empty() {
        eprintln!("(no records)");
    }
    Ok(0)
}

pub fn history(out: Out, dir: &Path, id: RecordId) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    output::history(out, &v.history(id)?)?;
    Ok(0)
}

pub fn attach(
    out: Out,
    dir: &Path,
    id: RecordId,
    file: &Path,
    caption: Option<String>,
    media_type: Option<String>,
) -> anyhow::Result<u8> {
    let f = File::open(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let mut v = unlock(dir)?;
    let meta = AttachMeta {
        name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
        caption,
        media_type: media_type.or_else(|| output::guess_media_type(file).map(str::to_owned)),
        custody: None,
    };
    let s = v.attach(id, f, meta)?;
    writeln!(out, "{}", s.revision)?;
    Ok(0)
}

pub fn search(out: Out, dir: &Path, query: &str, limit: usize) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let hits = v.search(query, limit)?;
    output::hits(out, &hits)?;
    if hits.is_empty() {
        // Not the query: it may have come from standard input to stay out of logs.
        eprintln!("no matches");
    }
    Ok(0)
}

pub fn purge(out: Out, dir: &Path, id: RecordId, reason: &str) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let s = v.purge(id, reason)?;
    writeln!(out, "{}", s.revision)?;
    eprintln!("Purged {id}: its content and attachments are destroyed in this vault. Export to pass the purge on to the coordinators.");
    Ok(0)
}

/// `merge` (or, with `undo`, `unmerge`): prints the two new revision ids, survivor first.
pub fn merge(
    out: Out,
    dir: &Path,
    survivor: RecordId,
    absorbed: RecordId,
    undo: bool,
) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let s = if undo {
        v.unmerge_people(survivor, absorbed)?
    } else {
        v.merge_people(survivor, absorbed)?
    };
    writeln!(out, "{}\n{}", s.survivor.revision, s.absorbed.revision)?;
    if undo {
        eprintln!("{absorbed} is a person of its own again; {survivor} no longer holds what the merge brought in.");
    } else {
        eprintln!("Merged {absorbed} into {survivor}: both ids now lead to {survivor}. `kuager unmerge {survivor} {absorbed}` undoes it.");
    }
    Ok(0)
}

pub fn conflicts(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let list = v.conflicts()?;
    for view in &list {
        output::conflict(out, &v, view)?;
    }
    if list.is_empty() {
        eprintln!("(no conflicts)");
    }
    Ok(0)
}

pub fn resolve(
    out: Out,
    dir: &Path,
    id: RecordId,
    keep: Option<&str>,
    file: Option<&Path>,
) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let keep = keep.map(|k| v.find_revision(id, k)).transpose()?;
    let json = match keep {
        None => {
            let mut j = Vec::new();
            input(file)?
                .take(::vault::model::MAX_RECORD_BYTES as u64 + 1)
                .read_to_end(&mut j)?;
            Some(j)
        }
        Some(_) => None,
    };
    let s = v.resolve(id, keep, json.as_deref())?;
    writeln!(out, "{}", s.revision)?;
    Ok(0)
}
