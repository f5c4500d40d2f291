//! Recording straight into the vault (issue #14): pieces stored as they come, an interrupted
//! recording offered back after a crash and saved as far as it went, custody facts kept by the
//! vault whatever an edit sends, transcripts tied to their recording, purges and key rotation,
//! and the fingerprint a coordinator's vault shows after import.

use std::sync::mpsc;

use kuager_audio::{OpusFile, Recorder, Source};
use testkit::bundles::{caseworker, coordinator, export};
use testkit::fixture::{add_person, add_testimony, confirmed, pass, TempVault};
use vault::bundle::ExportScope;
use vault::{Capture, Marker, RecordId, Vault};
use zeroize::Zeroizing;

/// Pieces of `seconds` of a 440 Hz tone, as the recorder hands them over.
fn pieces(seconds: usize) -> Vec<kuager_audio::Piece> {
    let tone: Vec<f32> = (0..48_000 * seconds)
        .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / 48_000.0).sin() * 0.3)
        .collect();
    let blocks: Vec<Vec<f32>> = tone.chunks(480).map(<[f32]>::to_vec).collect();
    let (tx, rx) = mpsc::channel();
    let rec = Recorder::start(Source::Samples(Box::new(blocks.into_iter())), tx).unwrap();
    while !rec.is_finished() {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    rec.stop().unwrap();
    rx.iter().collect()
}

fn store(v: &mut Vault, id: &str, p: &kuager_audio::Piece, marks: &[Marker]) {
    v.recording_append(id, &p.bytes, p.end_ms, marks).unwrap();
}

fn testimony(v: &mut Vault) -> RecordId {
    let p = add_person(v, "Senbay");
    add_testimony(v, p, "told in person")
}

fn attachments(v: &Vault, id: RecordId) -> serde_json::Value {
    v.get(id).unwrap().heads[0].data.as_ref().unwrap()["attachments"].clone()
}

fn plaintext(v: &Vault, sha: &str) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut v.open_attachment(sha).unwrap(), &mut out).unwrap();
    out
}

#[test]
fn a_recording_becomes_an_attachment_with_its_custody_and_markers() {
    let mut tv = TempVault::new();
    let t = testimony(&mut tv);
    let id = tv.recording_begin(t, Some("USB microphone")).unwrap();
    let ps = pieces(7);
    assert!(ps.len() >= 4);
    for (i, p) in ps.iter().enumerate() {
        let marks = if i == 1 {
            vec![Marker {
                at_ms: 2_500,
                note: Some("names the facility".into()),
            }]
        } else {
            vec![]
        };
        store(&mut tv, &id, p, &marks);
    }
    let list = tv.recordings().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].duration_ms, 7_000);
    assert_eq!(list[0].markers, 1);
    tv.recording_finish(&id).unwrap();
    assert!(tv.recordings().unwrap().is_empty());
    assert!(std::fs::read_dir(tv.dir().join("recordings"))
        .unwrap()
        .next()
        .is_none());

    let atts = attachments(&tv, t);
    let a = &atts[0];
    assert_eq!(a["media_type"], "audio/ogg");
    assert_eq!(a["custody"]["how"], "recorded");
    assert_eq!(a["custody"]["input"], "USB microphone");
    assert_eq!(a["custody"]["duration_ms"], 7_000);
    assert_eq!(a["custody"]["markers"][0]["at_ms"], 2_500);
    assert_eq!(a["custody"]["device"], tv.device_id().unwrap());
    // The fingerprint is the SHA-256 of the bytes, which decode to the whole recording.
    let bytes = plaintext(&tv, a["blob"].as_str().unwrap());
    assert_eq!(testkit::cli::sha256sum(&bytes), a["blob"].as_str().unwrap());
    let f = OpusFile::parse(Zeroizing::new(bytes)).unwrap();
    assert_eq!(f.duration_ms(), 7_000);
    assert!(tv.verify().unwrap().problems.is_empty());
}

