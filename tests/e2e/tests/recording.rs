//! Recording an interview in the real app (issue #14), with a PulseAudio room of the test's own
//! as what the microphone hears (testkit::sound) and espeak-ng's speech played into it: record,
//! set a marker with Ctrl+M, lock with Ctrl+Shift+L mid-recording (the recording is stopped and
//! saved first), unlock, find the recording with its fingerprint and custody, play it through
//! Rust (the room hears it), transcribe with Ctrl+T inserting the time, lock again before saving
//! (the transcript typed comes back), save; then the vault's
//! bundle is imported by a coordinator, whose vault shows the same fingerprint and custody.

use std::time::{Duration, Instant};

use e2e::{launcher, vault_dir, Sandbox, Session, Steps};
use serde_json::json;
use testkit::bundles::{coordinator, export};
use testkit::fixture::{add_person, add_testimony, confirmed, new_vault, pass, PASS};
use testkit::sound::{speech, Sound};
use vault::bundle::ExportScope;

fn keys(s: &Session, down: &[&str], key: &str) {
    let mut actions: Vec<serde_json::Value> = down
        .iter()
        .map(|k| json!({"type": "keyDown", "value": k}))
        .collect();
    actions.push(json!({"type": "keyDown", "value": key}));
    actions.push(json!({"type": "keyUp", "value": key}));
    actions.extend(
        down.iter()
            .rev()
            .map(|k| json!({"type": "keyUp", "value": k})),
    );
    let r = s.cmd(
        "actions",
        json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}),
    );
    assert!(r["value"].is_null(), "key press failed: {r}");
}

const CTRL: &str = "\u{E009}";
const SHIFT: &str = "\u{E008}";

fn open_testimony(s: &Session) {
    s.click(&s.find("[data-testid=nav-testimonies]", 60));
    s.click(&s.find(".list-screen button.row", 20));
}

fn attachments(dir: &std::path::Path, t: vault::RecordId) -> serde_json::Value {
    let mut v = vault::Vault::open(dir).unwrap();
    v.unlock(&pass()).unwrap();
    v.get(t).unwrap().heads[0].data.as_ref().unwrap()["attachments"].clone()
}

/// Plays the recording through Rust (the position moves and the room hears it), then types a
/// transcript with Ctrl+T inserting the player's time; the text typed.
/// Saves the open testimony and waits until it says `said` ("Saved." or "Nothing changed.",
/// the English UI's words).
fn save(s: &Session, said: &str) {
    s.click(&s.find("[data-testid=save]", 5));
    s.wait_for(
        &format!(
            "return document.querySelector('[data-testid=status]')?.innerText.trim() === {}",
            serde_json::to_string(said).unwrap()
        ),
        20,
        &format!("the testimony's save says {said:?}"),
    );
}

/// Typed again, locked, and the testimony saved once more without opening the recording: the
/// newer transcript is not in the form, so its draft is kept and comes back when the recording
/// is opened beside it. Returns the transcript as it now reads.
fn typed_again_kept_through_a_save(s: &Session, text: &str) -> String {
    if s.exec(
        "return !document.querySelector('[data-testid=transcript]')",
        json!([]),
    ) == json!(true)
    {
        s.click(&s.find("[data-testid=transcribe]", 10));
    }
    let area = s.find("[data-testid=transcript]", 10);
    s.type_text(&area, " Then my brother.");
    let text = format!("{text} Then my brother.");
    std::thread::sleep(Duration::from_millis(1500));
    keys(s, &[CTRL, SHIFT], "L");
    s.find("[data-testid=passphrase]", 30);
    s.unlock(PASS);
    open_testimony(s);
    // Loaded (its attachments listed) before it is saved.
    s.find("[data-testid=transcribe]", 30);
    // Nothing of the form changed: the newer transcript is only in its draft.
    save(s, "Nothing changed.");
    s.click(&s.find("[data-testid=transcribe]", 30));
    transcript_reads(
        s,
        &text,
        "the transcript typed before the lock is back after a save that did not hold it",
    );
    text
}

/// Waits until the transcript's text box holds exactly `text`.
fn transcript_reads(s: &Session, text: &str, what: &str) {
    s.wait_for(
        &format!(
            "return document.querySelector('[data-testid=transcript]')?.value === {}",
            serde_json::to_string(text).unwrap()
        ),
        20,
        what,
    );
}

fn play_and_transcribe(s: &Session, sb: &Sandbox, sound: &Sound) -> String {
    let heard = sb.outside.join("heard.raw");
    let ear = sound.listen(&heard);
    s.click(&s.find("[data-testid=transcribe]", 10));
    s.click(&s.find("[data-testid=play]", 10));
    s.wait_for(
        "const p = document.querySelector('[data-testid=player]'); return p && Number(p.dataset.position) > 2",
        30,
        "the recording plays",
    );
    drop(ear);
    let peak = std::fs::read(&heard)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|b| i32::from(i16::from_le_bytes([b[0], b[1]])).abs())
        .max()
        .unwrap_or(0);
    assert!(peak > 1000, "the speakers heard silence (peak {peak})");
    s.click(&s.find("[data-testid=play]", 5));

    // Transcribe: Ctrl+T inserts the player's time.
    let area = s.find("[data-testid=transcript]", 5);
    s.click(&area);
    s.type_text(&area, "Witness: ");
    keys(s, &[CTRL], "t");
    s.type_text(&area, "they took my father.");
    let text = s
        .exec(
            "return document.querySelector('[data-testid=transcript]').value",
            json!([]),
        )
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        text.starts_with("Witness: [0:0") && text.ends_with("] they took my father."),
        "{text}"
    );
    text
}

