//! The coordinator's devices and a bundle's review (issue #12): each trusted device with what
//! it sent; a revoked device's later bundles refused — even when asked to trust their signer —
//! while what it sent before stays; an import shows its progress and can be cancelled without
//! writing anything; a refusal says why as a closed set the app translates.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::{ExportScope, ImportOptions};
use vault::{Error, RejectReason};

fn reason(e: &Error) -> Option<RejectReason> {
    match e {
        Error::Rejected(r) => Some(r.reason),
        _ => None,
    }
}

#[test]
fn a_revoked_devices_later_bundles_are_refused_and_its_earlier_imports_stay() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "Almaty laptop");
    let p = add_person(&mut cw, "Сенбай Нұрахен");
    add_testimony(&mut cw, p, "held in the camp near Ghulja");
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    let r = org.v.import(&first, &Default::default()).unwrap();
    assert_eq!(r.new_records, 2);

    let devices = org.v.devices().unwrap();
    assert_eq!(devices.len(), 1);
    let d = &devices[0];
    assert_eq!(
        (
            d.label.as_str(),
            d.bundles,
            d.records,
            d.revoked_at.is_none()
        ),
        ("Almaty laptop", 1, 2, true)
    );
    assert!(d.first_import.is_some() && d.first_import == d.last_import);

    org.v
        .rename_device(&d.public_key, "Almaty laptop (Aigerim)")
        .unwrap();
    assert_eq!(org.v.devices().unwrap()[0].label, "Almaty laptop (Aigerim)");

    add_person(&mut cw, "Нұрлан Сенбай");
    let later = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    org.v.untrust_device("Almaty laptop (Aigerim)").unwrap();
    let before = snapshot(&org);
    for trust in [None, Some("trusted again".to_owned())] {
        let opts = ImportOptions {
            trust_signer: trust.clone(),
            ..Default::default()
        };
        for (what, res) in [
            ("inspect", org.v.inspect(&later, &opts)),
            ("import", org.v.import(&later, &opts)),
        ] {
            let e = res.expect_err(what);
            assert_eq!(
                reason(&e),
                Some(RejectReason::Revoked),
                "{what} {trust:?}: {e}"
            );
            assert!(e.to_string().contains("revoked on"), "{e}");
        }
    }
    assert_eq!(snapshot(&org), before, "a refused bundle changed the vault");
    // What it sent before stays, and the device is listed as revoked with it.
    assert!(org.v.get(p).is_ok());
    let d = &org.v.devices().unwrap()[0];
    assert!(d.revoked_at.is_some() && d.bundles == 1, "{d:?}");
    assert!(org.v.trusted_devices().unwrap().is_empty());
    // Its key cannot be trusted again, nor renamed.
    let key = cw.device_public_key().unwrap().minisign;
    let e = org.v.trust_device(&key, "new name").unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    assert!(org.v.rename_device(&key, "x").is_err());
    let events: Vec<String> = org
        .v
        .audit()
        .unwrap()
        .iter()
        .map(|e| e.event["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(events.iter().any(|e| e == "device_revoked"), "{events:?}");
    assert!(events.iter().any(|e| e == "device_renamed"), "{events:?}");
}

#[test]
fn an_import_reports_its_progress_and_a_cancelled_one_writes_nothing() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай Нұрахен");
    let tid = add_testimony(&mut cw, p, "told in Almaty");
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    cw.attach(tid, &payload[..], Default::default()).unwrap();
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let size = std::fs::metadata(&bundle).unwrap().len();

    let before = snapshot(&org);
    let cancel = Arc::new(AtomicBool::new(true));
    let opts = ImportOptions {
        cancel: Some(cancel.clone()),
        ..Default::default()
    };
    let e = org.v.import(&bundle, &opts).unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(snapshot(&org), before);
    let audit = org.v.audit().unwrap();
    assert!(
        !audit.iter().any(|e| e.event["type"] == "bundle_rejected"),
        "a cancel is not a refusal"
    );

    let progress = Arc::new(AtomicU64::new(0));
    cancel.store(false, Ordering::Relaxed);
    let opts = ImportOptions {
        cancel: Some(cancel),
        progress: Some(progress.clone()),
        ..Default::default()
    };
    let r = org.v.import(&bundle, &opts).unwrap();
    assert_eq!(r.new_blobs, 1);
    assert_eq!(
        progress.load(Ordering::Relaxed),
        size,
        "read the whole file"
    );
}

