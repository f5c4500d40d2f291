//! The app's recorder and player (kuager-audio): one recording at a time, its pieces stored in
//! the vault by a writer thread as they come (`Vault::recording_append`), and one recording
//! open for playing. The page only asks and reads status: no audio crosses the IPC boundary.
//!
//! A lock (Ctrl+Shift+L, suspend, the session locking) stops the recording and saves it before
//! the vault locks: while a recording runs, a pending lock waits for its writer
//! ([`Audio::saving`], `AppState::settle_lock`). A recording that is running — not paused, and
//! its microphone still giving sound — is activity: the idle timer does not stop an interview
//! in which nobody touches the keyboard (docs/design-notes.md "Recordings").

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
    /// A recording is being started (the vault and the microphone are asked without holding
    /// [`Audio::live`], which a lock takes).
    starting: AtomicBool,
    /// The recorded time the idle timer saw last: a recording counts as activity only while it
    /// moves.
    last_elapsed: std::sync::atomic::AtomicU64,
}

/// The most markers one recording takes.
pub const MAX_MARKERS: u32 = vault::model::MAX_MARKERS as u32;

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
        let mut slot = state.recording_slot();
        let v = slot.as_mut().ok_or("the vault is gone")?;
        v.recording_append(id, &p.bytes, p.end_ms, &marks)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Audio {
    /// Starts recording for `record` from `input` (None: the system's default microphone).
    /// Neither the vault nor the microphone is waited for while holding [`Audio::live`]: a lock
    /// asked meanwhile is never held up, and stops the new recording as soon as it exists.
    pub fn start(
        &self,
        app: &AppHandle,
        record: vault::RecordId,
        input: Option<String>,
    ) -> CmdResult<()> {
        let busy = || {
            IpcError::new(
                ErrorCode::Busy,
                "a recording is already running: stop it first",
            )
        };
        if lock(&self.live).is_some() || self.starting.swap(true, Ordering::SeqCst) {
            return Err(busy());
        }
        let result = self.start_now(app, record, input);
        self.starting.store(false, Ordering::SeqCst);
        result
    }

    fn start_now(
        &self,
        app: &AppHandle,
        record: vault::RecordId,
        input: Option<String>,
    ) -> CmdResult<()> {
        let state = app.state::<AppState>();
        let locks = state.locks();
        let (tx, rx) = mpsc::channel();
        let recorder = Recorder::start(Source::Input(input), tx).map_err(audio_err)?;
        // The vault next (a purged or unknown testimony is refused; the pieces the recorder
        // sends meanwhile wait in the channel).
        let id = state.with_vault(|v| v.recording_begin(record, Some(recorder.input())))?;
        let guard = Saving::new(self);
        let (handle, wid) = (app.clone(), id.clone());
        let writer = std::thread::Builder::new()
            .name("kuager-recording".into())
            .spawn(move || write_pieces(&handle, &wid, &rx))
            .map_err(|_| IpcError::new(ErrorCode::Io, "the recording could not start"))?;
        guard.keep();
        *lock(&self.live) = Some(Live {
            recorder,
            id,
            record,
            markers: Arc::new(AtomicU32::new(0)),
            writer,
        });
        self.last_elapsed.store(0, Ordering::SeqCst);
        if state.locks() != locks || state.lock_is_pending() {
            // A lock came while the microphone opened: it stops this recording too.
            save_then_lock(app);
        }
        Ok(())
    }

    /// Whether a recording is running and moving (not paused, its microphone giving sound
    /// since the last time this was asked): the idle timer's question.
    pub fn is_recording_now(&self) -> bool {
        let Ok(live) = self.live.try_lock() else {
            return true;
        };
        let Some(l) = live.as_ref() else {
            return false;
        };
        let st = l.recorder.status();
        let before = self.last_elapsed.swap(st.elapsed_ms, Ordering::SeqCst);
        !st.paused && l.recorder.failed().is_none() && st.elapsed_ms > before
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
            if l.markers.load(Ordering::Relaxed) >= MAX_MARKERS {
                return Err(IpcError::new(
                    ErrorCode::Invalid,
                    format!("a recording takes at most {MAX_MARKERS} markers"),
                ));
            }
            let at = l.recorder.status().elapsed_ms;
            l.recorder.mark(note);
            l.markers.fetch_add(1, Ordering::Relaxed);
            Ok(at)
        })?
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

    /// Stops the recording, stores what is left and saves it as an attachment. Whoever stops
    /// the recording clears [`Audio::saving`] (only they: a second caller finds nothing and
    /// returns None) and then applies a lock asked for meanwhile. The writer's result, and the
    /// save's.
    pub fn stop_and_save(
        &self,
        state: &AppState,
    ) -> Option<(Result<(), String>, vault::Result<vault::Saved>)> {
        let (id, written) = self.stop()?;
        let saved = {
            // Cleared however this ends (a panic too): a lock never waits for it forever.
            let _saving = Saving::held(self);
            let mut slot = state.recording_slot();
            match slot.as_mut() {
                // Saved as far as it was stored; if this fails the next unlock offers it.
                Some(v) => v.recording_finish(&id),
                None => Err(vault::Error::Locked),
            }
        };
        if state.lock_is_pending() {
            state.settle_pending_lock();
        }
        Some((written, saved))
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
    let handle = app.clone();
    let spawned = std::thread::Builder::new()
        .name("kuager-recording-save".into())
        .spawn(move || {
            let state = handle.state::<AppState>();
            // Nothing to save if the recording was stopped meanwhile (its stopper saves it and
            // applies the lock); the lock applies in any case.
            if state.audio.stop_and_save(&state).is_none() {
                state.settle_pending_lock();
            }
        });
    if spawned.is_err() {
        // No thread for the save: the pieces stored are kept (the next unlock offers them)
        // and the lock applies now.
        if state.audio.stop().is_some() {
            state.audio.saving.store(false, Ordering::SeqCst);
        }
    }
}

/// Sets [`Audio::saving`] and clears it when dropped, unless kept for the recording's life.
struct Saving<'a> {
    audio: &'a Audio,
    keep: bool,
}

impl<'a> Saving<'a> {
    fn new(audio: &'a Audio) -> Self {
        audio.saving.store(true, Ordering::SeqCst);
        Saving { audio, keep: false }
    }

    /// For a save under way: clears the flag when it ends.
    fn held(audio: &'a Audio) -> Self {
        Saving { audio, keep: false }
    }

    fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Saving<'_> {
    fn drop(&mut self) {
        if !self.keep {
            self.audio.saving.store(false, Ordering::SeqCst);
        }
    }
}
