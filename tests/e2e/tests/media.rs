//! Recordings play in the real app from memory, and none of their bytes lands on disk (issue
//! #10, item 1; docs/threat-model.md): a WAV and an Ogg/Opus file of synthetic speech
//! (`espeak-ng`, `sox`, `opusenc`) attached to a testimony, played in the app under Xvfb with a
//! PulseAudio null sink as the speakers. While each plays, sound must reach the sink (its
//! monitor recorded with `parecord` is not silent) and no copy of the encoded file may exist in
//! `/var/tmp`, `/dev/shm`, `/tmp`, the sandbox's `$HOME`, `$TMPDIR` and runtime folder, or among
//! the open files of any process the app started (WebKit's player buffers to an unlinked file in
//! `/var/tmp`, which only `/proc/<pid>/fd` shows). The same scan runs again after quitting.
//! Videos play through Media Source Extensions (issue #14) under the same scan: an MP4 from
//! `ffmpeg` as a phone writes it (H.264 with B-frames, AAC, index at the end) and a WebM as a
//! browser's recorder writes it (VP9 and Opus, sizes unknown).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use e2e::{App, Sandbox, Session, Steps};
use testkit::driver::Proc;
use testkit::leaks::{bytes_hits, open_file_hits, processes_with_home, SHARED_SCRATCH};

/// The name of the null sink standing in for the laptop's speakers.
const SINK: &str = "kuager_e2e";

/// The tests of this file take turns: each drives a real app and a sound server and times the
/// playing, and two at once on CI's two cores would time each other's load.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn my_turn() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The sandbox's environment for the sound server and the recorder, with a `$HOME` of their
/// own: they are the sound card, not processes the app started, so the open-file scan (which
/// follows the sandbox's `$HOME`) leaves them out.
fn sound_env<'c>(sb: &Sandbox, cmd: &'c mut Command) -> &'c mut Command {
    let home = sb.outside.join("sound-home");
    std::fs::create_dir_all(&home).unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", sb.dir.path().join("run"))
}