#[test]
fn an_interrupted_recording_is_offered_after_a_crash_and_saved_as_far_as_it_went() {
    let tv = TempVault::new();
    let dir = tv.dir();
    let mut v = tv.vault;
    let t = testimony(&mut v);
    let id = v.recording_begin(t, None).unwrap();
    let ps = pieces(9);
    let kept = ps.len() - 2;
    for p in &ps[..kept] {
        store(&mut v, &id, p, &[]);
    }
    // The process dies: nothing is finished, the vault is not locked.
    drop(v);
    let mut v = Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    assert!(v.verify().unwrap().problems.is_empty());
    let list = v.recordings().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].record, t);
    assert_eq!(list[0].duration_ms, ps[kept - 1].end_ms);
    v.recording_finish(&list[0].id).unwrap();
    let a = attachments(&v, t)[0].clone();
    let f = OpusFile::parse(Zeroizing::new(plaintext(&v, a["blob"].as_str().unwrap()))).unwrap();
    assert!(f.duration_ms().abs_diff(ps[kept - 1].end_ms) <= 20);
    // Every sample of it decodes.
    let pcm = f.reader_at(0).unwrap().read_all().unwrap();
    assert!(pcm.len() as u64 >= f.samples() - 960);
}

#[test]
fn a_stray_or_damaged_piece_is_reported_and_a_damaged_recording_can_be_discarded() {
    let tv = TempVault::new();
    let dir = tv.dir();
    let mut v = tv.vault;
    let t = testimony(&mut v);
    let id = v.recording_begin(t, None).unwrap();
    let ps = pieces(3);
    store(&mut v, &id, &ps[0], &[]);
    std::fs::write(
        dir.join("recordings/0123456789abcdef0123456789abcdef.age"),
        b"x",
    )
    .unwrap();
    let problems = v.verify().unwrap().problems;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("belongs to no recording")),
        "{problems:?}"
    );
    // A piece's file damaged: verify says so.
    let (_, file): (String, String) = testkit::fixture::raw_db(&dir)
        .query_row("SELECT recording, file FROM recording_pieces", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let mut bytes = std::fs::read(dir.join(&file)).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 1;
    std::fs::write(dir.join(&file), &bytes).unwrap();
    let problems = v.verify().unwrap().problems;
    assert!(
        problems.iter().any(|p| p.contains("cannot be read")),
        "{problems:?}"
    );
    // Saving it fails, and the recording stays for another try or a discard.
    assert!(v.recording_finish(&id).is_err());
    assert_eq!(v.recordings().unwrap().len(), 1);
    assert!(attachments(&v, t).is_null());
    v.recording_discard(&id).unwrap();
    assert!(v.recordings().unwrap().is_empty());
    assert!(!dir.join(&file).exists());
}

#[test]
fn custody_is_the_vaults_and_an_edit_cannot_change_it() {
    let mut tv = TempVault::new();
    let t = testimony(&mut tv);
    let f = tv.tmp.path().join("scan.jpg");
    std::fs::write(
        &f,
        b"\xff\xd8\xff\xe0 not really a JPEG, but its bytes are kept",
    )
    .unwrap();
    testkit::fixture::attach_file(&mut tv, t, &f, "image/jpeg");
    let before = attachments(&tv, t)[0].clone();
    assert_eq!(before["custody"]["how"], "attached");
    assert_eq!(before["name"], "scan.jpg");
    // An edit that forges the custody facts (and renames the file) keeps the vault's.
    let mut forged = before.clone();
    forged["custody"]["at"] = "2001-01-01T00:00:00Z".into();
    forged["custody"]["device"] = "someone-else".into();
    forged["caption"] = "the gate".into();
    let patch = serde_json::json!({ "attachments": [forged] });
    tv.edit(t, patch.to_string().as_bytes(), None, false)
        .unwrap();
    let after = attachments(&tv, t)[0].clone();
    assert_eq!(after["custody"], before["custody"]);
    assert_eq!(after["caption"], "the gate");

    // A derived copy names its original, which must be an attachment of the same record.
    let copy = tv.tmp.path().join("scan-redacted.jpg");
    std::fs::write(&copy, b"\xff\xd8\xff\xe0 redacted").unwrap();
    let meta = |from: &str| vault::AttachMeta {
        name: Some("scan-redacted.jpg".into()),
        caption: None,
        media_type: Some("image/jpeg".into()),
        custody: Some(vault::Custody {
            how: Capture::Derived,
            at: String::new(),
            device: String::new(),
            derived_from: Some(from.into()),
            duration_ms: None,
            input: None,
            markers: vec![],
        }),
    };
    let other = "0".repeat(64);
    let err = tv
        .attach(t, std::fs::File::open(&copy).unwrap(), meta(&other))
        .unwrap_err();
    assert!(err.to_string().contains("same record"), "{err}");
    let original = before["blob"].as_str().unwrap();
    tv.attach(t, std::fs::File::open(&copy).unwrap(), meta(original))
        .unwrap();
    let atts = attachments(&tv, t);
    assert_eq!(atts[1]["custody"]["derived_from"], original);
    assert_eq!(atts[1]["custody"]["how"], "derived");
    // The original is untouched.
    assert_eq!(atts[0]["blob"], original);
}

