//! The computer's microphones and speakers (cpal), as 48 kHz mono f32: an input's samples are
//! mixed to mono and resampled in the audio callback and handed over through a bounded queue;
//! nothing is buffered anywhere else. A full queue drops samples and counts them, never blocks
//! the callback.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};
use zeroize::Zeroize;

use crate::encode::RATE;
use crate::AudioError;

/// A microphone the computer offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// What to ask for it by.
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// Whether it is the system's default.
    pub default: bool,
}

fn device_err(e: impl std::fmt::Display) -> AudioError {
    AudioError::Device(e.to_string())
}

/// The microphones the computer offers, the default first.
pub fn inputs() -> Result<Vec<Input>, AudioError> {
    let host = cpal::default_host();
    let default = host
        .default_input_device()
        .and_then(|d| d.id().ok())
        .map(|id| id.to_string());
    let mut out: Vec<Input> = host
        .input_devices()
        .map_err(device_err)?
        .filter_map(|d| {
            let id = d.id().ok()?.to_string();
            let name = d
                .description()
                .map_or_else(|_| id.clone(), |x| x.to_string());
            Some(Input {
                default: default.as_deref() == Some(id.as_str()),
                id,
                name,
            })
        })
        .collect();
    out.sort_by_key(|i| !i.default);
    Ok(out)
}

fn input_device(id: Option<&str>) -> Result<cpal::Device, AudioError> {
    let host = cpal::default_host();
    match id {
        None => host.default_input_device().ok_or_else(|| {
            AudioError::Device("this computer has no microphone: connect one and try again".into())
        }),
        Some(id) => {
            let want = id.to_owned();
            host.input_devices()
                .map_err(device_err)?
                .find(|d| d.id().is_ok_and(|x| x.to_string() == want))
                .ok_or_else(|| {
                    AudioError::Device(format!(
                        "the microphone {want:?} is not connected: choose another one"
                    ))
                })
        }
    }
}

/// What the callback shares with the recorder.
pub(crate) struct Meter {
    /// Loudest sample of the last callback, as f32 bits.
    pub level: AtomicU32,
    /// Samples dropped because the recorder fell behind.
    pub dropped: AtomicU64,
    /// The stream reported an error (the microphone was unplugged).
    pub failed: std::sync::atomic::AtomicBool,
}

/// A linear resampler to 48 kHz (most inputs already are; this covers 44.1 kHz and the like).
struct Resample {
    step: f64,
    pos: f64,
    last: f32,
}

impl Resample {
    fn run(&mut self, mono: &[f32], out: &mut Vec<f32>) {
        if (self.step - 1.0).abs() < f64::EPSILON {
            out.extend_from_slice(mono);
            return;
        }
        // `pos` runs over [-1, len): -1 is the last sample of the previous block.
        let at = |i: isize| if i < 0 { self.last } else { mono[i as usize] };
        while self.pos < mono.len() as f64 - 1.0 {
            let i = self.pos.floor();
            let f = (self.pos - i) as f32;
            let i = i as isize;
            out.push(at(i) * (1.0 - f) + at(i + 1) * f);
            self.pos += self.step;
        }
        self.pos -= mono.len() as f64;
        if let Some(&l) = mono.last() {
            self.last = l;
        }
    }
}