/// A PulseAudio server for the sandbox whose default sink is a null sink.
fn speakers(sb: &Sandbox) -> Proc {
    std::fs::create_dir_all(sb.dir.path().join("run")).unwrap();
    let server = sound_env(sb, &mut Command::new("pulseaudio"))
        .args([
            "-n",
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--disallow-exit",
            &format!("--load=module-null-sink sink_name={SINK}"),
            "--load=module-native-protocol-unix",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pulseaudio is installed by packaging/linux/deps.sh");
    let server = Proc(server);
    let t = Instant::now();
    while !sound_env(sb, &mut Command::new("pactl"))
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "pulseaudio did not start"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    server
}

/// Records what the speakers play, as 16 kHz mono 16-bit samples.
struct Recorder {
    proc: Proc,
    file: PathBuf,
}

impl Recorder {
    fn start(sb: &Sandbox, name: &str) -> Recorder {
        let file = sb.outside.join(format!("{name}.raw"));
        let proc = sound_env(sb, &mut Command::new("parecord"))
            .args([
                "--raw",
                "--format=s16le",
                "--channels=1",
                "--rate=16000",
                "-d",
                &format!("{SINK}.monitor"),
            ])
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("parecord is installed by packaging/linux/deps.sh");
        Recorder {
            proc: Proc(proc),
            file,
        }
    }

    /// Stops recording; the loudest sample heard.
    fn peak(self) -> i32 {
        drop(self.proc);
        let raw = std::fs::read(&self.file).unwrap_or_default();
        raw.chunks_exact(2)
            .map(|s| i32::from(i16::from_le_bytes([s[0], s[1]])).abs())
            .max()
            .unwrap_or(0)
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A WAV and an Ogg/Opus file of synthetic speech, outside the scanned folders.
fn recordings(dir: &Path) -> (PathBuf, PathBuf) {
    let spoken = dir.join("spoken.wav");
    run(
        Command::new("espeak-ng").arg("-w").arg(&spoken).arg(
            "The witness was held in the camp near Ghulja from spring twenty eighteen. \
             Her brother has not been heard from since.",
        ),
        "espeak-ng",
    );
    let wav = dir.join("interview.wav");
    run(
        Command::new("sox")
            .arg(&spoken)
            .args(["-r", "48000"])
            .arg(&wav),
        "sox",
    );
    let opus = dir.join("interview.opus");
    run(
        Command::new("opusenc").arg("--quiet").arg(&wav).arg(&opus),
        "opusenc",
    );
    (wav, opus)
}

/// 64 bytes from the middle of a file: what a plaintext copy of it would hold.
fn needle(file: &Path) -> Vec<u8> {
    let b = std::fs::read(file).unwrap();
    b[b.len() / 2..b.len() / 2 + 64].to_vec()
}

/// Every place a played file could land, with what was found there (in the shared scratch
/// folders, files written since the test began).
fn leaks(sb: &Sandbox, needle: &[u8], since: SystemTime) -> Vec<String> {
    let mut hits = open_file_hits(&processes_with_home(&sb.home), needle);
    let ours = sb.outside.clone();
    for dir in SHARED_SCRATCH {
        hits.extend(bytes_hits(Path::new(dir), needle, &[&ours], Some(since)));
    }
    for dir in [&sb.home, &sb.tmp, &sb.dir.path().join("run")] {
        hits.extend(bytes_hits(dir, needle, &[], None));
    }
    hits
}

/// Starts playing the attachment named `name` on the open testimony. An Ogg Opus file opens in
/// the transcription player first (played by Rust, issue #14); others play through Web Audio.
fn start_playing(s: &Session, name: &str) {
    if name.ends_with(".opus") {
        s.click(&s.find(&format!("[data-testid=transcribe][data-name='{name}']"), 20));
    }
    s.click(&s.find(&format!("[data-testid=play][data-name='{name}']"), 20));
}

/// How far into the attachment `name` the player is, in seconds.
fn position(s: &Session, name: &str) -> f64 {
    s.exec(
        "const p = document.querySelector(`[data-testid=player][data-name='${arguments[0]}']`); return p ? Number(p.dataset.position) : -1",
        serde_json::json!([name]),
    )
    .as_f64()
        .unwrap_or(-1.0)
}

#[test]
fn recordings_play_from_memory_and_reach_the_speakers() {
    let _turn = my_turn();
    let began = SystemTime::now() - Duration::from_secs(2);
    let sb = Sandbox::start();
    let _speakers = speakers(&sb);
    let (wav, opus) = recordings(&sb.outside);

    // The vault, as `kuager init` and `kuager attach` would leave it.
    {
        let mut v = testkit::fixture::new_vault(&sb.home.join(".local/share/kuager/default"));
        let p = testkit::fixture::add_person(&mut v, "Сенбай Нұрахен");
        let t = testkit::fixture::add_testimony(&mut v, p, "Recorded interview");
        testkit::fixture::attach_file(&mut v, t, &opus, "audio/ogg");
        testkit::fixture::attach_file(&mut v, t, &wav, "audio/wav");
    }

    let s = sb.launch();
    s.unlock(testkit::fixture::PASS);
    s.click(&s.find("[data-testid=nav-testimonies]", 60));
    s.click(&s.find(".list-screen button.row", 20));

    for file in [&opus, &wav] {
        let name = file.file_name().unwrap().to_str().unwrap();
        let needle = needle(file);
        // The scan can see this needle: it finds the original, outside the app's reach.
        assert_eq!(
            bytes_hits(&sb.outside, &needle, &[], None).len(),
            1,
            "{name}"
        );
        let ear = Recorder::start(&sb, name);
        start_playing(&s, name);
        let t = Instant::now();
        let mut during = Vec::new();
        while position(&s, name) < 2.0 {
            during.extend(leaks(&sb, &needle, began));
            if position(&s, name) >= 2.0 {
                break;
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "{name} did not play: position {} ({:?})",
                position(&s, name),
                s.exec(
                    "return [...document.querySelectorAll('[data-testid=player]')].map(p => `${p.dataset.name} ${p.dataset.phase} ${p.dataset.failure}`)",
                    serde_json::json!([])
                )
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        during.extend(leaks(&sb, &needle, began));
        let peak = ear.peak();
        eprintln!(
            "{name}: 2 s played in {:.1} s after the click, peak {peak} at the speakers",
            t.elapsed().as_secs_f64()
        );
        assert!(
            peak > 1000,
            "{name}: the speakers heard silence (peak {peak})"
        );
        assert!(during.is_empty(), "{name} while playing: {during:?}");
        s.click(&s.find(&format!("[data-testid=play][data-name='{name}']"), 5));
    }

    s.quit();
    sb.assert_no_network_calls();
    std::thread::sleep(Duration::from_secs(2));
    for file in [&opus, &wav] {
        let after = leaks(&sb, &needle(file), began);
        assert!(
            after.is_empty(),
            "{} after quitting: {after:?}",
            file.display()
        );
    }
}

/// Forty seconds of video (320×240, 25 fps, a key frame a second) and a 440 Hz tone — longer than
/// the half minute the player appends ahead, so that a jump near the end needs the file's
/// length and a fresh append — as a phone
/// writes it (H.264 with B-frames and AAC, in an ordinary MP4 whose index comes last), and as a
/// browser's recorder does (VP9 and Opus in WebM written as it goes: segment of unknown size).
fn videos(dir: &Path) -> [PathBuf; 2] {
    let ffmpeg = || {
        let mut c = Command::new("ffmpeg");
        c.args(["-hide_banner", "-loglevel", "error", "-y"])
            .args([
                "-f",
                "lavfi",
                "-i",
                "testsrc=duration=40:size=320x240:rate=25",
            ])
            .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=40"])
            .args(["-g", "25", "-pix_fmt", "yuv420p", "-shortest"]);
        c
    };
    let mp4 = dir.join("interview.mp4");
    run(
        ffmpeg()
            .args(["-c:v", "libx264", "-bf", "2", "-c:a", "aac"])
            .arg(&mp4),
        "ffmpeg (MP4)",
    );
    let webm = dir.join("interview.webm");
    let out = ffmpeg()
        .args([
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ])
        .args(["-f", "webm", "-"])
        .output()
        .expect("ffmpeg is installed by packaging/linux/deps.sh");
    assert!(
        out.status.success(),
        "ffmpeg (WebM): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&webm, out.stdout).unwrap();
    [mp4, webm]
}

/// The state of the video `name`: [current time, frames shown, width, phase and failure].
fn video_state(s: &Session, name: &str) -> serde_json::Value {
    s.exec(
        "const p = document.querySelector(`[data-testid=video-player][data-name='${arguments[0]}']`); \
         const v = p && p.querySelector('[data-testid=video]'); \
         return v ? [v.currentTime, v.getVideoPlaybackQuality().totalVideoFrames, v.videoWidth, \
                     p.dataset.phase + ' ' + p.dataset.failure] : [-1, 0, 0, 'none']",
        serde_json::json!([name]),
    )
}

/// Runs `script` on the video `name` (as `v`).
fn on_video(s: &Session, name: &str, script: &str) {
    s.exec(
        &format!(
            "const v = document.querySelector(`[data-testid=video-player][data-name='${{arguments[0]}}'] video`); {script}"
        ),
        serde_json::json!([name]),
    );
}

/// Waits until the video `name` has played past `at` seconds; checks for leaks meanwhile.
fn play_past(
    s: &Session,
    sb: &Sandbox,
    name: &str,
    at: f64,
    needle: &[u8],
    began: SystemTime,
) -> Vec<String> {
    let t = Instant::now();
    let mut during = Vec::new();
    loop {
        let state = video_state(s, name);
        if state[0].as_f64().unwrap_or(-1.0) > at {
            return during;
        }
        during.extend(leaks(sb, needle, began));
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{name} did not play past {at} s: {state}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn videos_play_from_memory_through_media_source_extensions() {
    let _turn = my_turn();
    let began = SystemTime::now() - Duration::from_secs(2);
    let sb = Sandbox::start();
    let _speakers = speakers(&sb);
    let files = videos(&sb.outside);
    {
        let mut v = testkit::fixture::new_vault(&sb.home.join(".local/share/kuager/default"));
        let p = testkit::fixture::add_person(&mut v, "Сенбай Нұрахен");
        let t = testkit::fixture::add_testimony(&mut v, p, "Filmed interview");
        testkit::fixture::attach_file(&mut v, t, &files[0], "video/mp4");
        testkit::fixture::attach_file(&mut v, t, &files[1], "video/webm");
    }
    let s = sb.launch();
    s.unlock(testkit::fixture::PASS);
    s.click(&s.find("[data-testid=nav-testimonies]", 60));
    s.click(&s.find(".list-screen button.row", 20));

    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let needle = needle(file);
        let ear = Recorder::start(&sb, name);
        s.click(&s.find(&format!("[data-testid=play-video][data-name='{name}']"), 20));
        let t = Instant::now();
        while video_state(&s, name)[3] != "ready " {
            let state = video_state(&s, name);
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{name}: the player is not ready: {state}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        on_video(&s, name, "v.play()");
        let t = Instant::now();
        let mut during = play_past(&s, &sb, name, 2.0, &needle, began);
        let state = video_state(&s, name);
        let peak = ear.peak();
        eprintln!(
            "{name}: 2 s played in {:.1} s, {state}, peak {peak} at the speakers",
            t.elapsed().as_secs_f64()
        );
        assert_eq!(state[2], 320, "{name}: no picture: {state}");
        assert!(
            state[1].as_u64().unwrap_or(0) >= 25,
            "{name}: frames shown: {state}"
        );
        assert!(
            peak > 1000,
            "{name}: the speakers heard silence (peak {peak})"
        );

        // A jump past what is buffered, near the end, plays from there (a video without a
        // length would be taken for endless, and the jump held to what is buffered).
        on_video(&s, name, "v.currentTime = 35.5");
        let jumped = video_state(&s, name)[0].as_f64().unwrap_or(-1.0);
        assert!(
            jumped >= 35.0,
            "{name}: the jump to 35.5 s went to {jumped} s"
        );
        during.extend(play_past(&s, &sb, name, 36.0, &needle, began));
        on_video(&s, name, "v.pause()");
        during.extend(leaks(&sb, &needle, began));
        assert!(during.is_empty(), "{name} while playing: {during:?}");
    }

    s.quit();
    sb.assert_no_network_calls();
    std::thread::sleep(Duration::from_secs(2));
    for file in &files {
        let after = leaks(&sb, &needle(file), began);
        assert!(
            after.is_empty(),
            "{} after quitting: {after:?}",
            file.display()
        );
    }
}
