//! The caseworker's day in the real app (issue #4): first run → vault → a person with a Cyrillic
//! name → a testimony whose narrative and attachment carry a canary → lock → unlock → found by a
//! Latin spelling → exported to a coordinator key from `age-keygen` → Go `age` finds the canary
//! in the bundle → quit → no canary anywhere in $HOME (WebKit's data and cache included), the
//! XDG folders or $TMPDIR. Along the way: record text is inert (never HTML), a command outside
//! the capability is refused, the lock leaves no decrypted text in the page, and the app makes
//! no network call (R10: the session runs under strace).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use e2e::{canary_hits, App, Sandbox, Session, Steps};
use serde_json::json;

const PASS: &str = "river lantern orchard violet seventy";
const BUNDLE_PASS: &str = "amber walnut glacier thirty two";

/// A coordinator key from `age-keygen` (its file, its public key) and an audio file holding
/// the canary, outside the scanned folders.
fn coordinator_key_and_audio(sb: &Sandbox, canary: &str) -> (PathBuf, String, PathBuf) {
    let key_file = sb.outside.join("coordinator.key");
    let k = Command::new("age-keygen")
        .arg("-o")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(
        k.status.success(),
        "age-keygen: {}",
        String::from_utf8_lossy(&k.stderr)
    );
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let coordinator = key_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let audio = sb.outside.join("interview.ogg");
    std::fs::write(&audio, format!("OggS {canary} audio of the interview")).unwrap();

    (key_file, coordinator, audio)
}

/// First run: passphrase twice, the coordinator's key.
fn first_run(s: &Session, coordinator: &str) {
    // First run.
    let p1 = s.find("[data-testid=pass1]", 60);
    s.type_text(&p1, PASS);
    s.type_text(&s.find("[data-testid=pass2]", 5), PASS);
    s.type_text(&s.find("[data-testid=recipients]", 5), coordinator);
    s.wait_for(
        "return !document.querySelector('[data-testid=create]').disabled",
        10,
        "the strength check to accept the passphrase",
    );
    s.click(&s.find("[data-testid=create]", 5));
}

/// A person with a Cyrillic name and a testimony: consent first, a narrative with a canary
/// and markup that must stay text, an attachment.
fn person_and_testimony(s: &Session, canary: &str, audio: &Path) {
    // A person with a Cyrillic name. Before the first save, files wait for the *person* to be
    // saved (the page once said "the testimony").
    s.click(&s.find("[data-testid=new-person]", 60));
    let first = s.text(&s.find("[data-testid=save-first]", 10));
    let names_a_testimony = ["testimony", "свидетельство", "куәлік"]
        .iter()
        .any(|w| first.contains(w));
    assert!(!names_a_testimony, "a new person's page says: {first}");
    s.type_text(&s.find("[data-testid=name-value]", 10), "Сенбай Нұрахен");
    s.click(&s.find("[data-testid=save]", 5));
    s.click(&s.find("[data-testid=person-new-testimony]", 20));

    // A testimony: consent first, a narrative with a canary and markup that must stay text.
    s.wait_for(
        "return (document.querySelector('[data-testid=witness-name]')||{}).textContent === 'Сенбай Нұрахен'",
        20,
        "the witness to be filled in",
    );
    s.click(&s.find("[data-testid=consent-given]", 5));
    let narrative = format!(
        "{canary} He was held in the camp near Ghulja. <img src=x onerror=\"window.__kuagerXss=1\"> <script>window.__kuagerXss=2</script> <b>bold?</b>"
    );
    s.type_text(&s.find("[data-testid=narrative]", 5), &narrative);
    s.click(&s.find("[data-testid=save]", 5));
    let input = s.find("[data-testid=attach-input]", 20);
    s.type_text(&input, audio.to_str().unwrap());
    s.wait_for(
        "return document.querySelectorAll('[data-testid=attachments] li').length === 1",
        60,
        "the attachment to be stored",
    );
    let inert = s.exec(
        "return [document.querySelectorAll('img[src=\"x\"]').length, window.__kuagerXss || 0, document.querySelector('[data-testid=narrative]').value.includes('<script>')]",
        json!([]),
    );
    assert_eq!(
        inert,
        json!([0, 0, true]),
        "record text was rendered as HTML"
    );
}

