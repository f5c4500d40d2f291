//! Organisation profiles in the real app (issue #12): a coordinator creates the organisation
//! identity and writes a profile on the Organisation screen; a caseworker's first run refuses
//! an altered, an expired and a forged profile — nothing is created for any of them — and
//! loads the coordinator's after typing the fingerprint read from the coordinator's screen.
//! The caseworker's vault then exports to the coordinator's key, forbids passphrase bundles and
//! locks within the profile's limit (docs/threat-model.md "Organisation profiles").

use std::path::{Path, PathBuf};

use e2e::{App, Sandbox, Session, Steps};
use serde_json::json;
use testkit::fixture::{new_vault, PASS};
use vault::profile::{self, Coordinator, Policy, Profile};

const ORG: &str = "Atajurt Kazakh Human Rights";
const CASEWORKER_PASS: &str = "harbour thistle copper ninety lantern";

fn vault_dir(sb: &Sandbox) -> PathBuf {
    sb.home.join(".local/share/kuager/default")
}

/// The coordinator, in the app: the organisation identity, then a profile that forbids
/// passphrase bundles and allows 5 idle minutes. Returns the profile file, the identity's
/// key and the fingerprint the screen shows to be read aloud.
fn coordinator_writes_a_profile(sb: &Sandbox) -> (PathBuf, String, String) {
    drop(new_vault(&vault_dir(sb)));
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-organisation]", 60));
    s.wait_for(
        "return !!document.querySelector('[data-testid=org-identity-label]')",
        20,
        "the Organisation screen",
    );
    s.type_text(
        &s.find("[data-testid=org-identity-label]", 5),
        "coordinators",
    );
    s.click(&s.find("[data-testid=org-identity-new]", 5));
    let identity = s.text(&s.find("[data-testid=org-identities] code", 20));
    assert!(
        identity.starts_with("age1"),
        "the identity shown: {identity}"
    );
    s.type_text(&s.find("[data-testid=org-name]", 5), ORG);
    let minutes = s.find("[data-testid=org-write] input[type=number]", 5);
    s.clear(&minutes);
    s.type_text(&minutes, "5");
    s.type_text(&s.find("[data-testid=org-write-pass]", 5), PASS);
    s.click(&s.find("[data-testid=org-write-button]", 5));
    let written = s.text(&s.find("[data-testid=org-written]", 30));
    let shown = s.text(&s.find("[data-testid=org-fingerprint]", 5));
    s.quit();
    sb.assert_no_network_calls();

    // The folder bundles go to: Documents/Kuager, or Kuager in the home folder where the
    // system names no documents folder (as in this sandbox).
    let files: Vec<PathBuf> = [sb.home.join("Documents/Kuager"), sb.home.join("Kuager")]
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = files[0].clone();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("organisation-") && name.ends_with(".kuager-profile"),
        "{name}"
    );
    assert!(written.contains(&name), "the screen says: {written}");
    // What the screen shows to read aloud is the file's signer.
    let opened = profile::open(
        &std::fs::read(&file).unwrap(),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let fingerprint = normal(&shown);
    assert_eq!(normal(&opened.fingerprint), fingerprint);
    assert!(written.contains(&opened.fingerprint), "{written}");
    assert_eq!(opened.profile.organisation, ORG);
    assert_eq!(opened.profile.coordinators[0].recipient, identity);
    assert_eq!(
        opened.profile.policy,
        Policy {
            passphrase_bundles: false,
            max_autolock_minutes: 5
        }
    );
    (file, identity, fingerprint)
}