#[test]
fn a_transcript_belongs_to_a_recording_of_its_testimony() {
    let mut tv = TempVault::new();
    let t = testimony(&mut tv);
    let id = tv.recording_begin(t, None).unwrap();
    for p in &pieces(3) {
        store(&mut tv, &id, p, &[]);
    }
    tv.recording_finish(&id).unwrap();
    let blob = attachments(&tv, t)[0]["blob"].as_str().unwrap().to_owned();
    let bad = serde_json::json!({ "transcripts": [{ "recording": "1".repeat(64), "text": "x" }] });
    let err = tv
        .edit(t, bad.to_string().as_bytes(), None, false)
        .unwrap_err();
    assert!(
        err.to_string().contains("not a recording attached"),
        "{err}"
    );
    let good = serde_json::json!({ "transcripts": [{
        "recording": blob,
        "text": "[0:01] I was taken in the spring.",
        "translations": [{ "language": "ru", "text": "[0:01] Меня забрали весной." }]
    }] });
    tv.edit(t, good.to_string().as_bytes(), None, false)
        .unwrap();
    let data = tv.get(t).unwrap().heads[0].data.clone().unwrap();
    // The narrative as told is unchanged beside it.
    assert_eq!(data["narrative"], "told in person");
    assert_eq!(data["transcripts"][0]["recording"], blob.as_str());
}

#[test]
fn a_purge_removes_a_recording_in_progress_and_key_rotation_waits_for_it() {
    let mut tv = TempVault::new();
    let t = testimony(&mut tv);
    let id = tv.recording_begin(t, None).unwrap();
    let ps = pieces(3);
    store(&mut tv, &id, &ps[0], &[]);
    let ok = confirmed(&mut tv);
    let err = tv.rotate_keys(ok, &pass(), Some(1)).unwrap_err();
    assert!(err.to_string().contains("recording"), "{err}");
    tv.purge(t, "consent withdrawn").unwrap();
    assert!(tv.recordings().unwrap().is_empty());
    assert!(std::fs::read_dir(tv.dir().join("recordings"))
        .unwrap()
        .next()
        .is_none());
    assert!(tv.recording_begin(t, None).is_err());
    assert!(tv.recording_append(&id, &ps[1].bytes, 4_000, &[]).is_err());
}

#[test]
fn a_coordinator_sees_the_same_fingerprint_and_custody_after_import() {
    let mut org = coordinator();
    let (tmp, mut cw) = caseworker(&mut org, "Aigerim");
    let t = testimony(&mut cw);
    let id = cw.recording_begin(t, Some("laptop microphone")).unwrap();
    for p in &pieces(3) {
        store(&mut cw, &id, p, &[]);
    }
    cw.recording_finish(&id).unwrap();
    let mine = attachments(&cw, t)[0].clone();
    let bundle = export(&mut cw, ExportScope::SinceLast, &tmp.path().join("out"));
    org.v.import(&bundle, &Default::default()).unwrap();
    let theirs = attachments(&org.v, t)[0].clone();
    assert_eq!(theirs, mine);
    let bytes = plaintext(&org.v, theirs["blob"].as_str().unwrap());
    assert_eq!(
        testkit::cli::sha256sum(&bytes),
        theirs["blob"].as_str().unwrap()
    );
    assert!(org.v.verify().unwrap().problems.is_empty());
}