/// An event in the testimony; a case with the person and the testimony; the person's page
/// lists both, keeps the "do not contact" flag and warns of it.
fn event_case_and_person_page(s: &Session, canary: &str) {
    // An event told in the testimony (its description carries the canary too).
    s.click(&s.find("[data-testid=add-event]", 5));
    s.set_select("[data-testid=event-type]", "camp");
    s.type_text(
        &s.find("[data-testid=event-description]", 5),
        &format!("{canary} held from spring 2018"),
    );
    s.click(&s.find("[data-testid=save]", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=status]').textContent.trim() !== ''",
        20,
        "the testimony with its event to be saved",
    );
    only_the_content_pane_scrolls(s);

    // A case: the reference is suggested, the person is found by a Latin spelling, and their
    // testimony is offered with one click.
    s.click(&s.find("[data-testid=nav-cases]", 5));
    s.click(&s.find("[data-testid=new-case]", 10));
    s.wait_for(
        "return /^AJ-\\d{4}-0001$/.test(document.querySelector('[data-testid=case-reference]').value)",
        20,
        "a case reference to be suggested",
    );
    s.case_with_person_and_testimony("Senbay");
    assert!(s
        .text(&s.find("[data-testid=case-persons]", 5))
        .contains("Сенбай"));
    // The person's page lists the case and the testimony; the testimony kept its event.
    s.click(&s.find("[data-testid=case-persons] li button", 5));
    s.wait_for(
        "const r = document.querySelector('[data-testid=related]'); return !!r && r.textContent.includes('AJ-') && r.querySelectorAll('button.row').length === 2",
        20,
        "the person's page to list the case and the testimony",
    );
    // Protection: "do not contact" is saved, and the person's page warns of it when opened.
    s.click(&s.find("[data-testid=do-not-contact]", 5));
    s.click(&s.find("[data-testid=save]", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=status]').textContent.trim() !== ''",
        20,
        "the person to be saved",
    );
    s.click(&s.find("[data-testid=nav-people]", 5));
    s.click(&s.find(".viewport button.row", 20));
    s.find("[data-testid=do-not-contact-banner]", 20);
    s.wait_for(
        "const r = document.querySelector('[data-testid=related]'); return !!r && r.querySelectorAll('button.row').length === 2",
        20,
        "the person's page again",
    );
    s.exec(
        "[...document.querySelectorAll('[data-testid=related] button.row')].find((b) => !b.textContent.includes('AJ-')).click()",
        json!([]),
    );
    s.wait_for(
        "const t = document.querySelector('[data-testid=event-type]'); const d = document.querySelector('[data-testid=event-description]'); return !!t && t.value === 'camp' && d.value.includes('held from spring 2018')",
        20,
        "the testimony to show its saved event",
    );
}

/// A long form scrolls inside the content pane: the window itself does not scroll (the sidebar
/// stays where it is), and Tauri's isolation frame is nowhere to be seen, even at the bottom.
fn only_the_content_pane_scrolls(s: &Session) {
    let r = s.exec(
        "const main = document.querySelector('.shell > main'); main.scrollTop = main.scrollHeight;\
         const nav = document.querySelector('.shell > nav').getBoundingClientRect();\
         const f = document.getElementById('__tauri_isolation__');\
         const box = f ? f.getBoundingClientRect() : { width: 0, height: 0 };\
         return [main.scrollHeight > main.clientHeight, main.scrollTop > 0,\
                 document.scrollingElement.scrollHeight <= window.innerHeight, window.scrollY, nav.top,\
                 box.width === 0 && box.height === 0, f ? getComputedStyle(f).visibility : 'hidden'];",
        json!([]),
    );
    assert_eq!(
        r,
        json!([true, true, true, 0, 0, true, "hidden"]),
        "[form longer than the pane, pane scrolled, window fits, window not scrolled, sidebar at top, \
          isolation frame without a box, hidden]"
    );
}

