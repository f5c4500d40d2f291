//! `make screenshots`: PNGs of the main screens in Kazakh, Russian and English, taken in the
//! real app under Xvfb, into the folder given (docs/screenshots): a caseworker's, then a
//! coordinator's (organisation, bundles received, devices, conflicts, a duplicate person), then
//! evidence out (dashboards, the follow-up list, a partner's preview), then an interview being
//! recorded and its recording played beside the transcript.

use std::path::{Path, PathBuf};

use e2e::{coordinator_sandbox, vault_dir, App, Sandbox, Session, Steps};
use serde_json::json;
use testkit::bundles::export;
use testkit::fixture::{confirmed, new_vault};
use vault::bundle::ExportScope;
use vault::{Kind, Vault};

const PASS: &str = "river lantern orchard violet seventy";

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/screenshots".into()),
    );
    std::fs::create_dir_all(&out).unwrap();
    // One app session per language: WebKitWebDriver's snapshot stops answering after a
    // handful of screenshots in one session.
    // `screenshots DIR caseworker|coordinator|evidence|recording` takes one set only.
    let only = std::env::args().nth(2);
    let wanted = |set: &str| only.as_deref().is_none_or(|o| o == set);
    for lang in ["kk", "ru", "en"] {
        if wanted("caseworker") {
            session(&out, lang);
        }
        if wanted("coordinator") {
            coordinator(&out, lang);
        }
        if wanted("evidence") {
            evidence(&out, lang);
        }
        if wanted("recording") {
            recording(&out, lang);
        }
    }
}

/// Saves a screenshot as `NAME-LANG.png`. WebKitWebDriver's snapshot fails on some pages (and
/// tires after a handful in one session); then the app's window is captured from the X display
/// instead (`xdotool` finds it, ImageMagick's `import` takes the display and cuts it out).
fn save_shot(s: &Session, sb: &Sandbox, out: &Path, name: &str, lang: &str) {
    std::thread::sleep(std::time::Duration::from_millis(600));
    let png = s.try_screenshot().or_else(|| {
        let run = |cmd: &str, args: &[&str]| {
            let x = std::process::Command::new(cmd)
                .args(args)
                .env("DISPLAY", &sb.display)
                .output()
                .ok()?;
            (x.status.success() && !x.stdout.is_empty()).then_some(x.stdout)
        };
        // The whole display, cut to the window (the window alone comes out black).
        let window = run("xdotool", &["search", "--onlyvisible", "--name", "Kuager"])?;
        let window = String::from_utf8_lossy(&window).lines().next()?.to_owned();
        let geometry = run("xdotool", &["getwindowgeometry", "--shell", &window])?;
        let geometry = String::from_utf8_lossy(&geometry).into_owned();
        let get = |k: &str| {
            geometry
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")))
                .map(str::to_owned)
        };
        let crop = format!(
            "{}x{}+{}+{}",
            get("WIDTH")?,
            get("HEIGHT")?,
            get("X")?,
            get("Y")?
        );
        run("import", &["-window", "root", "-crop", &crop, "png:-"])
    });
    match png {
        Some(png) => {
            std::fs::write(out.join(format!("{name}-{lang}.png")), png).unwrap();
            eprintln!("screenshots: {name}-{lang}.png");
        }
        None => eprintln!("screenshots: {name}-{lang}.png: no snapshot, no X capture"),
    }
}

/// A caseworker's vault at `dir` that sends to the organisation, trusted by `org` as `label`.
fn caseworker(org: &mut Vault, recipient: &str, dir: &Path, label: &str) -> Vault {
    let mut v = new_vault(dir);
    let ok = confirmed(&mut v);
    v.add_recipient(&recipient.parse().unwrap(), Some("organisation"), ok)
        .unwrap();
    org.trust_device(&v.device_public_key().unwrap().minisign, label)
        .unwrap();
    v
}

fn add(v: &mut Vault, kind: Kind, json: serde_json::Value) -> vault::RecordId {
    v.add(kind, json.to_string().as_bytes()).unwrap().record
}

