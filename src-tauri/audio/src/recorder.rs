//! A recording in progress: the microphone (or any source of samples) to Ogg Opus pieces, on a
//! thread of its own. Every [`PIECE_MS`] the whole pages written so far go out as a [`Piece`]
//! with the markers set during them; whoever receives them stores each before the next (the
//! vault's `recording_append`). Pausing drops what the microphone hears until it resumes;
//! stopping ends the stream and sends the last piece.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use zeroize::{Zeroize, Zeroizing};

use crate::device::{self, Meter};
use crate::encode::{Encoder, RATE};
use crate::AudioError;

/// How much audio a piece holds (what a crash may lose at most, plus the piece being written).
pub const PIECE_MS: u64 = 2_000;
/// Blocks of samples waiting between the microphone and the encoder (about 5 s at 10 ms each).
const QUEUE: usize = 500;

/// A few seconds of a recording: whole Ogg pages.
pub struct Piece {
    /// The pages (plaintext: wiped when dropped).
    pub bytes: Zeroizing<Vec<u8>>,
    /// Milliseconds of recording by the end of this piece.
    pub end_ms: u64,
    /// Markers set during it: (ms from the start, note).
    pub markers: Vec<(u64, Option<String>)>,
    /// Whether this is the last piece.
    pub last: bool,
}

/// Where the samples come from.
pub enum Source {
    /// A microphone (`None`: the system's default).
    Input(Option<String>),
    /// Blocks of 48 kHz mono samples, as fast as they come (a file fed in, a test).
    Samples(Box<dyn Iterator<Item = Vec<f32>> + Send>),
}

/// What a recording shows while it runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Status {
    /// Loudest sample lately, 0.0 to 1.0.
    pub level: f32,
    /// Milliseconds recorded (pauses not counted).
    pub elapsed_ms: u64,
    /// Whether it is paused.
    pub paused: bool,
    /// Milliseconds the microphone gave that could not be kept (the computer was too busy).
    pub dropped_ms: u64,
}

enum Cmd {
    Pause(bool),
    Mark(Option<String>),
    Stop,
}

struct Shared {
    meter: Arc<Meter>,
    elapsed_ms: AtomicU64,
    paused: AtomicBool,
}

/// A recording running on its own thread.
pub struct Recorder {
    cmd: Sender<Cmd>,
    shared: Arc<Shared>,
    input: String,
    thread: Option<JoinHandle<Result<u64, AudioError>>>,
    error: Arc<Mutex<Option<String>>>,
}

impl Recorder {
    /// Starts recording from `source`; pieces go to `pieces`. Fails at once if the microphone
    /// cannot be opened.
    pub fn start(source: Source, pieces: Sender<Piece>) -> Result<Recorder, AudioError> {
        let meter = Arc::new(Meter {
            level: AtomicU32::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicBool::new(false),
        });
        let shared = Arc::new(Shared {
            meter: meter.clone(),
            elapsed_ms: AtomicU64::new(0),
            paused: AtomicBool::new(false),
        });
        let (cmd_tx, cmd_rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<String, AudioError>>();
        let error = Arc::new(Mutex::new(None));
        let (sh, err) = (shared.clone(), error.clone());
        let thread = std::thread::Builder::new()
            .name("kuager-recorder".into())
            .spawn(move || {
                let r = run(source, &sh, &cmd_rx, &pieces, &ready_tx);
                if let Err(e) = &r {
                    *err.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    let _ = ready_tx.send(Err(e.clone()));
                }
                r
            })
            .map_err(|e| AudioError::Device(e.to_string()))?;
        let input = ready_rx
            .recv()
            .map_err(|_| AudioError::Device("the recorder stopped".into()))??;
        Ok(Recorder {
            cmd: cmd_tx,
            shared,
            input,
            thread: Some(thread),
            error,
        })
    }

    /// The input's name.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Pauses (`true`) or resumes.
    pub fn pause(&self, paused: bool) {
        let _ = self.cmd.send(Cmd::Pause(paused));
    }

    /// Sets a marker now, with an optional note.
    pub fn mark(&self, note: Option<String>) {
        let _ = self.cmd.send(Cmd::Mark(note));
    }

    /// What it shows now.
    pub fn status(&self) -> Status {
        Status {
            level: f32::from_bits(self.shared.meter.level.load(Ordering::Relaxed)),
            elapsed_ms: self.shared.elapsed_ms.load(Ordering::Relaxed),
            paused: self.shared.paused.load(Ordering::Relaxed),
            dropped_ms: self.shared.meter.dropped.load(Ordering::Relaxed) * 1000 / u64::from(RATE),
        }
    }

    /// Why it stopped by itself (the microphone was unplugged), if it did.
    pub fn failed(&self) -> Option<String> {
        if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
            return self.error.lock().unwrap_or_else(|p| p.into_inner()).clone();
        }
        None
    }