/// An open window alone cannot add a way out of the vault (issue #10, item 3): from the page,
/// adding a key or exporting to one the vault does not know without the vault's passphrase is
/// refused, and nothing is added.
fn new_keys_need_the_passphrase(s: &Session, stranger: &str) {
    let call = |cmd: &str, args: String| {
        s.exec_async(&format!(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke('{cmd}', {args})\
               .then((v) => done('accepted ' + JSON.stringify(v)), (e) => done('refused ' + JSON.stringify(e)));"
        ))
        .as_str()
        .unwrap_or_default()
        .to_owned()
    };
    let added = call(
        "recipients_add",
        format!("{{ recipient: '{stranger}', label: null, passphrase: '' }}"),
    );
    assert!(
        added.contains("refused") && added.contains("wrong_passphrase"),
        "{added}"
    );
    let sent = call(
        "export_bundle",
        format!("{{ request: {{ scope: 'all', extra_recipients: ['{stranger}'], passphrase: null, vault_passphrase: null }} }}"),
    );
    assert!(
        sent.contains("refused") && sent.contains("needs_passphrase"),
        "{sent}"
    );
    let keys = call("recipients_list", "{}".into());
    assert!(!keys.contains(stranger), "a key was added: {keys}");
}

/// The webview can call our commands only (R9).
fn plugin_commands_are_refused(s: &Session) {
    // The webview can call our commands only (R9): a plugin command — one that would answer at
    // once if it were allowed — is stopped by the isolation frame or refused by the capability,
    // never run.
    for cmd in [
        "plugin:app|version",
        "plugin:dialog|open",
        "plugin:fs|read_text_file",
    ] {
        let r = s.exec_async(&format!(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke('{cmd}', {{ options: {{}}, path: '/etc/hostname' }})\
               .then((v) => done('accepted ' + JSON.stringify(v)), (e) => done('refused ' + String(e)));\
             setTimeout(() => done('no answer'), 3000);"
        ));
        let r = r.as_str().unwrap_or_default().to_owned();
        assert!(
            r.starts_with("refused") || r == "no answer",
            "{cmd} outside the capability was not refused: {r}"
        );
    }
}

/// Lock, unlock, search by a Latin spelling, switch the language live.
fn lock_unlock_search_and_language(s: &Session, canary: &str) {
    // Lock: the page reloads and no decrypted text survives in it.
    s.click(&s.find("[data-testid=lock]", 5));
    s.find("[data-testid=passphrase]", 20);
    let leftover = s.exec(
        &format!("return document.documentElement.outerHTML.includes('{canary}') || document.documentElement.outerHTML.includes('Сенбай')"),
        json!([]),
    );
    assert_eq!(leftover, json!(false), "decrypted text survived the lock");
    // Going back (a mouse's back button, Alt+Left) must not bring the unlocked page back from
    // WebKit's back/forward cache (issue #10, item 16).
    s.exec("history.back(); return true;", json!([]));
    std::thread::sleep(Duration::from_secs(2));
    s.find("[data-testid=passphrase]", 20);
    let back = s.exec(
        &format!("return document.documentElement.outerHTML.includes('{canary}') || document.documentElement.outerHTML.includes('Сенбай')"),
        json!([]),
    );
    assert_eq!(
        back,
        json!(false),
        "going back after the lock showed decrypted text"
    );

    // Unlock, and find the person by a Latin spelling.
    s.unlock(PASS);
    s.type_text(&s.find("[data-testid=search]", 30), "Senbai");
    s.wait_for(
        "const h = document.querySelector('[data-testid=hits]'); return !!h && h.textContent.includes('Сенбай Нұрахен')",
        20,
        "the Latin spelling to find the Cyrillic name",
    );

    // The language switches without a restart (and the choice is kept for the next start).
    let export_label = |lang: &str| {
        s.exec(
            "const sel = document.querySelector('nav select'); sel.value = arguments[0]; sel.dispatchEvent(new Event('change', { bubbles: true })); return document.querySelector('[data-testid=nav-export]').textContent.trim();",
            json!([lang]),
        )
    };
    assert_eq!(export_label("en"), json!("Send to coordinators"));
    assert_eq!(export_label("ru"), json!("Отправить координаторам"));
    assert_eq!(export_label("kk"), json!("Үйлестірушілерге жіберу"));
}