/// Opens `id` (or the default input) and starts it: 48 kHz mono blocks go to `tx`. Returns the
/// stream (dropping it stops the microphone) and the input's name.
pub(crate) fn open_input(
    id: Option<&str>,
    tx: SyncSender<Vec<f32>>,
    meter: Arc<Meter>,
) -> Result<(cpal::Stream, String), AudioError> {
    let device = input_device(id)?;
    let name = device
        .description()
        .map_or_else(|_| id.unwrap_or("default").to_owned(), |d| d.to_string());
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map_err(device_err)?
        .collect();
    let config = ranges
        .iter()
        .filter(|r| r.channels() <= 2)
        .filter_map(|r| r.try_with_sample_rate(RATE))
        .min_by_key(|c| format_rank(c.sample_format()))
        .filter(|c| format_rank(c.sample_format()) < 4)
        .map_or_else(|| device.default_input_config().map_err(device_err), Ok)?;
    let rate = config.sample_rate();
    let channels = usize::from(config.channels()).max(1);
    let format = config.sample_format();
    let buffer = small_buffer(config.buffer_size(), rate);
    let mut cfg: cpal::StreamConfig = config.into();
    cfg.buffer_size = buffer;
    let resample = Resample {
        step: f64::from(rate) / f64::from(RATE),
        pos: 0.0,
        last: 0.0,
    };
    let stream = match format {
        SampleFormat::F32 => build::<f32>(&device, &cfg, channels, resample, tx, meter),
        SampleFormat::I16 => build::<i16>(&device, &cfg, channels, resample, tx, meter),
        SampleFormat::I32 => build::<i32>(&device, &cfg, channels, resample, tx, meter),
        SampleFormat::U16 => build::<u16>(&device, &cfg, channels, resample, tx, meter),
        other => Err(AudioError::Device(format!(
            "the microphone gives samples as {other}, which Kuager cannot read"
        ))),
    }?;
    stream.play().map_err(device_err)?;
    Ok((stream, name))
}

/// About 10 ms a callback where the device allows it: the level meter moves smoothly and a
/// marker lands where it was set (the host's default may hand over a second at a time).
pub(crate) fn small_buffer(range: &cpal::SupportedBufferSize, rate: u32) -> cpal::BufferSize {
    let want = rate / 100;
    match range {
        cpal::SupportedBufferSize::Range { min, max } if min <= max => {
            cpal::BufferSize::Fixed(want.clamp(*min, *max))
        }
        _ => cpal::BufferSize::Default,
    }
}

/// Sample formats Kuager reads, best first (4: one it does not).
pub(crate) fn format_rank(f: SampleFormat) -> u8 {
    match f {
        SampleFormat::F32 => 0,
        SampleFormat::I16 => 1,
        SampleFormat::I32 => 2,
        SampleFormat::U16 => 3,
        _ => 4,
    }
}

fn build<T: SizedSample>(
    device: &cpal::Device,
    cfg: &cpal::StreamConfig,
    channels: usize,
    mut resample: Resample,
    tx: SyncSender<Vec<f32>>,
    meter: Arc<Meter>,
) -> Result<cpal::Stream, AudioError>
where
    f32: FromSample<T>,
{
    let mut mono = Vec::new();
    let failed = meter.clone();
    device
        .build_input_stream::<T, _, _>(
            *cfg,
            move |data: &[T], _| {
                mono.clear();
                mono.extend(data.chunks(channels).map(|frame| {
                    frame.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() / channels as f32
                }));
                let peak = mono.iter().fold(0f32, |m, s| m.max(s.abs()));
                meter.level.store(peak.to_bits(), Ordering::Relaxed);
                let mut out = Vec::with_capacity(mono.len() + 8);
                resample.run(&mono, &mut out);
                mono.iter_mut().for_each(|s| *s = 0.0);
                let n = out.len() as u64;
                if let Err(
                    std::sync::mpsc::TrySendError::Full(mut v)
                    | std::sync::mpsc::TrySendError::Disconnected(mut v),
                ) = tx.try_send(out)
                {
                    v.zeroize();
                    meter.dropped.fetch_add(n, Ordering::Relaxed);
                }
            },
            move |e| {
                // An overrun, a device change or no real-time priority pass; the rest mean the
                // microphone is gone.
                if !matches!(
                    e.kind(),
                    cpal::ErrorKind::Xrun
                        | cpal::ErrorKind::DeviceChanged
                        | cpal::ErrorKind::RealtimeDenied
                ) {
                    failed.failed.store(true, Ordering::Relaxed);
                }
            },
            None,
        )
        .map_err(device_err)
}
