//! The app's recorder and player (kuager-audio): one recording at a time, its pieces stored in
//! the vault by a writer thread as they come (`Vault::recording_append`), and one recording
//! open for playing. The page only asks and reads status: no audio crosses the IPC boundary.
//!
//! A lock (Ctrl+Shift+L, suspend, the session locking) stops the recording and saves it before
//! the vault locks: while a recording runs, a pending lock waits for its writer
//! ([`Audio::saving`], `AppState::settle_lock`). A recording is activity: the idle timer does
//! not stop an interview in which nobody touches the keyboard (docs/design-notes.md
//! "Recordings").

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use kuager_audio::{Piece, Player, Recorder, Source};
use tauri::{AppHandle, Manager};

use crate::error::{CmdResult, ErrorCode, IpcError};
use crate::state::AppState;

/// A recording running.
pub struct Live {
    recorder: Recorder,
    /// The vault's id for it.
    pub id: String,
    /// The testimony it belongs to.
    pub record: vault::RecordId,
    /// Markers set so far.
    pub markers: Arc<AtomicU32>,
    writer: JoinHandle<Result<(), String>>,
}

/// The recorder and player of the app.
#[derive(Default)]
pub struct Audio {
    /// The recording running, if any.
    pub live: Mutex<Option<Live>>,
    /// The recording open for playing: (its SHA-256, the player).
    pub player: Mutex<Option<(String, Player)>>,
    /// A recording's pieces are being stored: a pending lock waits until they are, then the
    /// recording is saved and the lock applied.
    pub saving: AtomicBool,
}

fn audio_err(e: kuager_audio::AudioError) -> IpcError {
    IpcError::new(ErrorCode::Io, e.to_string())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stores every piece the recorder sends, in order; ends when the recorder ends.
fn write_pieces(app: &AppHandle, id: &str, rx: &Receiver<Piece>) -> Result<(), String> {
    let state = app.state::<AppState>();
    for p in rx {
        let marks: Vec<vault::Marker> = p
            .markers
            .iter()
            .map(|(at_ms, note)| vault::Marker {
                at_ms: *at_ms,
                note: note.clone(),
            })
            .collect();
        let mut slot = state.slot();
        let v = slot.as_mut().ok_or("the vault is gone")?;
        v.recording_append(id, &p.bytes, p.end_ms, &marks)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Audio {
    /// Starts recording for `record` from `input` (None: the system's default microphone).
    pub fn start(
        &self,
        app: &AppHandle,
        record: vault::RecordId,
        input: Option<String>,
    ) -> CmdResult<()> {
        let mut live = lock(&self.live);
        if live.is_some() {
            return Err(IpcError::new(
                ErrorCode::Busy,
                "a recording is already running: stop it first",
            ));
        }
        let state = app.state::<AppState>();
        // The vault first: a purged or unknown testimony is refused before the microphone opens.
        let id = state.with_vault(|v| v.recording_begin(record, None))?;
        let (tx, rx) = mpsc::channel();
        let recorder = match Recorder::start(Source::Input(input), tx) {
            Ok(r) => r,
            Err(e) => {
                let _ = state.with_vault(|v| v.recording_discard(&id));
                return Err(audio_err(e));
            }
        };
        self.saving.store(true, Ordering::SeqCst);
        let (handle, wid) = (app.clone(), id.clone());
        let writer = std::thread::Builder::new()
            .name("kuager-recording".into())
            .spawn(move || write_pieces(&handle, &wid, &rx))
            .map_err(|_| IpcError::new(ErrorCode::Io, "the recording could not start"))?;
        *live = Some(Live {
            recorder,
            id,
            record,
            markers: Arc::new(AtomicU32::new(0)),
            writer,
        });
        Ok(())
    }

    /// Runs `f` on the recording running.
    pub fn with_live<T>(&self, f: impl FnOnce(&Live) -> T) -> CmdResult<T> {
        lock(&self.live)
            .as_ref()
            .map(f)
            .ok_or_else(|| IpcError::new(ErrorCode::NotFound, "nothing is being recorded"))
    }

    /// Sets a marker now; returns where (ms).
    pub fn mark(&self, note: Option<String>) -> CmdResult<u64> {
        self.with_live(|l| {
            let at = l.recorder.status().elapsed_ms;
            l.recorder.mark(note);
            l.markers.fetch_add(1, Ordering::Relaxed);
            at
        })
    }

    /// Pauses or resumes.
    pub fn pause(&self, paused: bool) -> CmdResult<()> {
        self.with_live(|l| l.recorder.pause(paused))
    }

    /// The recording's status: (elapsed, level, paused, dropped, markers, why it stopped).
    pub fn status(&self) -> Option<(Live2, kuager_audio::Status)> {
        lock(&self.live).as_ref().map(|l| {
            (
                Live2 {
                    id: l.id.clone(),
                    record: l.record,
                    markers: l.markers.load(Ordering::Relaxed),
                    input: l.recorder.input().to_owned(),
                    failed: l.recorder.failed(),
                },
                l.recorder.status(),
            )
        })
    }

    /// Stops the recording and waits until every piece is stored; its vault id, or None when
    /// nothing was recording. The caller saves it (or, for an erase, does not).
    pub fn stop(&self) -> Option<(String, Result<(), String>)> {
        let live = lock(&self.live).take()?;
        let Live {
            recorder,
            id,
            writer,
            ..
        } = live;
        let stopped = recorder.stop().map(drop).map_err(|e| e.to_string());
        let written = writer
            .join()
            .unwrap_or_else(|_| Err("the recording's writer failed".into()));
        Some((id, stopped.and(written)))
    }

    /// Stops playing and closes the recording open for playing.
    pub fn close_player(&self) {
        lock(&self.player).take();
    }
}

/// What the page is told about a recording running, besides its sound level and time.
pub struct Live2 {
    /// The vault's id for it.
    pub id: String,
    /// Its testimony.
    pub record: vault::RecordId,
    /// Markers set.
    pub markers: u32,
    /// The microphone's name.
    pub input: String,
    /// Why it stopped by itself, if it did.
    pub failed: Option<String>,
}

/// A lock while recording: stops the recording, stores and saves it, then lets the pending lock
/// apply. On a thread of its own (the main thread never waits for the vault).
pub fn save_then_lock(app: &AppHandle) {
    let state = app.state::<AppState>();
    state.audio.close_player();
    if lock(&state.audio.live).is_none() {
        return;
    }
    let app = app.clone();
    let _ = std::thread::Builder::new()
        .name("kuager-recording-save".into())
        .spawn(move || {
            let state = app.state::<AppState>();
            if let Some((id, _)) = state.audio.stop() {
                // Saved as far as it was stored; if this fails the next unlock offers it.
                let mut slot = state.slot();
                if let Some(v) = slot.as_mut() {
                    let _ = v.recording_finish(&id);
                }
            }
            state.audio.saving.store(false, Ordering::SeqCst);
            state.settle_pending_lock();
        });
}