#[test]
fn record_mark_lock_play_transcribe_and_the_coordinator_sees_the_same_fingerprint() {
    let sb = Sandbox::start();
    let config = sb.home.join(".config/kuager/app.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"language":"en","autolock_minutes":30}"#).unwrap();
    let sound = Sound::start(&sb.outside.join("sound"));
    let wav = sb.outside.join("speech.wav");
    speech(
        &wav,
        "They took my father in twenty eighteen. We wrote to the consulate four times.",
    );
    let mut org = coordinator();
    let t = {
        let mut v = new_vault(&vault_dir(&sb));
        let ok = confirmed(&mut v);
        v.add_recipient(&org.recipient.parse().unwrap(), Some("org"), ok)
            .unwrap();
        org.v
            .trust_device(&v.device_public_key().unwrap().minisign, "Aigerim")
            .unwrap();
        let p = add_person(&mut v, "Сенбай Нұрахен");
        add_testimony(&mut v, p, "Recorded interview")
    };

    let app = launcher(
        &sb,
        "kuager-app-with-sound",
        &format!("env PULSE_SERVER={}", sound.server()),
    );
    let s = sb.launch_binary(&app);
    s.unlock(PASS);
    open_testimony(&s);
    s.find("[data-testid=record]", 30);
    s.wait_for(
        "return !document.querySelector('[data-testid=record]').disabled",
        30,
        "the microphones are listed",
    );
    s.click(&s.find("[data-testid=record]", 5));
    s.find("[data-testid=recording]", 20);
    // The room's monitor gives sound about 2 s after it is opened.
    std::thread::sleep(Duration::from_secs(3));
    let mut talk = sound.play(&wav);
    std::thread::sleep(Duration::from_millis(1500));
    s.type_text(&s.find("[data-testid=mark-note]", 5), "names the consulate");
    keys(&s, &[CTRL], "m");
    s.wait_for(
        "return !!document.querySelector('.recorder [role=status]')",
        10,
        "the marker is confirmed",
    );
    let _ = talk.wait();
    std::thread::sleep(Duration::from_secs(1));
    // Locking mid-recording stops it and saves it first.
    keys(&s, &[CTRL, SHIFT], "L");
    s.find("[data-testid=passphrase]", 30);
    let t0 = Instant::now();
    s.unlock(PASS);
    open_testimony(&s);
    let fp = s.text(&s.find("[data-testid=fingerprint]", 30));
    assert_eq!(fp.len(), 64, "{fp}");
    eprintln!("unlocked and found the recording in {:?}", t0.elapsed());

    let text = play_and_transcribe(&s, &sb, &sound);
    // A lock before saving keeps what was typed (an encrypted draft in the vault).
    std::thread::sleep(Duration::from_millis(1500));
    keys(&s, &[CTRL, SHIFT], "L");
    s.find("[data-testid=passphrase]", 30);
    s.unlock(PASS);
    open_testimony(&s);
    s.click(&s.find("[data-testid=transcribe]", 30));
    transcript_reads(&s, &text, "the transcript typed before the lock is back");
    save(&s, "Saved.");
    let text = typed_again_kept_through_a_save(&s, &text);
    save(&s, "Saved.");
    s.quit();

    // In the vault: one recording with its custody and marker, and the transcript beside it.
    let dir = vault_dir(&sb);
    let atts = attachments(&dir, t);
    let a = &atts[0];
    assert_eq!(a["blob"], fp.as_str());
    assert_eq!(a["custody"]["how"], "recorded");
    assert_eq!(a["custody"]["markers"][0]["note"], "names the consulate");
    let ms = a["custody"]["duration_ms"].as_u64().unwrap();
    assert!(ms > 4_000, "{ms} ms recorded");
    let mut v = vault::Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    let data = v.get(t).unwrap().heads[0].data.clone().unwrap();
    assert_eq!(data["transcripts"][0]["recording"], fp.as_str());
    assert_eq!(data["transcripts"][0]["text"], text.as_str());
    assert_eq!(data["narrative"], "Recorded interview");
    assert!(v.recordings().unwrap().is_empty());
    assert!(v.verify().unwrap().problems.is_empty());

    // The coordinator's vault shows the same fingerprint and custody.
    let bundle = export(&mut v, ExportScope::SinceLast, &sb.outside.join("out"));
    org.v.import(&bundle, &Default::default()).unwrap();
    let theirs = org.v.get(t).unwrap().heads[0].data.clone().unwrap();
    assert_eq!(theirs["attachments"][0], *a);
    assert_eq!(theirs["transcripts"], data["transcripts"]);
}
