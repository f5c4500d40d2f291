//! Organisation profiles (docs/bundle-format.md "Organisation profile", docs/threat-model.md
//! "Organisation profiles"): a caseworker's vault loads the coordinator's profile and only
//! becomes stricter; a forged, altered, expired or replayed profile is refused and changes
//! nothing.

use std::path::Path;

use testkit::bundles::*;
use testkit::fixture::*;
use time::OffsetDateTime;
use vault::profile::{self, Coordinator, Policy, Profile};
use vault::{ProfileSpec, Vault};

/// A profile written by `v` (its passphrase confirmed first, as the vault asks).
fn written(spec: &ProfileSpec, v: &mut vault::Vault) -> Vec<u8> {
    let ok = testkit::fixture::confirmed(v);
    v.write_profile(spec, ok).unwrap()
}

fn spec(org: &Org, recovery: Option<String>, policy: Policy) -> ProfileSpec {
    ProfileSpec {
        organisation: "Атажұрт / Atajurt".into(),
        coordinators: vec![Coordinator {
            recipient: org.recipient.clone(),
            label: Some("coordinators".into()),
        }],
        recovery,
        policy,
        valid_days: 365,
    }
}

const STRICT: Policy = Policy {
    passphrase_bundles: false,
    max_autolock_minutes: 5,
};

/// Everything a profile may change, to compare before and after a refusal.
fn state(v: &Vault, dir: &Path) -> String {
    let s = v.settings().unwrap();
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        s,
        v.recipients().unwrap(),
        v.loaded_profile().unwrap(),
        vault::keys::recovery_slots(dir),
        v.audit().unwrap().len()
    )
}

fn fresh(t: &tempfile::TempDir, name: &str) -> (std::path::PathBuf, Vault) {
    let dir = t.path().join(name);
    let v = new_vault(&dir);
    (dir, v)
}

#[test]
fn a_loaded_profile_adds_the_coordinators_and_recovery_and_only_tightens_the_policy() {
    let mut org = coordinator();
    let recovery = age::x25519::Identity::generate();
    let bytes = written(
        &spec(&org, Some(recovery.to_public().to_string()), STRICT),
        &mut org.v,
    );
    let t = tempfile::tempdir().unwrap();
    let (dir, mut cw) = fresh(&t, "cw");
    let ok = confirmed(&mut cw);
    cw.set_passphrase_bundles(true, Some(ok)).unwrap();
    let opened = profile::open(&bytes, OffsetDateTime::now_utc()).unwrap();
    assert_eq!(
        opened.fingerprint,
        profile::fingerprint(&org.v.device_public_key().unwrap().minisign)
    );
    let ok = confirmed(&mut cw);
    cw.load_profile(&bytes, &fp(&bytes), ok).unwrap();
    let s = cw.settings().unwrap();
    assert!(
        !s.passphrase_bundles,
        "the profile forbids passphrase bundles"
    );
    assert_eq!(s.max_autolock_minutes, Some(5));
    let r = cw.recipients().unwrap();
    assert!(r
        .iter()
        .any(|e| e.recipient == org.recipient && e.label.as_deref() == Some("coordinators")));
    assert_eq!(
        cw.loaded_profile().unwrap().unwrap().profile.organisation,
        "Атажұрт / Atajurt"
    );
    // The recovery key opens the vault.
    drop(cw);
    let mut again = Vault::open(&dir).unwrap();
    again.unlock_with_recovery(&recovery).unwrap();
    assert!(again
        .audit()
        .unwrap()
        .iter()
        .any(|e| e.event["type"] == "profile_loaded"));

    // A later profile that allows more loosens nothing (a second later: two different
    // profiles of the same second are refused).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let loose = Policy {
        passphrase_bundles: true,
        max_autolock_minutes: 60,
    };
    let later = written(&spec(&org, None, loose), &mut org.v);
    let ok = confirmed(&mut again);
    again.load_profile(&later, &fp(&later), ok).unwrap();
    let s = again.settings().unwrap();
    assert!(!s.passphrase_bundles);
    assert_eq!(s.max_autolock_minutes, Some(5));
}

/// The fingerprint of a profile file's signer (what the coordinator reads aloud).
fn fp(bytes: &[u8]) -> String {
    profile::open(bytes, OffsetDateTime::now_utc())
        .unwrap()
        .fingerprint
}

/// `bytes`' profile with `f` applied, signed again by the coordinator: content no Kuager
/// writes, with a good signature.
fn signed(org: &Org, bytes: &[u8], f: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let file: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut p: serde_json::Value = serde_json::from_str(file["profile"].as_str().unwrap()).unwrap();
    f(&mut p);
    let text = serde_json::to_string_pretty(&p).unwrap() + "\n";
    let sig = org.v.sign(text.as_bytes(), "test").unwrap();
    serde_json::to_vec(&serde_json::json!({ "profile": text, "signature": sig })).unwrap()
}

/// A profile file with `f` applied to its signed content, the signature kept.
fn altered(bytes: &[u8], f: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let mut file: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut p: serde_json::Value = serde_json::from_str(file["profile"].as_str().unwrap()).unwrap();
    f(&mut p);
    file["profile"] = serde_json::to_string_pretty(&p).unwrap().into();
    serde_json::to_vec(&file).unwrap()
}