#[test]
fn a_review_counts_purges_and_refusals_say_why() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай Нұрахен");
    let tid = add_testimony(&mut cw, p, "held in the camp near Ghulja");
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    org.v.import(&first, &Default::default()).unwrap();
    cw.purge(tid, "the witness withdrew consent").unwrap();
    let purge = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    let review = org.v.inspect(&purge, &Default::default()).unwrap();
    assert_eq!((review.purged_records, review.changed_records), (1, 1));
    assert!(!review.committed);

    // Not addressed to this vault.
    let (t2, mut stranger_org) = (tempfile::tempdir().unwrap(), coordinator());
    let (_t3, mut other) = caseworker(&mut stranger_org, "x");
    add_person(&mut other, "Someone");
    let elsewhere = export(&mut other, ExportScope::All, &t2.path().join("o"));
    let e = org.v.inspect(&elsewhere, &Default::default()).unwrap_err();
    assert_eq!(reason(&e), Some(RejectReason::NotForThisVault), "{e}");

    // Cut short on its way.
    let bytes = std::fs::read(&purge).unwrap();
    let cut = t.path().join("cut.age");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let e = org.v.import(&cut, &Default::default()).unwrap_err();
    assert_eq!(reason(&e), Some(RejectReason::Damaged), "{e}");

    // Not a bundle at all.
    let text = t.path().join("notes.age");
    std::fs::write(&text, "minutes of the meeting").unwrap();
    let e = org.v.import(&text, &Default::default()).unwrap_err();
    assert_eq!(reason(&e), Some(RejectReason::NotABundle), "{e}");

    // Altered after it was signed: a manifest entry's hash no longer matches.
    let mut entries = open_bundle(&purge, &org.identity);
    let records = entries
        .iter_mut()
        .find(|(n, _)| n.ends_with("records.jsonl"))
        .unwrap();
    records.1.extend_from_slice(b"\n");
    let altered = t.path().join("altered.age");
    std::fs::write(&altered, seal(&files(&entries), &org.recipient)).unwrap();
    let e = org.v.import(&altered, &Default::default()).unwrap_err();
    assert_eq!(reason(&e), Some(RejectReason::Tampered), "{e}");
}

/// The same Ed25519 key under another key id: another base64 line, the same device.
fn with_other_key_id(key: &str) -> String {
    use base64::prelude::{Engine, BASE64_STANDARD};
    let mut raw = BASE64_STANDARD.decode(key.trim()).unwrap();
    for b in &mut raw[2..10] {
        *b ^= 0x5a;
    }
    BASE64_STANDARD.encode(raw)
}

#[test]
fn a_revoked_key_under_another_key_id_is_the_same_revoked_device() {
    let mut org = coordinator();
    let (_t, cw) = caseworker(&mut org, "Almaty laptop");
    let key = cw.device_public_key().unwrap().minisign;
    let variant = with_other_key_id(&key);
    assert_ne!(key, variant);
    assert_eq!(
        vault::profile::fingerprint(&key),
        vault::profile::fingerprint(&variant),
        "one key reads as one number"
    );
    // Trusting it again under another id relabels the one device, it adds none.
    org.v.trust_device(&variant, "renamed").unwrap();
    let devices = org.v.devices().unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].label, "renamed");
    org.v.untrust_device(&variant).unwrap();
    for k in [&key, &variant] {
        let e = org.v.trust_device(k, "again").unwrap_err();
        assert!(e.to_string().contains("revoked"), "{e}");
    }
    assert!(org.v.trusted_devices().unwrap().is_empty());
}

#[test]
fn devices_untrusted_before_revocation_was_kept_stay_revoked_after_the_upgrade() {
    let t = TempVault::new();
    let dir = t.dir();
    let mut v = t.vault;
    let cw_dir = tempfile::tempdir().unwrap();
    let cw = new_vault(&cw_dir.path().join("cw"));
    let key = cw.device_public_key().unwrap().minisign;
    v.trust_device(&key, "old laptop").unwrap();
    drop(v);
    // What schema 9 left: the row deleted, an untrust event in the audit log.
    let c = raw_db(&dir);
    let seq: i64 = c
        .query_row("SELECT max(seq) + 1 FROM audit", [], |r| r.get(0))
        .unwrap();
    let event = serde_json::json!({"seq": seq, "at": "2026-06-01T10:00:00Z", "device": "d", "type": "device_untrusted", "key": key});
    c.execute_batch(&format!(
        "DELETE FROM trusted_devices;
         INSERT INTO audit(seq, event, hash) VALUES ({seq}, '{event}', 'x');
         ALTER TABLE trusted_devices DROP COLUMN revoked_at;
         ALTER TABLE imports DROP COLUMN records;
         UPDATE meta SET value = '9' WHERE key = 'schema_version';"
    ))
    .unwrap();
    drop(c);
    let mut v = vault::Vault::open(&dir).unwrap();
    v.unlock(&pass()).unwrap();
    let d = v.devices().unwrap();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].label, "old laptop");
    assert_eq!(d[0].revoked_at.as_deref(), Some("2026-06-01T10:00:00Z"));
    assert!(v.trust_device(&key, "again").is_err());
    drop(t.tmp);
}

#[test]
fn a_resolve_of_the_versions_seen_is_refused_when_another_arrived_meanwhile() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = add_person(v, "Сайрагүл Сауытбай");
    let first = v.get(p).unwrap().heads[0].id.clone();
    v.edit(p, br#"{"notes":"one"}"#, None, false).unwrap();
    v.edit(p, br#"{"notes":"two"}"#, Some(first.clone()), false)
        .unwrap();
    let seen: Vec<String> = v
        .get(p)
        .unwrap()
        .heads
        .iter()
        .map(|h| h.id.to_string())
        .collect();
    assert_eq!(seen.len(), 2);
    // A third version arrives while the two are being compared.
    v.edit(p, br#"{"notes":"three"}"#, Some(first), false)
        .unwrap();
    let keep = Some(seen[0].parse().unwrap());
    let e = v.resolve_seen(p, &seen, keep.clone(), None).unwrap_err();
    assert!(e.to_string().contains("open it again"), "{e}");
    assert_eq!(v.get(p).unwrap().heads.len(), 3, "nothing changed");
    let all: Vec<String> = v
        .get(p)
        .unwrap()
        .heads
        .iter()
        .map(|h| h.id.to_string())
        .collect();
    v.resolve_seen(p, &all, keep, None).unwrap();
    assert_eq!(v.get(p).unwrap().heads.len(), 1);
}