/// A coordinator's vault as two caseworkers' bundles leave it: one testimony edited on both
/// sides (a conflict), one witness entered by each in another script (a suggestion), and a
/// third device's bundle waiting in `outside/` to be received.
fn coordinator_vault(sb: &Sandbox, recipient: &str) -> PathBuf {
    let mut org = Vault::open(&vault_dir(sb)).unwrap();
    org.unlock(&testkit::fixture::pass()).unwrap();
    let base = sb.outside.join("caseworkers");
    let mut almaty = caseworker(&mut org, recipient, &base.join("almaty"), "Almaty laptop");
    let mut astana = caseworker(&mut org, recipient, &base.join("astana"), "Astana laptop");
    let senbay = add(
        &mut almaty,
        Kind::Person,
        json!({"names": [{"value": "Сенбай Нұрахен"}, {"value": "Senbay Nurakhen"}], "date_of_birth": "1969",
            "documents": [{"type": "kz-id-card", "number": "041234567"}]}),
    );
    let told = add(
        &mut almaty,
        Kind::Testimony,
        json!({"witness": senbay, "narrative": "In 2018 I was taken from Ghulja to a building they called a school.",
            "languages": ["kk"], "place": "Almaty", "consent": {"given": true, "scope": "internal"}}),
    );
    add(
        &mut astana,
        Kind::Person,
        json!({"names": [{"value": "Senbai Nurakhen"}], "date_of_birth": "1969-03-02",
            "contact": {"phones": ["+7 702 000 0000"]}}),
    );
    add(
        &mut astana,
        Kind::Person,
        json!({"names": [{"value": "Айгерім Сейтқали"}, {"value": "Aigerim Seitkali"}]}),
    );
    for (cw, n) in [(&mut almaty, "1"), (&mut astana, "2")] {
        let b = export(cw, ExportScope::SinceLast, &base.join(n));
        org.import(&b, &Default::default()).unwrap();
    }
    // The testimony, reviewed at the office and corrected on the laptop from the same version.
    let head = org.get(told).unwrap().heads.pop().unwrap();
    let mut office = head.data.clone().unwrap();
    office["status"] = json!("reviewed");
    office["place"] = json!("Almaty, the office");
    org.edit(told, office.to_string().as_bytes(), None, false)
        .unwrap();
    let mut laptop = almaty.get(told).unwrap().heads.pop().unwrap().data.unwrap();
    laptop["narrative"] =
        json!("In April 2018 I was taken from Ghulja to a building they called a school.");
    almaty
        .edit(told, laptop.to_string().as_bytes(), None, false)
        .unwrap();
    let b = export(&mut almaty, ExportScope::SinceLast, &base.join("3"));
    org.import(&b, &Default::default()).unwrap();
    // A device the office does not know yet.
    let mut new = new_vault(&base.join("new"));
    let ok = confirmed(&mut new);
    new.add_recipient(&recipient.parse().unwrap(), Some("organisation"), ok)
        .unwrap();
    add(
        &mut new,
        Kind::Person,
        json!({"names": [{"value": "Нұрлан Сенбайұлы"}]}),
    );
    let b = export(&mut new, ExportScope::SinceLast, &base.join("4"));
    let waiting = sb.outside.join("from-a-new-laptop.age");
    std::fs::copy(b, &waiting).unwrap();
    waiting
}