    /// Whether it has ended (stopped, or its source ran out or failed).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops: the last piece is sent before this returns. Returns the recording's length (ms).
    pub fn stop(mut self) -> Result<u64, AudioError> {
        let _ = self.cmd.send(Cmd::Stop);
        self.thread
            .take()
            .expect("joined once")
            .join()
            .map_err(|_| AudioError::Device("the recorder failed".into()))?
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            let _ = self.cmd.send(Cmd::Stop);
            let _ = t.join();
        }
    }
}

fn run(
    source: Source,
    shared: &Shared,
    cmds: &Receiver<Cmd>,
    pieces: &Sender<Piece>,
    ready: &Sender<Result<String, AudioError>>,
) -> Result<u64, AudioError> {
    let mut enc = Encoder::new(serial())?;
    let mut markers = Vec::new();
    let mut paused = false;
    let mut last_piece = 0u64;
    let send = |enc: &mut Encoder, markers: &mut Vec<_>, last: bool| -> Result<(), AudioError> {
        if let Some((bytes, end_ms)) = enc.take() {
            pieces
                .send(Piece {
                    bytes,
                    end_ms,
                    markers: std::mem::take(markers),
                    last,
                })
                .map_err(|_| AudioError::Device("nobody is keeping the recording".into()))?;
        }
        Ok(())
    };
    let (_stream, mut samples): (Option<cpal::Stream>, Box<dyn FnMut() -> Next>) = match source {
        Source::Input(id) => {
            let (tx, rx) = mpsc::sync_channel(QUEUE);
            let (stream, name) = device::open_input(id.as_deref(), tx, shared.meter.clone())?;
            let _ = ready.send(Ok(name));
            let meter = shared.meter.clone();
            let next = move || match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(b) => Next::Block(b),
                Err(RecvTimeoutError::Timeout) if meter.failed.load(Ordering::Relaxed) => {
                    Next::Failed
                }
                Err(RecvTimeoutError::Timeout) => Next::Nothing,
                Err(RecvTimeoutError::Disconnected) => Next::Failed,
            };
            (Some(stream), Box::new(next))
        }
        Source::Samples(mut it) => {
            let _ = ready.send(Ok("samples".into()));
            (
                None,
                Box::new(move || it.next().map_or(Next::End, Next::Block)),
            )
        }
    };
    let stopped = loop {
        let mut stop = false;
        while let Ok(c) = cmds.try_recv() {
            match c {
                Cmd::Pause(p) => {
                    paused = p;
                    shared.paused.store(p, Ordering::Relaxed);
                }
                Cmd::Mark(note) => markers.push((enc.received_ms(), note)),
                Cmd::Stop => stop = true,
            }
        }
        if stop {
            break Ok(());
        }
        match samples() {
            Next::Block(mut b) => {
                if !paused {
                    enc.push(&b)?;
                    shared
                        .elapsed_ms
                        .store(enc.received_ms(), Ordering::Relaxed);
                }
                b.zeroize();
            }
            Next::Nothing => {}
            Next::End => break Ok(()),
            Next::Failed => {
                break Err(AudioError::Device(
                    "the microphone stopped (was it unplugged?): what was recorded is kept".into(),
                ))
            }
        }
        if enc.encoded_ms() >= last_piece + PIECE_MS {
            last_piece = enc.encoded_ms();
            send(&mut enc, &mut markers, false)?;
        }
    };
    let (bytes, end_ms) = enc.finish()?;
    pieces
        .send(Piece {
            bytes,
            end_ms,
            markers,
            last: true,
        })
        .map_err(|_| AudioError::Device("nobody is keeping the recording".into()))?;
    stopped.map(|()| end_ms)
}

enum Next {
    Block(Vec<f32>),
    Nothing,
    End,
    Failed,
}

/// A stream serial number: any value will do; the clock's nanoseconds make two recordings
/// differ.
fn serial() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.subsec_nanos() ^ (d.as_secs() as u32))
}
