//! A sound card for tests: a PulseAudio server of the test's own whose default microphone is
//! the monitor of a null sink, so whatever a test plays into the sink (`paplay`) is what a
//! program recording from the default input hears, in real time. Speech comes from espeak-ng.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::driver::Proc;

/// The null sink standing in for the room the microphone hears.
pub const ROOM: &str = "kuager_room";

/// A running sound server.
pub struct Sound {
    _server: Proc,
    dir: PathBuf,
    socket: PathBuf,
}

impl Sound {
    /// Starts one with its files under `dir`.
    pub fn start(dir: &Path) -> Sound {
        let dir = dir.to_owned();
        std::fs::create_dir_all(dir.join("home")).unwrap();
        std::fs::create_dir_all(dir.join("run")).unwrap();
        let socket = dir.join("run/native");
        let mut c = Command::new("pulseaudio");
        own_env(&dir, &mut c)
            .args([
                "-n",
                "--daemonize=no",
                "--exit-idle-time=-1",
                "--use-pid-file=no",
                "--disallow-exit",
                &format!("--load=module-null-sink sink_name={ROOM}"),
            ])
            .arg(format!(
                "--load=module-native-protocol-unix socket={}",
                socket.display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = Proc(
            c.spawn()
                .expect("pulseaudio is installed by packaging/linux/deps.sh"),
        );
        let s = Sound {
            _server: server,
            dir,
            socket,
        };
        let t = Instant::now();
        while !s.pactl(&["info"]) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "pulseaudio did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(s.pactl(&["set-default-source", &format!("{ROOM}.monitor")]));
        s
    }

    fn pactl(&self, args: &[&str]) -> bool {
        let mut c = Command::new("pactl");
        self.apply(own_env(&self.dir, &mut c))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The server's address, for `PULSE_SERVER`.
    pub fn server(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// `c` talking to this server (for a program that records or plays).
    pub fn apply<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        c.env("PULSE_SERVER", self.server())
    }

    /// Records what the room's monitor hears into `raw` (16 kHz mono s16le) until dropped.
    pub fn listen(&self, raw: &Path) -> Proc {
        let mut c = Command::new("parecord");
        Proc(
            self.apply(own_env(&self.dir, &mut c))
                .args(["--raw", "--format=s16le", "--channels=1", "--rate=16000"])
                .arg(format!("--device={ROOM}.monitor"))
                .arg(raw)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("parecord is installed by packaging/linux/deps.sh"),
        )
    }

    /// Starts playing `wav` into the room.
    pub fn play(&self, wav: &Path) -> Child {
        let mut c = Command::new("paplay");
        self.apply(own_env(&self.dir, &mut c))
            .arg(format!("--device={ROOM}"))
            .arg(wav)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("paplay is installed by packaging/linux/deps.sh")
    }
}

/// The sound server's and player's own `$HOME` and runtime folder: they stand for the room and
/// the sound card, not for anything Kuager started, so leak scans of Kuager's folders leave
/// them out.
fn own_env<'c>(dir: &Path, c: &'c mut Command) -> &'c mut Command {
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.join("home"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
}

/// `text` spoken by espeak-ng into a WAV file at `wav`; its length in seconds.
pub fn speech(wav: &Path, text: &str) -> f64 {
    let ok = Command::new("espeak-ng")
        .arg("-w")
        .arg(wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed by packaging/linux/deps.sh");
    assert!(ok.success());
    let o = Command::new("soxi")
        .arg("-D")
        .arg(wav)
        .output()
        .expect("sox is installed by packaging/linux/deps.sh");
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
}

/// The samples of an audio file (anything sox reads: WAV, or what opusdec wrote), as 8 kHz
/// mono f32: enough to compare speech by its loudness over time.
pub fn samples_8k(file: &Path) -> Vec<f32> {
    let raw = file.with_extension("f32");
    let ok = Command::new("sox")
        .arg(file)
        .args([
            "-r",
            "8000",
            "-c",
            "1",
            "-e",
            "floating-point",
            "-b",
            "32",
            "-t",
            "raw",
        ])
        .arg(&raw)
        .status()
        .unwrap();
    assert!(ok.success(), "sox read {}", file.display());
    let out = std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let _ = std::fs::remove_file(raw);
    out
}

/// Loudness per 10 ms (RMS of 80 samples at 8 kHz).
pub fn envelope(s: &[f32]) -> Vec<f32> {
    s.chunks(80)
        .map(|c| (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

/// Where `needle` (an envelope) best lines up inside `hay` (another): (offset in 10 ms steps,
/// Pearson correlation there).
pub fn best_offset(hay: &[f32], needle: &[f32]) -> (usize, f64) {
    let mut best = (0, f64::MIN);
    if hay.len() < needle.len() {
        return best;
    }
    let n = needle.len() as f64;
    let mb = needle.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
    for off in 0..=hay.len() - needle.len() {
        let a = &hay[off..off + needle.len()];
        let ma = a.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for (x, y) in a.iter().zip(needle) {
            let (x, y) = (f64::from(*x) - ma, f64::from(*y) - mb);
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        let r = ab / (aa * bb).sqrt().max(1e-12);
        if r > best.1 {
            best = (off, r);
        }
    }
    best
}