/// A coordinator's sandbox whose app speaks `lang`.
fn coordinator_in(lang: &str) -> (Sandbox, age::x25519::Identity) {
    let (sb, identity) = coordinator_sandbox();
    std::fs::write(
        sb.home.join(".config/kuager/app.json"),
        format!(r#"{{"language":"{lang}","autolock_minutes":30}}"#),
    )
    .unwrap();
    (sb, identity)
}

/// The coordinator's screens, in `lang`.
fn coordinator(out: &Path, lang: &str) {
    let (sb, identity) = coordinator_in(lang);
    let waiting = coordinator_vault(&sb, &identity.to_public().to_string());
    let pass = testkit::fixture::PASS;

    let s = sb.launch();
    s.unlock(pass);
    s.click(&s.find("[data-testid=nav-organisation]", 60));
    s.find("[data-testid=org-fingerprint]", 20);
    save_shot(&s, &sb, out, "organisation", lang);
    s.click(&s.find("[data-testid=nav-receive]", 5));
    s.type_text(
        &s.find("[data-testid=receive-files]", 20),
        waiting.to_str().unwrap(),
    );
    s.wait_for(
        "const c = document.querySelector('[data-testid=bundle-card]'); return !!c && !['copying', 'reviewing'].includes(c.dataset.status)",
        60,
        "the bundle to be reviewed",
    );
    save_shot(&s, &sb, out, "receive", lang);
    s.click(&s.find("[data-testid=nav-devices]", 5));
    s.find("[data-testid=device-row]", 20);
    save_shot(&s, &sb, out, "devices", lang);
    s.quit();

    std::thread::sleep(std::time::Duration::from_secs(1));
    let s = sb.launch();
    s.unlock(pass);
    s.click(&s.find("[data-testid=nav-conflicts]", 60));
    s.find("[data-testid=conflict-row]", 20);
    save_shot(&s, &sb, out, "conflicts", lang);
    s.click(&s.find("[data-testid=conflict-row]", 5));
    s.find("[data-testid=resolve-table]", 20);
    save_shot(&s, &sb, out, "resolve", lang);
    s.click(&s.find("[data-testid=nav-people]", 5));
    s.wait_for(
        "const r = [...document.querySelectorAll('.viewport button.row')].find((b) => b.textContent.includes('Сенбай')); if (r) r.click(); return !!r;",
        20,
        "Сенбай Нұрахен in the people list",
    );
    s.click(&s.find("[data-testid=suggested-person] [data-testid=merge]", 20));
    s.find("[data-testid=merge-confirm]", 5);
    s.exec(
        "document.querySelector('[data-testid=suggested]').scrollIntoView(); return true;",
        json!([]),
    );
    save_shot(&s, &sb, out, "duplicates", lang);
    s.quit();
}

fn session(out: &std::path::Path, lang: &str) {
    let sb = Sandbox::start();
    let s = sb.launch();
    let shot = |name: &str| save_shot(&s, &sb, out, name, lang);
    let p1 = s.find("[data-testid=pass1]", 60);
    s.exec(
        "const sel = document.querySelector('form select'); sel.value = arguments[0]; sel.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([lang]),
    );
    shot("first-run");
    s.type_text(&p1, PASS);
    s.type_text(&s.find("[data-testid=pass2]", 5), PASS);
    s.wait_for(
        "return !document.querySelector('[data-testid=create]').disabled",
        10,
        "the passphrase check",
    );
    s.click(&s.find("[data-testid=create]", 5));

    // A few records, names in several scripts.
    let person = |names: &[&str]| {
        s.click(&s.find("[data-testid=nav-home]", 30));
        s.click(&s.find("[data-testid=new-person]", 10));
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                s.click(&s.find("[data-testid=add-name]", 5));
            }
            let inputs = s.find_all("[data-testid=name-value]");
            s.type_text(&inputs[i], n);
        }
        s.click(&s.find("[data-testid=save]", 5));
        s.find("[data-testid=person-new-testimony]", 20);
    };
    person(&["Айгерім Сейтқали", "Aigerim Seitkali"]);
    person(&[
        "Абдурахман Тохти",
        "ئابدۇراخمان توختى",
        "阿不都热合曼·托合提",
    ]);
    person(&["Сенбай Нұрахен", "Senbay Nurakhen"]);
    s.click(&s.find("[data-testid=person-new-testimony]", 5));
    s.wait_for(
        "return !!document.querySelector('[data-testid=witness-name]')",
        20,
        "the witness",
    );
    s.click(&s.find("[data-testid=consent-given]", 5));
    s.type_text(
        &s.find("[data-testid=narrative]", 5),
        "In 2018 I was taken from my home in Ghulja to a building the officials called a school. We were forty in one room…",
    );
    s.click(&s.find("[data-testid=save]", 5));
    s.find("[data-testid=attach-input]", 20);
    shot("testimony");
    s.click(&s.find("[data-testid=nav-home]", 5));
    s.type_text(&s.find("[data-testid=search]", 5), "Senbai");
    s.wait_for("const h = document.querySelector('[data-testid=hits]'); return !!h && h.textContent.includes('Сенбай')", 10, "search");
    shot("search");
    s.click(&s.find("[data-testid=nav-people]", 5));
    shot("people");
    s.quit();

    // A second start of the app on the same vault (the snapshot tires within one session).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let s = sb.launch();
    let shot = |name: &str| save_shot(&s, &sb, out, name, lang);
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-cases]", 30));
    s.click(&s.find("[data-testid=new-case]", 10));
    s.case_with_person_and_testimony("Senbay");
    shot("case");
    let key = std::process::Command::new("age-keygen").output().unwrap();
    let public = String::from_utf8_lossy(&key.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .unwrap_or_default()
        .to_owned();
    s.click(&s.find("[data-testid=nav-export]", 5));
    s.type_text(&s.find("[data-testid=recipient-key]", 10), &public);
    s.click(&s.find("[data-testid=recipient-add]", 5));
    s.find("[data-testid=recipients] li", 10);
    shot("export");
    s.quit();
}

