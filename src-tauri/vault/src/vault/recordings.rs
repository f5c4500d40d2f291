//! Recording straight into the vault. The recorder (the app, the `kuager record` command) hands
//! over a few seconds of encoded audio at a time; each piece is written as its own small age
//! file and noted in the database before the next is asked for, so a crash, a kill or a lock
//! loses at most the piece being written. When the recording stops, its pieces become one
//! attachment of the record (custody: recorded, when, on which device, from which input, its
//! length and markers) and the pieces are removed. A recording found at unlock was interrupted:
//! [`Vault::recordings`] lists it, to be saved with [`Vault::recording_finish`] or discarded
//! (docs/design-notes.md "Recordings").

use std::io::{self, Read};
use std::path::PathBuf;

use serde::Serialize;
use zeroize::Zeroizing;

use super::{AttachMeta, Saved, Vault};
use crate::crypto::chunks;
use crate::error::{Error, Result};
use crate::model::{Capture, Custody, Kind, Marker, RecordId, MAX_MARKERS, MAX_MARKER_NOTE};
use crate::revision;
use crate::store::{self, purge, recordings};

/// The largest piece a recorder may hand over at once (a few seconds of speech are a few
/// kilobytes).
pub const MAX_PIECE: usize = chunks::MAX_PIECE;
/// The longest recording kept, in pieces (at two seconds a piece: more than 24 hours).
pub const MAX_PIECES: u64 = 50_000;

/// A recording in progress, or one that was interrupted.
#[derive(Debug, Clone, Serialize)]
pub struct RecordingInfo {
    /// Its id (random; not a record id).
    pub id: String,
    /// The record it will be attached to.
    pub record: RecordId,
    /// When it started (RFC 3339 UTC).
    pub started_at: String,
    /// The input it was made from.
    pub input: Option<String>,
    /// How long it is so far, in milliseconds.
    pub duration_ms: u64,
    /// Its encoded size so far.
    pub size: u64,
    /// Markers set so far.
    pub markers: usize,
}

/// A recording's media type: Opus in Ogg.
pub const RECORDING_TYPE: &str = "audio/ogg";

impl Vault {
    /// Starts a recording for record `record` (which must exist and not be purged); returns its
    /// id. `input` is the microphone's name, kept in the custody facts.
    pub fn recording_begin(&mut self, record: RecordId, input: Option<&str>) -> Result<String> {
        let o = self.o()?;
        let kind = store::record_kind(&o.conn, record)?;
        if kind != Kind::Testimony {
            return Err(Error::invalid(
                "record",
                "recordings are made for a testimony: open the testimony and record there",
            ));
        }
        if purge::is_purged(&o.conn, record)? {
            return Err(Error::invalid(
                "record",
                "this testimony was purged; nothing can be recorded for it",
            ));
        }
        let input: Option<String> = input.map(|i| i.chars().take(MAX_MARKER_NOTE).collect());
        let id = crate::fsutil::random_name();
        let rid = record.to_string();
        self.audited(
            |c| {
                recordings::insert(
                    c,
                    &id,
                    &rid,
                    &revision::now(),
                    RECORDING_TYPE,
                    input.as_deref(),
                )
            },
            "recording_started",
            serde_json::json!({ "record": rid }),
        )?;
        Ok(id)
    }

    /// Adds the next piece of recording `id`: encoded audio ending `end_ms` into the recording,
    /// and the markers set during it. Durable when this returns.
    pub fn recording_append(
        &mut self,
        id: &str,
        piece: &[u8],
        end_ms: u64,
        markers: &[Marker],
    ) -> Result<()> {
        let o = self.o()?;
        let row = recordings::get(&o.conn, id)?
            .ok_or_else(|| Error::NotFound(format!("recording {}", short(id))))?;
        if piece.len() > MAX_PIECE {
            return Err(Error::invalid(
                "piece",
                "is too large for a piece of a recording",
            ));
        }
        if row.pieces >= MAX_PIECES {
            return Err(Error::invalid(
                "piece",
                "this recording is at its longest: stop it and start another",
            ));
        }
        if end_ms < row.end_ms {
            return Err(Error::invalid("end_ms", "pieces come in order"));
        }
        for m in markers {
            if m.note
                .as_ref()
                .is_some_and(|n| n.chars().count() > MAX_MARKER_NOTE)
            {
                return Err(Error::invalid(
                    "note",
                    format!("a marker's note is at most {MAX_MARKER_NOTE} characters"),
                ));
            }
        }
        let recipient = o.secrets.identity().to_public();
        let rel = chunks::new_rel();
        purge::expect_file(&o.conn, &rel)?;
        if let Err(e) = chunks::write(&self.dir, &rel, &recipient, piece) {
            let _ = std::fs::remove_file(self.dir.join(&rel));
            let _ = purge::forget_file(&o.conn, &rel);
            return Err(e);
        }
        let tx = o.conn.unchecked_transaction()?;
        let seq = recordings::next_seq(&tx, id)?;
        recordings::add_piece(&tx, id, seq, &rel, piece.len() as u64, end_ms)?;
        // Markers beyond the most a recording keeps are dropped (never the audio).
        let room = MAX_MARKERS.saturating_sub(recordings::markers(&tx, id)?.len());
        for m in markers.iter().take(room) {
            recordings::add_marker(&tx, id, m.at_ms.min(end_ms), m.note.as_deref())?;
        }
        purge::adopt(&tx, &self.dir, &rel)?;
        tx.commit()?;
        Ok(())
    }

