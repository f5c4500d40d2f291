//! A recording played from memory to the speakers (cpal): decoded a page at a time on one
//! thread, time-stretched for slower or faster playback, and handed to the audio callback
//! through a short queue. Nothing is written anywhere and no media element of the webview is
//! involved (docs/threat-model.md, issue #10 item 1). The page asks for play, pause, seek and
//! rate, and reads the position.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use zeroize::{Zeroize, Zeroizing};

use crate::decode::OpusFile;
use crate::encode::RATE;
use crate::stretch::Stretch;
use crate::AudioError;

/// Output queued ahead of the speakers (a quarter of a second).
const AHEAD: usize = RATE as usize / 4;
/// The samples of the longest ordinary page (2 s of stereo): the buffers it passes through are
/// sized for it once.
const PAGE_SAMPLES: usize = RATE as usize * 2 * 2;

/// What the player shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlayStatus {
    /// Where the speakers are, in ms.
    pub position_ms: u64,
    /// The recording's length, in ms.
    pub duration_ms: u64,
    /// Whether it is playing.
    pub playing: bool,
    /// Playback rate (1.0: as recorded).
    pub rate: f64,
    /// From the last seek asked to its first sound handed to the speakers, in ms (`None` while
    /// a seek is on its way).
    pub last_seek_ms: Option<u64>,
}

struct Queue {
    samples: VecDeque<f32>,
    /// Source sample just after the last one queued.
    src_end: u64,
    /// Source samples per output sample of what is queued.
    rate: f64,
}

struct Shared {
    queue: Mutex<Queue>,
    playing: AtomicBool,
    closed: AtomicBool,
    /// A seek asked for: (target sample, when asked).
    seek: Mutex<Option<(u64, Instant)>>,
    /// A seek done, waiting for its first sound: when it was asked.
    seek_pending: Mutex<Option<Instant>>,
    last_seek_us: AtomicU64,
    rate_bits: AtomicU64,
    position: AtomicU64,
    total: u64,
    /// The decoder reached the end of what can be played (the end, or a damaged rest).
    done: AtomicBool,
}

/// A recording open for playing.
pub struct Player {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Player {
    /// Opens `recording` (Ogg Opus, decrypted in memory) on the default speakers, paused at
    /// the start.
    pub fn open(recording: Zeroizing<Vec<u8>>) -> Result<Player, AudioError> {
        let file = OpusFile::parse(recording)?;
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue {
                samples: VecDeque::with_capacity(AHEAD + PAGE_SAMPLES * 2),
                src_end: 0,
                rate: 1.0,
            }),
            playing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            seek: Mutex::new(Some((0, Instant::now()))),
            seek_pending: Mutex::new(None),
            last_seek_us: AtomicU64::new(u64::MAX),
            rate_bits: AtomicU64::new(1.0f64.to_bits()),
            position: AtomicU64::new(0),
            total: file.samples(),
            done: AtomicBool::new(false),
        });
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sh = shared.clone();
        let output = std::thread::Builder::new()
            .name("kuager-speakers".into())
            .spawn(move || match open_output(sh.clone()) {
                Ok(stream) => {
                    let _ = ready_tx.send(Ok(()));
                    while !sh.closed.load(Ordering::Relaxed) {
                        std::thread::park_timeout(Duration::from_millis(200));
                    }
                    drop(stream);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                }
            })
            .map_err(|e| AudioError::Device(e.to_string()))?;
        ready_rx
            .recv()
            .map_err(|_| AudioError::Device("the speakers could not be opened".into()))??;
        let sh = shared.clone();
        let decode = std::thread::Builder::new()
            .name("kuager-player".into())
            .spawn(move || decode_loop(&file, &sh))
            .map_err(|e| AudioError::Device(e.to_string()))?;
        Ok(Player {
            shared,
            threads: vec![output, decode],
        })
    }

    /// Plays from where it is.
    pub fn play(&self) {
        if self.shared.position.load(Ordering::Relaxed) >= self.shared.total {
            self.seek_ms(0);
        }
        self.shared.playing.store(true, Ordering::Relaxed);
    }

    /// Pauses.
    pub fn pause(&self) {
        self.shared.playing.store(false, Ordering::Relaxed);
    }

    /// Goes to `ms` from the start.
    pub fn seek_ms(&self, ms: u64) {
        let at = ms
            .saturating_mul(u64::from(RATE / 1000))
            .min(self.shared.total);
        self.shared.position.store(at, Ordering::Relaxed);
        self.shared.last_seek_us.store(u64::MAX, Ordering::Relaxed);
        *lock(&self.shared.seek) = Some((at, Instant::now()));
    }

    /// Plays at `rate` (0.5 to 2.0) from where it is.
    pub fn set_rate(&self, rate: f64) {
        let rate = if rate.is_finite() {
            rate.clamp(0.5, 2.0)
        } else {
            1.0
        };
        self.shared
            .rate_bits
            .store(rate.to_bits(), Ordering::Relaxed);
        let at = self.shared.position.load(Ordering::Relaxed);
        *lock(&self.shared.seek) = Some((at, Instant::now()));
    }

    /// What it shows now.
    pub fn status(&self) -> PlayStatus {
        let us = self.shared.last_seek_us.load(Ordering::Relaxed);
        PlayStatus {
            position_ms: self.shared.position.load(Ordering::Relaxed) / u64::from(RATE / 1000),
            duration_ms: self.shared.total / u64::from(RATE / 1000),
            playing: self.shared.playing.load(Ordering::Relaxed),
            rate: f64::from_bits(self.shared.rate_bits.load(Ordering::Relaxed)),
            last_seek_ms: (us != u64::MAX).then_some(us / 1000),
        }
    }
}