/// A coordinator's vault with a year of work in it: 60 people, their testimonies (some with
/// consent for partners, one witness to be anonymised) and renunciation attempts spread over
/// channels, outcomes and years; and a partner organisation.
fn evidence_vault(sb: &Sandbox) {
    let mut v = Vault::open(&vault_dir(sb)).unwrap();
    v.unlock(&testkit::fixture::pass()).unwrap();
    const NAMES: [&str; 10] = [
        "Айгерім Сейтқали",
        "Senbay Nurakhen",
        "Гүлнар Телібай",
        "Nurlan Kokteubai",
        "Бақытжан Әбдірахман",
        "Zhanar Sultan",
        "Ерлан Қабдеш",
        "Dina Nurdaulet",
        "Қайрат Сәмет",
        "Aliya Turdakhun",
    ];
    const CHANNELS: [&str; 4] = ["consulate-almaty", "embassy-astana", "mail", "via-lawyer"];
    const OUTCOMES: [Option<&str>; 5] = [
        None,
        Some("no-response"),
        Some("refused"),
        Some("accepted"),
        Some("told-to-return-to-china"),
    ];
    const EVENTS: [&str; 5] = [
        "camp",
        "detention",
        "passport-confiscation",
        "disappearance",
        "forced-labour",
    ];
    const PLACES: [&str; 5] = ["Ghulja", "Ürümqi", "Tacheng", "Altay", "Kashgar"];
    let mut seed: u64 = 20_261_202;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) as usize) % n
    };
    let today = time::OffsetDateTime::now_utc().date();
    for i in 0..60 {
        let name = format!("{} {}", NAMES[i % NAMES.len()], i / NAMES.len() + 1);
        let p = add(
            &mut v,
            Kind::Person,
            json!({"names": [{"value": name}], "anonymise_in_exports_to_partners": i == 3,
            "contact": {"phones": ["+7 700 000 0000"]}}),
        );
        let scope = [
            "partner-orgs",
            "internal",
            "publish-anonymised",
            "publish-named",
        ][next(4)];
        add(
            &mut v,
            Kind::Testimony,
            json!({"witness": p, "narrative": "…", "consent": {"given": true, "scope": scope},
            "events": [{"type": EVENTS[next(EVENTS.len())], "from": format!("{}", 2017 + next(4)), "place": PLACES[next(PLACES.len())],
                "facility": format!("Camp No. {}", 1 + next(6))}]}),
        );
        for k in 0..1 + next(3) {
            let days = 30 + next(1_300) + 200 * k;
            let submitted = (today - time::Duration::days(days as i64)).to_string();
            let mut a = json!({"person": p, "submitted_on": submitted, "channel": CHANNELS[next(CHANNELS.len())],
                "request": "renounce-prc-citizenship"});
            if let Some(o) = OUTCOMES[next(OUTCOMES.len())] {
                a["outcome"] = json!(o);
            }
            add(&mut v, Kind::Attempt, a);
        }
    }
    let key = std::process::Command::new("age-keygen").output().unwrap();
    let public = String::from_utf8_lossy(&key.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .unwrap_or_default()
        .to_owned();
    let ok = confirmed(&mut v);
    v.add_partner(&public.parse().unwrap(), "UN WGEID", ok)
        .unwrap();
}