    /// Recordings not yet attached: the one in progress, and any a crash, a kill or a lock
    /// interrupted.
    pub fn recordings(&self) -> Result<Vec<RecordingInfo>> {
        let o = self.o()?;
        recordings::all(&o.conn)?
            .into_iter()
            .map(|r| {
                let markers = recordings::markers(&o.conn, &r.id)?.len();
                Ok(RecordingInfo {
                    record: r.record.parse()?,
                    id: r.id,
                    started_at: r.started_at,
                    input: r.input,
                    duration_ms: r.end_ms,
                    size: r.size,
                    markers,
                })
            })
            .collect()
    }

    /// Makes recording `id` an attachment of its record (one Ogg Opus file: its pieces in
    /// order), with its custody facts, and removes its pieces. A recording with nothing in it is
    /// discarded instead (an error says so).
    pub fn recording_finish(&mut self, id: &str) -> Result<Saved> {
        let o = self.o()?;
        let row = recordings::get(&o.conn, id)?
            .ok_or_else(|| Error::NotFound(format!("recording {}", short(id))))?;
        if row.pieces == 0 {
            self.recording_discard(id)?;
            return Err(Error::invalid(
                "",
                "nothing was recorded (the microphone gave no sound before the recording stopped)",
            ));
        }
        let record: RecordId = row.record.parse()?;
        let markers = recordings::markers(&o.conn, id)?
            .into_iter()
            .map(|(at_ms, note)| Marker { at_ms, note })
            .collect();
        let pieces = PiecesReader {
            dir: self.dir.clone(),
            identity: o.secrets.identity().clone(),
            files: recordings::pieces(&o.conn, id)?.into_iter(),
            buf: Zeroizing::new(Vec::new()),
            pos: 0,
        };
        let meta = AttachMeta {
            name: Some(format!("recording {}.opus", file_time(&row.started_at))),
            caption: None,
            media_type: Some(row.media_type.clone()),
            custody: Some(Custody {
                how: Capture::Recorded,
                at: row.started_at.clone(),
                device: String::new(),
                derived_from: None,
                duration_ms: Some(row.end_ms),
                input: row.input.clone(),
                markers,
            }),
        };
        let saved = match self.attach(record, pieces, meta) {
            Ok(s) => s,
            Err(Error::Invalid { field, message }) if field == "attachments" => {
                // Saved already (a crash came between the attachment and forgetting its
                // pieces): the pieces go now.
                self.forget_recording(id)?;
                return Err(Error::invalid(
                    "",
                    format!("{message}: this recording was saved before"),
                ));
            }
            Err(e) => return Err(e),
        };
        self.forget_recording(id)?;
        Ok(saved)
    }

    /// Discards recording `id` and its pieces.
    pub fn recording_discard(&mut self, id: &str) -> Result<()> {
        let o = self.o()?;
        let row = recordings::get(&o.conn, id)?
            .ok_or_else(|| Error::NotFound(format!("recording {}", short(id))))?;
        self.audited(
            |c| recordings::remove(c, id),
            "recording_discarded",
            serde_json::json!({ "record": row.record, "duration_ms": row.end_ms }),
        )?;
        purge::remove_doomed(&self.o()?.conn, &self.dir)
    }

    fn forget_recording(&mut self, id: &str) -> Result<()> {
        let o = self.o()?;
        let tx = o.conn.unchecked_transaction()?;
        recordings::remove(&tx, id)?;
        tx.commit()?;
        purge::remove_doomed(&o.conn, &self.dir)
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

/// `2026-12-02T09:01:02.345Z` → `2026-12-02 09-01-02` (a file name's characters).
fn file_time(at: &str) -> String {
    at.chars()
        .take(19)
        .map(|c| match c {
            'T' => ' ',
            ':' => '-',
            c => c,
        })
        .collect()
}

/// A recording's pieces decrypted one after another, each wiped when the next is read.
struct PiecesReader {
    dir: PathBuf,
    identity: age::x25519::Identity,
    files: std::vec::IntoIter<String>,
    buf: Zeroizing<Vec<u8>>,
    pos: usize,
}

impl Read for PiecesReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            let Some(f) = self.files.next() else {
                return Ok(0);
            };
            self.buf = chunks::read(&self.dir, &f, &self.identity)
                .map_err(|e| io::Error::other(e.to_string()))?;
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