/// A bundle to the coordinator key and a passphrase bundle; returns both paths.
fn exports(s: &Session, sb: &Sandbox) -> (String, String) {
    // Export to the coordinator key given at first run.
    s.click(&s.find("[data-testid=nav-export]", 5));
    s.find("[data-testid=recipients] li", 20);
    s.click(&s.find("[data-testid=export-run]", 5));
    let path = s.text(&s.find("[data-testid=export-path]", 120));
    assert!(path.ends_with(".kuager.age"), "{path}");
    assert!(path.starts_with(sb.home.to_str().unwrap()), "{path}");

    // The webview cannot say where a bundle goes: a folder it sends along is ignored (R9).
    let elsewhere = sb.outside.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let sneaked = s.exec_async(&format!(
        "const done = arguments[arguments.length - 1];\
         window.__TAURI_INTERNALS__.invoke('export_bundle', {{ request: {{ scope: 'all', extra_recipients: [], passphrase: null, folder: '{}' }} }})\
           .then((v) => done(v.files.length === 1 ? v.files[0].path : 'files: ' + v.files.length), (e) => done('refused ' + JSON.stringify(e)));",
        elsewhere.display()
    ));
    let sneaked = sneaked.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        Path::new(&sneaked).parent(),
        Path::new(&path).parent(),
        "a bundle went where the page said: {sneaked}"
    );
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);

    // A passphrase bundle, for someone without a key: only once the policy allows it, and
    // allowing it asks for the vault's passphrase again.
    s.click(&s.find("[data-testid=nav-settings]", 5));
    s.click(&s.find("[data-testid=policy-passphrase]", 20));
    s.type_text(&s.find("[data-testid=policy-pass]", 5), PASS);
    s.click(&s.find("[data-testid=policy-allow]", 5));
    s.wait_for(
        "const c = document.querySelector('[data-testid=policy-passphrase]'); return !!c && c.checked && !document.querySelector('[data-testid=policy-pass]')",
        30,
        "the policy to allow passphrase bundles",
    );
    s.click(&s.find("[data-testid=nav-export]", 5));
    s.click(&s.find("[data-testid=export-mode-passphrase]", 20));
    s.type_text(&s.find("[data-testid=export-pass1]", 5), BUNDLE_PASS);
    s.type_text(&s.find("[data-testid=export-pass2]", 5), BUNDLE_PASS);
    s.wait_for(
        "return !document.querySelector('[data-testid=export-run]').disabled",
        10,
        "the bundle passphrase to be accepted",
    );
    s.click(&s.find("[data-testid=export-run]", 5));
    s.wait_for(
        "const p = document.querySelector('[data-testid=export-path]'); return !!p && p.textContent.endsWith('.kuager.age')",
        120,
        "the passphrase bundle",
    );
    let pass_bundle = s.text(&s.find("[data-testid=export-path]", 5));
    assert_ne!(pass_bundle, path);

    (path, pass_bundle)
}

