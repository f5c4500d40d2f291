//! Recordings (issue #14):
//!
//! - **recording an hour**: an hour of speech (espeak-ng's, on a loop) through the recorder into
//!   a real vault, every 2 s piece encrypted and stored as in the app; CPU time per hour of audio
//!   (the share of one core it takes in real time), RSS growth (VmHWM at the end over VmRSS at
//!   the start), and the encrypted size against `opusenc --bitrate 24` (opus-tools) of the same
//!   samples;
//! - **seek in two hours**: a two-hour recording open in the player on a PulseAudio null sink of
//!   the benchmark's own, 21 seeks to random points: from the seek asked to its first samples
//!   handed to the speakers, plus the output buffer (10 ms).
//!
//! The hour runs faster than real time: what it costs is per sample, not per second.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use kuager_audio::{Player, Recorder, Source, RATE};
use kuager_bench::open_or_create;

use super::{median, p95, Row, PASS};

fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0)
}

/// CPU time of this process so far (user and system, from /proc/self/stat, in clock ticks of
/// 1/100 s).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// espeak-ng's speech at 48 kHz mono, about 25 s of it.
fn speech(dir: &Path) -> anyhow::Result<Vec<f32>> {
    let wav = dir.join("speech.wav");
    let raw = dir.join("speech.f32");
    let text = "The witness was held in the camp near Ghulja from the spring of twenty eighteen. \
        Her brother has not been heard from since. The family wrote to the consulate four times \
        and received no answer. Officials still message her on WeChat and ask about her work.";
    anyhow::ensure!(
        Command::new("espeak-ng")
            .arg("-w")
            .arg(&wav)
            .arg(text)
            .status()?
            .success(),
        "espeak-ng is needed: run packaging/linux/deps.sh"
    );
    anyhow::ensure!(Command::new("sox")
        .arg(&wav)
        .args([
            "-r",
            "48000",
            "-c",
            "1",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-t",
            "raw"
        ])
        .arg(&raw)
        .status()?
        .success());
    Ok(std::fs::read(&raw)?
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// `seconds` of `speech` on a loop, in 10 ms blocks.
fn looped(speech: &[f32], seconds: usize) -> impl Iterator<Item = Vec<f32>> + Send + 'static {
    let speech = speech.to_vec();
    let total = seconds * RATE as usize;
    (0..total / 480).map(move |i| {
        let at = (i * 480) % speech.len();
        (0..480).map(|k| speech[(at + k) % speech.len()]).collect()
    })
}

/// The rows of `make bench` for recordings.
pub(crate) fn bench_all(root: &Path, quick: bool) -> anyhow::Result<Vec<Row>> {
    let seconds = if quick { 300 } else { 3_600 };
    let speech = speech(root)?;
    let mut rows = bench_hour(root, &speech, seconds)?;
    rows.extend(bench_seek(root, &speech, 2 * seconds)?);
    Ok(rows)
}

fn bench_hour(root: &Path, speech: &[f32], seconds: usize) -> anyhow::Result<Vec<Row>> {
    let mut v = open_or_create(&root.join("recording"), PASS, Some(10))?;
    let person = v
        .add(vault::Kind::Person, br#"{"names":[{"value":"Senbay"}]}"#)?
        .record;
    let t = v
        .add(
            vault::Kind::Testimony,
            format!(r#"{{"witness":"{person}","narrative":"told"}}"#).as_bytes(),
        )?
        .record;
    let rss0 = status_kib("VmRSS:");
    let cpu0 = cpu_secs();
    let wall = Instant::now();
    let id = v.recording_begin(t, Some("benchmark"))?;
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Samples(Box::new(looped(speech, seconds))), tx)?;
    let mut encrypted = 0u64;
    for p in &rx {
        v.recording_append(&id, &p.bytes, p.end_ms, &[])?;
        if p.last {
            break;
        }
    }
    rec.stop()?;
    for f in std::fs::read_dir(root.join("recording/recordings"))? {
        encrypted += f?.metadata()?.len();
    }
    let cpu = cpu_secs() - cpu0;
    let hwm = status_kib("VmHWM:");
    let took = wall.elapsed();
    v.recording_finish(&id)?;
    // The attachment it became: one age file under blobs/ (the pieces are gone).
    let mut kept = 0u64;
    let mut stack = vec![root.join("recording/blobs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                stack.push(e.path());
            } else {
                kept += e.metadata()?.len();
            }
        }
    }
    let share = cpu / seconds as f64 * 100.0;
    let growth_mib = (hwm - rss0).max(0.0) / 1024.0;

    // opusenc at the same bitrate, fed the same samples.
    let out = root.join("reference.opus");
    let mut enc = Command::new("opusenc")
        .args([
            "--quiet",
            "--raw",
            "--raw-bits",
            "16",
            "--raw-rate",
            "48000",
            "--raw-chan",
            "1",
        ])
        .args(["--bitrate", "24", "-", out.to_str().unwrap()])
        .stdin(Stdio::piped())
        .spawn()?;
    {
        let mut stdin = std::io::BufWriter::new(enc.stdin.take().unwrap());
        for block in looped(speech, seconds) {
            for s in block {
                stdin.write_all(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())?;
            }
        }
    }
    anyhow::ensure!(enc.wait()?.success(), "opusenc failed");
    let reference = std::fs::metadata(&out)?.len();
    let ratio = kept as f64 / reference as f64;
    let hours = seconds as f64 / 3600.0;
    Ok(vec![
        Row {
            what: format!("recording {hours:.2} h of speech: CPU, share of one core in real time"),
            measured: format!(
                "{share:.2} % ({cpu:.1} s CPU in {:.0} s)",
                took.as_secs_f64()
            ),
            baseline: String::new(),
            target: "≤ 10 %".into(),
            ok: share <= 10.0,
        },
        Row {
            what: format!("recording {hours:.2} h: RSS growth (peak over start)"),
            measured: format!("{growth_mib:.1} MiB"),
            baseline: String::new(),
            target: "≤ 20 MB".into(),
            ok: growth_mib <= 19.0,
        },
        Row {
            what: format!("recording {hours:.2} h: the encrypted attachment"),
            measured: format!(
                "{:.2} MB ({:+.1} %; pieces while recording {:.2} MB)",
                kept as f64 / 1e6,
                (ratio - 1.0) * 100.0,
                encrypted as f64 / 1e6
            ),
            baseline: format!("opusenc --bitrate 24: {:.2} MB", reference as f64 / 1e6),
            target: "within 5 %".into(),
            ok: (ratio - 1.0).abs() <= 0.05,
        },
    ])
}

fn bench_seek(root: &Path, speech: &[f32], seconds: usize) -> anyhow::Result<Vec<Row>> {
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Samples(Box::new(looped(speech, seconds))), tx)?;
    let mut ogg = zeroize::Zeroizing::new(Vec::new());
    for p in &rx {
        ogg.extend_from_slice(&p.bytes);
        if p.last {
            break;
        }
    }
    rec.stop()?;
    let sound = testkit::sound::Sound::start(&root.join("sound"));
    // The player opens the default speakers: this process talks to the benchmark's own server.
    std::env::set_var("PULSE_SERVER", sound.server());
    let opened = Instant::now();
    let player = Player::open(ogg)?;
    player.play();
    // The first sound after opening: the sound server starts the new stream (a PulseAudio null
    // sink takes about 2 s, like its monitor; reported apart from the seeks).
    while player.status().position_ms == 0 && opened.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    let first = opened.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let mut rng = kuager_bench::gen::Rng::new(7);
    let mut times = Vec::new();
    let total = (seconds * 1000) as u64;
    for _ in 0..21 {
        let to = rng.next_u64() % total;
        player.seek_ms(to);
        let t = Instant::now();
        // The player reports the seek once its first samples went to the speakers.
        while player.status().last_seek_ms.is_none() && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(1));
        }
        times.push(player.status().last_seek_ms.unwrap_or(5_000) as f64 + 10.0);
        std::thread::sleep(Duration::from_millis(300));
    }
    drop(player);
    let (med, p) = (median(&mut times.clone()), p95(&mut times.clone()));
    let worst = times.iter().copied().fold(0.0, f64::max);
    Ok(vec![Row {
        what: format!(
            "seek in a {:.0} h recording, asked → at the speakers + 10 ms buffer (21 random points; first sound after opening: {} ms)",
            seconds as f64 / 3600.0,
            first.as_millis()
        ),
        measured: format!("p95 {p:.0} ms (median {med:.0}, worst {worst:.0})"),
        baseline: String::new(),
        target: "≤ 200 ms".into(),
        ok: worst <= 200.0,
    }])
}
