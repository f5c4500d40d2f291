//! Speech made by espeak-ng goes through the recorder as fast as it can and comes back: the
//! pieces joined are an Ogg Opus file that `opusdec` (opus-tools, not ours) decodes to the same
//! length, our decoder gives audio that follows the source, and a seek lands where it was asked.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;

use kuager_audio::{OpusFile, Recorder, Source, RATE};
use zeroize::Zeroizing;

/// 48 kHz mono samples of `text` spoken by espeak-ng (resampled by sox).
pub fn speech(dir: &Path, text: &str) -> Vec<f32> {
    let wav = dir.join("speech.wav");
    let raw = dir.join("speech.raw");
    let ok = Command::new("espeak-ng")
        .args(["-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .expect("espeak-ng is installed by packaging/linux/deps.sh");
    assert!(ok.success());
    let ok = Command::new("sox")
        .arg(&wav)
        .args(["-r", "48000", "-c", "1", "-e", "floating-point", "-b", "32"])
        .arg(&raw)
        .status()
        .expect("sox is installed by packaging/linux/deps.sh");
    assert!(ok.success());
    std::fs::read(&raw)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Records `samples` in 10 ms blocks; the pieces joined, and how many there were.
fn record(samples: &[f32]) -> (Vec<u8>, usize, u64) {
    let blocks: Vec<Vec<f32>> = samples.chunks(480).map(<[f32]>::to_vec).collect();
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Samples(Box::new(blocks.into_iter())), tx).unwrap();
    let ms = loop {
        if rec.is_finished() {
            break rec.stop().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let pieces: Vec<_> = rx.iter().collect();
    assert!(pieces.last().unwrap().last);
    let n = pieces.len();
    (
        pieces
            .iter()
            .flat_map(|p| p.bytes.iter().copied())
            .collect(),
        n,
        ms,
    )
}

/// Pearson correlation of two equal-length signals.
fn correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    let (ma, mb) = (
        a[..n].iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64,
        b[..n].iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64,
    );
    let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (f64::from(a[i]) - ma, f64::from(b[i]) - mb);
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    ab / (aa * bb).sqrt()
}

/// Envelope (RMS per 10 ms): speech compared by its loudness over time, which a codec keeps.
fn envelope(s: &[f32]) -> Vec<f32> {
    s.chunks(480)
        .map(|c| (c.iter().map(|x| x * x).sum::<f32>() / c.len() as f32).sqrt())
        .collect()
}

#[test]
fn speech_recorded_decodes_with_opusdec_and_ours_to_the_same_audio() {
    let dir = tempfile::tempdir().unwrap();
    let src = speech(
        dir.path(),
        "The witness names the facility in Ghulja. She was held there for eleven months, \
         and her brother is still missing.",
    );
    let (ogg, pieces, ms) = record(&src);
    let want_ms = src.len() as u64 * 1000 / u64::from(RATE);
    assert!(ms.abs_diff(want_ms) <= 20, "{ms} ms recorded of {want_ms}");
    assert!(pieces >= 3, "pieces every 2 s: {pieces}");

    // Another program's decoder.
    let file = dir.path().join("rec.opus");
    std::fs::write(&file, &ogg).unwrap();
    let out = dir.path().join("rec.wav");
    let st = Command::new("opusdec")
        .args(["--quiet", "--rate", "48000"])
        .arg(&file)
        .arg(&out)
        .status()
        .expect("opusdec is installed by packaging/linux/deps.sh");
    assert!(st.success(), "opusdec read the recording");
    let decoded = std::fs::metadata(&out).unwrap().len().saturating_sub(44) / 2;
    let diff = (decoded as f64 - src.len() as f64).abs() / src.len() as f64;
    assert!(diff < 0.02, "opusdec: {decoded} samples of {}", src.len());

    // Ours, from the start: follows the source.
    let f = OpusFile::parse(Zeroizing::new(ogg)).unwrap();
    assert!(f.duration_ms().abs_diff(want_ms) <= 20);
    let back = f.reader_at(0).unwrap().read_all().unwrap();
    assert_eq!(back.len(), src.len());
    let r = correlation(&envelope(&src), &envelope(&back));
    assert!(r > 0.9, "envelope correlation {r}");

    // From 2.5 s: the same samples as from the start.
    let at = 120_000usize;
    let part = f.reader_at(at as u64).unwrap().read_all().unwrap();
    assert_eq!(part.len(), back.len() - at);
    let r = correlation(&envelope(&back[at..]), &envelope(&part));
    assert!(r > 0.98, "after a seek: {r}");
}

#[test]
fn a_recording_cut_after_any_piece_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let src = speech(
        dir.path(),
        "One, two, three, four, five, six, seven, eight, nine, ten.",
    );
    let blocks: Vec<Vec<f32>> = src.chunks(480).map(<[f32]>::to_vec).collect();
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Samples(Box::new(blocks.into_iter())), tx).unwrap();
    while !rec.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    rec.stop().unwrap();
    let pieces: Vec<_> = rx.iter().collect();
    // A crash keeps the pieces stored before it: every prefix is a stream that plays.
    for k in 1..pieces.len() {
        let ogg: Vec<u8> = pieces[..k]
            .iter()
            .flat_map(|p| p.bytes.iter().copied())
            .collect();
        let f = OpusFile::parse(Zeroizing::new(ogg.clone())).unwrap();
        let want = pieces[k - 1].end_ms;
        assert!(
            f.duration_ms().abs_diff(want) <= 20,
            "{} of {want}",
            f.duration_ms()
        );
        let file = dir.path().join(format!("cut{k}.opus"));
        std::fs::write(&file, &ogg).unwrap();
        let st = Command::new("opusdec")
            .args(["--quiet"])
            .arg(&file)
            .arg(dir.path().join("cut.wav"))
            .status()
            .unwrap();
        assert!(st.success(), "opusdec reads the first {k} pieces");
    }
}
