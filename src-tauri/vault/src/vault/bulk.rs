//! Many records in one transaction, from JSON Lines (or one pretty-printed object): all are
//! written, or — if any line is wrong — none, and the wrong lines are reported.

use std::io::BufRead;

use rusqlite::Connection;

use super::records::{check_references, insert_new};
use super::{BulkError, Saved, Vault, MAX_REPORTED_ERRORS};
use crate::error::{Error, Result};
use crate::index::{self, Text};
use crate::model::{self, Kind};

/// Reads one line (without its `\n`) of at most `max` bytes; `None` at the end of input. A longer
/// line is read to its end without being kept and reported as `Err(its length)`.
fn next_line(
    r: &mut impl BufRead,
    max: usize,
) -> std::io::Result<Option<std::result::Result<Vec<u8>, usize>>> {
    let mut line = Vec::new();
    let mut len = 0usize;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], Some(i + 1)),
            None => (avail, None),
        };
        if len + chunk.len() <= max {
            line.extend_from_slice(chunk);
        } else {
            line = Vec::new();
        }
        len += chunk.len();
        let used = done.unwrap_or(avail.len());
        r.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(if len > max { Err(len) } else { Ok(line) }))
}

/// A bulk add in progress.
struct Batch<'t> {
    tx: &'t Connection,
    device: &'t str,
    kind: Kind,
    saved: Vec<Saved>,
    errors: Vec<(usize, Error)>,
    /// Records read (a pretty-printed object counts once).
    seen: usize,
    /// Lines read.
    line_no: usize,
    /// The first lines of a record that goes on: (its first line number, its bytes so far).
    pending: Option<(usize, Vec<u8>)>,
}

/// What to do after a line.
enum Step {
    /// Read on, after reporting progress.
    Next,
    /// Read on (nothing new to report).
    Skip,
    Stop,
}

impl Batch<'_> {
    /// Takes the next line (`None`: the input ended).
    fn line(&mut self, line: Option<std::result::Result<Vec<u8>, usize>>) -> Result<Step> {
        let line = match line {
            Some(Err(len)) => {
                // Never held in memory: a hostile file cannot exhaust it with one long line.
                self.line_no += 1;
                self.seen += 1;
                self.errors.push((
                    self.line_no,
                    Error::invalid(
                        "",
                        format!(
                            "this line is {len} bytes; a record may be at most {} bytes",
                            model::MAX_RECORD_BYTES
                        ),
                    ),
                ));
                return Ok(match self.stop_if_full(false) {
                    Step::Next => Step::Skip,
                    other => other,
                });
            }
            Some(Ok(l)) => Some(l),
            None => None,
        };
        let eof = line.is_none();
        if !eof {
            self.line_no += 1;
        }
        let (start, buf) = match (self.pending.take(), line) {
            (Some((s, mut b)), Some(l)) => {
                b.push(b'\n');
                b.extend_from_slice(&l);
                (s, b)
            }
            (Some(p), None) => p,
            (None, Some(l)) if l.iter().all(u8::is_ascii_whitespace) => return Ok(Step::Skip),
            (None, Some(l)) => (self.line_no, l),
            (None, None) => return Ok(Step::Stop),
        };
        self.seen += 1;
        if self.record(start, buf, eof)? {
            return Ok(Step::Skip);
        }
        Ok(self.stop_if_full(eof))
    }

    fn stop_if_full(&self, eof: bool) -> Step {
        if self.errors.len() >= MAX_REPORTED_ERRORS || eof {
            Step::Stop
        } else {
            Step::Next
        }
    }

    /// One whole record from line `start`, or the start of one that goes on (then `true`).
    fn record(&mut self, start: usize, buf: Vec<u8>, eof: bool) -> Result<bool> {
        match model::validate_line(self.kind, &buf) {
            Ok(None) if !eof && buf.len() < model::MAX_RECORD_BYTES => {
                // A pretty-printed object continues on the next line.
                self.seen -= 1;
                self.pending = Some((start, buf));
                return Ok(true);
            }
            Ok(None) => self.errors.push((start, model::ends_early())),
            Err(e) => self.errors.push((start, e)),
            Ok(Some(v)) if self.errors.is_empty() => {
                match insert_new(self.tx, self.device, v, Text::Now) {
                    Ok(s) => self.saved.push(s),
                    Err(e @ (Error::Invalid { .. } | Error::NotFound(_))) => {
                        self.errors.push((start, e))
                    }
                    Err(e) => return Err(e),
                }
            }
            // After a first error nothing more is written; later lines are still checked.
            Ok(Some(v)) => {
                if let Err(e) = check_references(self.tx, &v) {
                    self.errors.push((start, e));
                }
            }
        }
        Ok(false)
    }
}

impl Vault {
    /// Adds many records of `kind` from JSON Lines (or one pretty-printed object) in one
    /// transaction: either every record is valid and all are written, or none is.
    /// `progress` is called with the number of records read so far.
    pub fn add_many(
        &mut self,
        kind: Kind,
        input: impl BufRead,
        progress: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<Vec<Saved>, BulkError>> {
        let o = self.o_mut()?;
        // Index what single saves queued, so the batch below can move the mark past itself.
        index::flush_if_pending(&o.conn)?;
        o.text_queue = 0;
        let tx = o.conn.transaction()?;
        let mut batch = Batch {
            tx: &tx,
            device: &o.device,
            kind,
            saved: Vec::new(),
            errors: Vec::new(),
            seen: 0,
            line_no: 0,
            pending: None,
        };
        let mut input = input;
        loop {
            let line = next_line(&mut input, model::MAX_RECORD_BYTES)
                .map_err(Error::io("reading the input"))?;
            match batch.line(line)? {
                Step::Stop => break,
                Step::Skip => continue,
                Step::Next if batch.seen.is_multiple_of(1000) => progress(batch.seen),
                Step::Next => {}
            }
        }
        progress(batch.seen);
        let Batch {
            saved,
            errors,
            seen,
            ..
        } = batch;
        if !errors.is_empty() {
            drop(tx); // rolls back
            return Ok(Err(BulkError {
                errors,
                records_seen: seen,
            }));
        }
        index::mark_all_indexed(&tx)?;
        tx.commit()?;
        Ok(Ok(saved))
    }
}