/// Dashboards, the follow-up list and a partner's preview, in `lang`.
fn evidence(out: &Path, lang: &str) {
    let (sb, _) = coordinator_in(lang);
    evidence_vault(&sb);
    let s = sb.launch();
    s.unlock(testkit::fixture::PASS);
    s.click(&s.find("[data-testid=nav-dashboards]", 60));
    s.find("[data-testid=charts-ready]", 20);
    save_shot(&s, &sb, out, "dashboard-attempts", lang);
    s.click(&s.find("[data-testid=dash-tab-testimonies]", 5));
    s.find("[data-testid=charts-ready]", 20);
    save_shot(&s, &sb, out, "dashboard-testimonies", lang);
    s.click(&s.find("[data-testid=dash-tab-follow-up]", 5));
    s.find("[data-testid=follow-up]", 20);
    save_shot(&s, &sb, out, "follow-up", lang);
    s.click(&s.find("[data-testid=dash-tab-attempts]", 5));
    s.find("[data-testid=charts-ready]", 20);
    s.click(&s.find(
        "[data-testid=chart-outcomes-by-channel] [data-testid=chart-save]",
        5,
    ));
    s.find("[data-testid=counts-preview]", 20);
    save_shot(&s, &sb, out, "save-counts", lang);
    s.quit();
    std::thread::sleep(std::time::Duration::from_secs(1));
    let s = sb.launch();
    s.unlock(testkit::fixture::PASS);
    s.click(&s.find("[data-testid=nav-partners]", 60));
    s.click(&s.find("[data-testid=partner-preview]", 20));
    s.find("[data-testid=partner-preview-result]", 30);
    save_shot(&s, &sb, out, "partner-preview", lang);
    s.quit();
}

/// An interview being recorded (level, time, a marker), then its recording played beside the
/// transcript with its fingerprint and custody shown (issue #14). The microphone hears a
/// PulseAudio room of its own into which espeak-ng speaks.
fn recording(out: &Path, lang: &str) {
    let sb = Sandbox::start();
    let config = sb.home.join(".config/kuager/app.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        json!({"language": lang, "autolock_minutes": 30}).to_string(),
    )
    .unwrap();
    let sound = testkit::sound::Sound::start(&sb.outside.join("sound"));
    let wav = sb.outside.join("speech.wav");
    testkit::sound::speech(
        &wav,
        "They took my father in twenty eighteen. We wrote to the consulate four times.",
    );
    {
        let mut v = new_vault(&vault_dir(&sb));
        let p = add(
            &mut v,
            Kind::Person,
            json!({"names": [{"value": "Гүлнар Телібай"}, {"value": "Gulnar Telibai"}]}),
        );
        add(
            &mut v,
            Kind::Testimony,
            json!({"witness": p, "narrative": "Әкемді 2018 жылы алып кетті.", "languages": ["kk"],
                   "consent": {"given": true, "scope": "internal", "recorded_how": "audio"}}),
        );
    }
    let app = e2e::launcher(
        &sb,
        "kuager-app-with-sound",
        &format!("env PULSE_SERVER={}", sound.server()),
    );
    let s = sb.launch_binary(&app);
    s.unlock(testkit::fixture::PASS);
    s.click(&s.find("[data-testid=nav-testimonies]", 60));
    s.click(&s.find(".list-screen button.row", 20));
    s.find("[data-testid=record]", 30);
    s.wait_for(
        "return !document.querySelector('[data-testid=record]').disabled",
        30,
        "the microphones are listed",
    );
    s.click(&s.find("[data-testid=record]", 5));
    s.find("[data-testid=recording]", 20);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let mut talk = sound.play(&wav);
    std::thread::sleep(std::time::Duration::from_secs(1));
    s.type_text(&s.find("[data-testid=mark-note]", 5), "консулдық");
    s.click(&s.find("[data-testid=mark]", 5));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.exec(
        "document.querySelector('[data-testid=recorder]').scrollIntoView()",
        json!([]),
    );
    save_shot(&s, &sb, out, "recording", lang);
    let _ = talk.wait();
    s.click(&s.find("[data-testid=stop]", 5));
    s.click(&s.find("[data-testid=transcribe]", 30));
    s.find("[data-testid=player]", 20);
    s.type_text(
        &s.find("[data-testid=transcript]", 5),
        "[0:03] Әкемді 2018 жылы алып кетті. Консулдыққа төрт рет хат жаздық.",
    );
    s.exec(
        "document.querySelector('[data-testid=custody]').open = true; document.querySelector('[data-testid=transcript-section]').scrollIntoView()",
        json!([]),
    );
    save_shot(&s, &sb, out, "transcribe", lang);
    s.quit();
}