impl Drop for Player {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.thread().unpark();
            let _ = t.join();
        }
        let mut q = lock(&self.shared.queue);
        q.samples.iter_mut().for_each(|s| *s = 0.0);
        q.samples.clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn decode_loop(file: &OpusFile, sh: &Shared) {
    let mut reader = None;
    let mut stretch = Stretch::new(1.0);
    // Sized once for pages of up to 2 s of stereo (Kuager writes 1 s of mono): buffers that
    // grow leave unwiped copies of the sound they held in freed memory.
    let mut pcm = Vec::with_capacity(PAGE_SAMPLES);
    let mut out = Vec::with_capacity(PAGE_SAMPLES * 2);
    while !sh.closed.load(Ordering::Relaxed) {
        if let Some((at, asked)) = lock(&sh.seek).take() {
            let rate = f64::from_bits(sh.rate_bits.load(Ordering::Relaxed));
            stretch = Stretch::new(rate);
            reader = file.reader_at(at).ok();
            sh.done.store(reader.is_none(), Ordering::Relaxed);
            let mut q = lock(&sh.queue);
            q.samples.iter_mut().for_each(|s| *s = 0.0);
            q.samples.clear();
            q.src_end = at;
            q.rate = rate;
            *lock(&sh.seek_pending) = Some(asked);
        }
        let queued = lock(&sh.queue).samples.len();
        let Some(r) = reader.as_mut().filter(|_| queued < AHEAD) else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        pcm.clear();
        match r.next_page(&mut pcm) {
            Ok(true) => {}
            _ => {
                reader = None;
                sh.done.store(true, Ordering::Relaxed);
                continue;
            }
        }
        out.clear();
        stretch.process(&pcm, &mut out);
        let mut q = lock(&sh.queue);
        q.samples.extend(out.iter().copied());
        q.src_end += pcm.len() as u64;
        pcm.zeroize();
        out.zeroize();
    }
}

fn open_output(sh: Arc<Shared>) -> Result<cpal::Stream, AudioError> {
    let err = |e: &dyn std::fmt::Display| AudioError::Device(e.to_string());
    let device = cpal::default_host()
        .default_output_device()
        .ok_or_else(|| AudioError::Device("this computer has no speakers or headphones".into()))?;
    let ranges: Vec<_> = device
        .supported_output_configs()
        .map_err(|e| err(&e))?
        .collect();
    let config = ranges
        .iter()
        .filter_map(|r| r.try_with_sample_rate(RATE))
        .min_by_key(|c| crate::device::format_rank(c.sample_format()))
        .filter(|c| crate::device::format_rank(c.sample_format()) < 3)
        .map_or_else(|| device.default_output_config().map_err(|e| err(&e)), Ok)?;
    let channels = usize::from(config.channels()).max(1);
    if config.sample_rate() == 0 {
        return Err(AudioError::Device(
            "the speakers report no sample rate".into(),
        ));
    }
    let step = f64::from(RATE) / f64::from(config.sample_rate());
    let format = config.sample_format();
    let buffer = crate::device::small_buffer(config.buffer_size(), config.sample_rate());
    let mut cfg: cpal::StreamConfig = config.into();
    cfg.buffer_size = buffer;
    let stream = match format {
        SampleFormat::F32 => build::<f32>(&device, &cfg, channels, step, sh),
        SampleFormat::I16 => build::<i16>(&device, &cfg, channels, step, sh),
        SampleFormat::I32 => build::<i32>(&device, &cfg, channels, step, sh),
        other => Err(AudioError::Device(format!(
            "the speakers take samples as {other}, which Kuager cannot give"
        ))),
    }?;
    stream.play().map_err(|e| err(&e))?;
    Ok(stream)
}

fn build<T: SizedSample + FromSample<f32>>(
    device: &cpal::Device,
    cfg: &cpal::StreamConfig,
    channels: usize,
    step: f64,
    sh: Arc<Shared>,
) -> Result<cpal::Stream, AudioError> {
    let mut frac = 0.0f64;
    device
        .build_output_stream::<T, _, _>(
            *cfg,
            move |data: &mut [T], _| {
                let silence = T::from_sample(0.0f32);
                if !sh.playing.load(Ordering::Relaxed) {
                    data.fill(silence);
                    return;
                }
                let mut q = lock(&sh.queue);
                let had = !q.samples.is_empty();
                for frame in data.chunks_mut(channels) {
                    let s = q.samples.front().copied();
                    frac += step;
                    while frac >= 1.0 {
                        frac -= 1.0;
                        q.samples.pop_front();
                    }
                    frame.fill(s.map_or(silence, T::from_sample));
                }
                let pos = q.src_end as f64 - q.samples.len() as f64 * q.rate;
                let pos = (pos.max(0.0) as u64).min(sh.total);
                drop(q);
                sh.position.store(pos, Ordering::Relaxed);
                if had {
                    if let Some(asked) = lock(&sh.seek_pending).take() {
                        let us = u64::try_from(asked.elapsed().as_micros()).unwrap_or(u64::MAX);
                        sh.last_seek_us.store(us, Ordering::Relaxed);
                    }
                } else if pos >= sh.total || sh.done.load(Ordering::Relaxed) {
                    sh.playing.store(false, Ordering::Relaxed);
                }
            },
            |_| {},
            None,
        )
        .map_err(|e| AudioError::Device(e.to_string()))
}