fn normal(fingerprint: &str) -> String {
    fingerprint.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Bad copies: the organisation's name changed in the signed text; one signed by the
/// coordinator's key a year ago and expired; one that says the same but is signed by a
/// stranger's key (valid in itself: only the fingerprint tells).
fn bad_profiles(sb: &Sandbox, good: &Path, coordinator: &Path) -> [(PathBuf, &'static str); 3] {
    let bytes = std::fs::read(good).unwrap();
    let mut file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let text = file["profile"].as_str().unwrap().replace(ORG, "Atajurt");
    file["profile"] = json!(text);
    let altered = sb.outside.join("altered.kuager-profile");
    std::fs::write(&altered, serde_json::to_vec_pretty(&file).unwrap()).unwrap();

    let now = time::OffsetDateTime::now_utc();
    let real = profile::open(&bytes, now).unwrap().profile;
    let past = now - time::Duration::days(400);
    let old = Profile {
        issued_at: profile::rfc3339(past),
        expires_at: profile::rfc3339(past + time::Duration::days(365)),
        ..real.clone()
    };
    let mut v = vault::Vault::open(coordinator).unwrap();
    v.unlock(&testkit::fixture::pass()).unwrap();
    let expired = sb.outside.join("expired.kuager-profile");
    std::fs::write(
        &expired,
        profile::write(&old, past, |d| v.sign(d, "test")).unwrap(),
    )
    .unwrap();

    let stranger_dir = tempfile::tempdir().unwrap();
    let stranger = new_vault(&stranger_dir.path().join("v"));
    let key = stranger.device_public_key().unwrap().minisign;
    let fake = Profile {
        coordinators: vec![Coordinator {
            recipient: age_recipient(),
            label: Some("coordinators".into()),
        }],
        signer: key,
        ..real
    };
    let forged = sb.outside.join("forged.kuager-profile");
    std::fs::write(
        &forged,
        profile::write(&fake, now, |d| stranger.sign(d, "test")).unwrap(),
    )
    .unwrap();
    [
        (altered, "altered"),
        (expired, "expired"),
        (forged, "forged"),
    ]
}

fn age_recipient() -> String {
    let out = std::process::Command::new("age-keygen").output().unwrap();
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .unwrap()
        .to_owned()
}

/// The first run with a profile file picked, the fingerprint typed, and a strong passphrase.
fn first_run_with(s: &Session, file: &Path, fingerprint: &str) {
    s.type_text(
        &s.find("[data-testid=profile-file]", 60),
        file.to_str().unwrap(),
    );
    s.wait_for(
        "return !!document.querySelector('[data-testid=profile-view], [data-testid=profile-error]')",
        20,
        "the profile to be read",
    );
    if s.find_all("[data-testid=profile-typed]").is_empty() {
        return;
    }
    s.type_text(&s.find("[data-testid=profile-typed]", 5), fingerprint);
    let pass1 = s.find("[data-testid=pass1]", 5);
    s.clear(&pass1);
    s.type_text(&pass1, CASEWORKER_PASS);
    let pass2 = s.find("[data-testid=pass2]", 5);
    s.clear(&pass2);
    s.type_text(&pass2, CASEWORKER_PASS);
    s.wait_for(
        "return !document.querySelector('[data-testid=create]').disabled",
        10,
        "the form to be complete",
    );
    s.click(&s.find("[data-testid=create]", 5));
}

#[test]
fn a_caseworker_loads_the_coordinators_profile_and_refuses_forged_altered_and_expired_ones() {
    let coordinator = Sandbox::start();
    let (good, identity, fingerprint) = coordinator_writes_a_profile(&coordinator);
    let bad = bad_profiles(&coordinator, &good, &vault_dir(&coordinator));

    let sb = Sandbox::start();
    let config = sb.home.join(".config/kuager/app.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"language":"en","autolock_minutes":30}"#).unwrap();
    let s = sb.launch();
    s.find("[data-testid=pass1]", 60);
    for (file, what) in &bad {
        first_run_with(&s, file, &fingerprint);
        let why = match *what {
            "altered" => "altered after it was signed",
            "expired" => "expired",
            _ => "not this profile's",
        };
        let alerts = "return [...document.querySelectorAll('.error[role=alert]')].map((e) => e.textContent).join(' ')";
        s.wait_for(
            &format!(
                "return [...document.querySelectorAll('.error[role=alert]')].some((e) => e.textContent.includes({}))",
                json!(why)
            ),
            60,
            &format!("the {what} profile to be refused"),
        );
        let said = s.exec(alerts, json!([]));
        let said = said.as_str().unwrap_or_default().to_owned();
        eprintln!("{what}: {said}");
        assert!(
            said.contains("was refused") && said.contains(why),
            "the {what} profile: {said}"
        );
        assert!(
            !vault_dir(&sb).exists(),
            "a vault was created with the {what} profile"
        );
    }

    first_run_with(&s, &good, &fingerprint);
    s.find("[data-testid=new-person]", 60);
    s.click(&s.find("[data-testid=nav-organisation]", 5));
    let shown = s.text(&s.find("[data-testid=profile-view]", 20));
    assert!(
        shown.contains(ORG) && shown.contains(&fingerprint),
        "{shown}"
    );
    s.click(&s.find("[data-testid=nav-settings]", 5));
    let limit = s.text(&s.find("[data-testid=autolock-limit]", 20));
    assert!(limit.contains('5'), "{limit}");
    let policy = s.exec(
        "return document.querySelector('[data-testid=policy-passphrase]').checked",
        json!([]),
    );
    assert_eq!(policy, json!(false));
    s.quit();
    sb.assert_no_network_calls();

    // The vault itself: the coordinator's key, the limit, the profile kept.
    let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
    v.unlock(&vault::Passphrase::new(CASEWORKER_PASS.into()))
        .unwrap();
    let keys: Vec<String> = v
        .recipients()
        .unwrap()
        .into_iter()
        .map(|r| r.recipient)
        .collect();
    assert_eq!(keys, [identity]);
    let settings = v.settings().unwrap();
    assert_eq!(settings.max_autolock_minutes, Some(5));
    assert!(!settings.passphrase_bundles);
    let loaded = v.loaded_profile().unwrap().unwrap();
    assert_eq!(normal(&loaded.fingerprint), fingerprint);
}