#[test]
fn forged_altered_expired_and_replayed_profiles_are_refused_and_change_nothing() {
    let mut org = coordinator();
    let t = tempfile::tempdir().unwrap();
    let good = written(&spec(&org, None, STRICT), &mut org.v);
    // Signed a year and a day ago, valid for a year.
    let past = OffsetDateTime::now_utc() - time::Duration::days(366);
    let expired_profile = Profile {
        format: profile::FORMAT.into(),
        version: profile::VERSION,
        organisation: "Atajurt".into(),
        issued_at: profile::rfc3339(past),
        expires_at: profile::rfc3339(past + time::Duration::days(365)),
        coordinators: vec![Coordinator {
            recipient: org.recipient.clone(),
            label: None,
        }],
        recovery: None,
        policy: STRICT,
        signer: org.v.device_public_key().unwrap().minisign,
    };
    let expired = profile::write(&expired_profile, past, |d| org.v.sign(d, "test")).unwrap();
    // The same organisation's name and a stranger's key, signed by the stranger.
    let (_, mut stranger) = fresh(&t, "stranger");
    let mut forged_spec = spec(&org, None, STRICT);
    forged_spec.coordinators[0].recipient =
        age::x25519::Identity::generate().to_public().to_string();
    let forged = written(&forged_spec, &mut stranger);
    let pq_like = altered(&good, |p| {
        p["coordinators"][0]["recipient"] = "age1pq1notakey".into()
    });

    // A caseworker that has loaded the good profile.
    let (dir, mut cw) = fresh(&t, "cw");
    let ok = confirmed(&mut cw);
    cw.load_profile(&good, &fp(&good), ok).unwrap();
    // An older profile from the same coordinator: written before `good`'s reload below.
    let older = good.clone();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let newer = written(&spec(&org, None, STRICT), &mut org.v);
    let ok = confirmed(&mut cw);
    cw.load_profile(&newer, &fp(&newer), ok).unwrap();

    // The right profile, and a fingerprint read wrong.
    {
        let before = state(&cw, &dir);
        let ok = confirmed(&mut cw);
        let e = cw
            .load_profile(&newer, "12345 12345 12345 12345 12345 12345", ok)
            .expect_err("a wrong fingerprint");
        assert!(e.to_string().contains("not this profile's"), "{e}");
        assert_eq!(state(&cw, &dir), before);
    }
    // The profile forbids passphrase bundles: the vault cannot allow them afterwards.
    let ok = confirmed(&mut cw);
    let e = cw
        .set_passphrase_bundles(true, Some(ok))
        .expect_err("allowed");
    assert!(e.to_string().contains("forbids"), "{e}");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "coordinator key swapped",
            altered(&good, |p| {
                p["coordinators"][0]["recipient"] =
                    forged_spec.coordinators[0].recipient.clone().into()
            }),
            "signature does not match",
        ),
        (
            "policy loosened",
            altered(&good, |p| p["policy"]["passphrase_bundles"] = true.into()),
            "signature does not match",
        ),
        ("expired", expired, "expired"),
        (
            "signed by a stranger",
            forged.clone(),
            "signed by another key",
        ),
        ("an older profile replayed", older, "older"),
        (
            "not a key, signed",
            signed(&org, &good, |p| {
                p["coordinators"][0]["recipient"] = "age1pq1notakey".into()
            }),
            "not an age X25519 key",
        ),
        (
            "a date of another form, signed",
            signed(&org, &good, |p| {
                p["issued_at"] = "2026-12-01T15:00:00.5+00:00".into()
            }),
            "not a date of the form",
        ),
        (
            "a name with a right-to-left override, signed",
            signed(&org, &good, |p| {
                p["organisation"] = "Atajurt\u{202E}dlrow".into()
            }),
            "without control characters",
        ),
        ("an altered copy", pq_like, "signature does not match"),
        (
            "not a profile",
            b"{\"format\":\"kuager-bundle\"}".to_vec(),
            "not an organisation profile",
        ),
        (
            "too large",
            vec![b' '; profile::MAX_FILE_BYTES + 1],
            "too large",
        ),
    ];
    for (name, bytes, reason) in cases {
        let before = state(&cw, &dir);
        let ok = confirmed(&mut cw);
        // The fingerprint the caseworker was read: the file's own where it has one (a
        // stranger who read theirs aloud), the real one otherwise.
        let given = profile::open(&bytes, OffsetDateTime::now_utc())
            .map(|o| o.fingerprint)
            .unwrap_or_else(|_| fp(&newer));
        let e = cw.load_profile(&bytes, &given, ok).expect_err(name);
        assert!(e.to_string().contains(reason), "{name}: {e}");
        assert_eq!(state(&cw, &dir), before, "{name} changed the vault");
    }

    // A caseworker with no profile yet can open the stranger's: only the fingerprint, read
    // aloud, tells it from the coordinator's.
    let opened = profile::open(&forged, OffsetDateTime::now_utc()).unwrap();
    let real = profile::open(&good, OffsetDateTime::now_utc()).unwrap();
    assert_ne!(opened.fingerprint, real.fingerprint);
    assert_eq!(opened.profile.organisation, real.profile.organisation);
}

#[test]
fn a_profile_checks_by_hand_with_minisign() {
    let mut org = coordinator();
    let bytes = written(&spec(&org, None, STRICT), &mut org.v);
    // What `jq -j .profile` and `jq -j .signature` write: the strings, nothing added.
    let file: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("p.json");
    std::fs::write(&p, file["profile"].as_str().unwrap()).unwrap();
    std::fs::write(
        t.path().join("p.json.minisig"),
        file["signature"].as_str().unwrap(),
    )
    .unwrap();
    let key = org.v.device_public_key().unwrap().minisign;
    let o = std::process::Command::new("minisign")
        .args(["-V", "-P", &key, "-m", p.to_str().unwrap()])
        .output()
        .expect("minisign is installed by packaging/linux/deps.sh");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