/// What the app wrote is read with tools we did not write: Go age and tar open both bundles
/// and the canary is inside.
fn bundles_open_with_go_age(
    sb: &Sandbox,
    key_file: &Path,
    bundles: &(String, String),
    canary: &str,
) {
    // Go age (with the age-keygen key) and tar read the bundle; the canary is inside.
    let tar = sb.outside.join("bundle.tar");
    let d = Command::new("age")
        .args(["-d", "-i"])
        .arg(key_file)
        .arg("-o")
        .arg(&tar)
        .arg(&bundles.0)
        .output()
        .unwrap();
    assert!(
        d.status.success(),
        "Go age: {}",
        String::from_utf8_lossy(&d.stderr)
    );
    let x = sb.outside.join("bundle");
    std::fs::create_dir_all(&x).unwrap();
    let t = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&x)
        .output()
        .unwrap();
    assert!(t.status.success());
    let records = std::fs::read_to_string(x.join("kuager-bundle/records.jsonl")).unwrap();
    assert!(
        records.contains(canary),
        "the narrative is not in the bundle"
    );
    assert!(records.contains("Сенбай Нұрахен"));
    // The attachment travels as an age file to the bundle's own key (format 2): Go age opens
    // it with `bundle.key`, and nothing of it is in plaintext in the archive.
    assert!(
        canary_hits(&x.join("kuager-bundle/blobs"), canary).is_empty(),
        "the attachment is in plaintext in the bundle"
    );
    let opened = std::fs::read_dir(x.join("kuager-bundle/blobs"))
        .unwrap()
        .flatten()
        .any(|f| {
            let o = Command::new("age")
                .arg("-d")
                .arg("-i")
                .arg(x.join("kuager-bundle/bundle.key"))
                .arg(f.path())
                .output()
                .unwrap();
            o.status.success() && String::from_utf8_lossy(&o.stdout).contains(canary)
        });
    assert!(opened, "the attachment is not in the bundle");

    // Go age opens the passphrase bundle with the passphrase typed on a terminal.
    let tar2 = sb.outside.join("pass-bundle.tar");
    let d = testkit::goage::decrypt_with_passphrase(Path::new(&bundles.1), &tar2, BUNDLE_PASS);
    assert!(
        d.status.success() && tar2.exists(),
        "Go age with the passphrase: {}",
        String::from_utf8_lossy(&d.stdout)
    );
    let listing = Command::new("tar").arg("-tf").arg(&tar2).output().unwrap();
    assert!(String::from_utf8_lossy(&listing.stdout).contains("kuager-bundle/records.jsonl"));
}

#[test]
fn caseworker_day_in_the_real_app_leaves_no_plaintext() {
    let sb = Sandbox::start();
    let canary = "E2E-CANARY-7f3a91";
    let (key_file, coordinator, audio) = coordinator_key_and_audio(&sb, canary);
    let s = sb.launch();
    first_run(&s, &coordinator);
    person_and_testimony(&s, canary, &audio);
    event_case_and_person_page(&s, canary);
    plugin_commands_are_refused(&s);
    new_keys_need_the_passphrase(&s, &testkit::goage::keygen().1);
    lock_unlock_search_and_language(&s, canary);
    let bundles = exports(&s, &sb);
    sb.assert_no_core_dumps();
    s.quit();
    sb.assert_no_network_calls();
    std::thread::sleep(Duration::from_secs(2));
    bundles_open_with_go_age(&sb, &key_file, &bundles, canary);

    // Nothing in plaintext anywhere the app could write (R1).
    for (what, dir) in [("$HOME", &sb.home), ("$TMPDIR", &sb.tmp)] {
        for c in [canary, "Сенбай Нұрахен"] {
            let hits = canary_hits(dir, c);
            assert!(hits.is_empty(), "{c} found in {what}: {hits:?}");
        }
    }
    let run = sb.dir.path().join("run");
    assert!(
        canary_hits(&run, canary).is_empty(),
        "canary in XDG_RUNTIME_DIR"
    );
}
