//! Key rotation (docs/threat-model.md, issue #10 item 6): after `rotate_keys`, an old copy of a
//! keyslot opens nothing with its passphrase — not the database, not an attachment — while the
//! vault opens with the new passphrase and with its recovery key, whole.

use std::io::Read;
use std::path::Path;

use testkit::fixture::*;
use vault::{AttachMeta, Passphrase, Vault};

const NEW: &str = "lantern harbour quiet seventeen";

/// The secrets inside a keyslot file, as anyone with it and its key reads them.
fn secrets_in(slot: &[u8], identity: &impl age::Identity) -> serde_json::Value {
    let plain = age::decrypt(identity, slot).expect("the keyslot opens");
    serde_json::from_slice(&plain).unwrap()
}

/// Whether the raw SQLCipher key in `secrets` opens the database at `db`.
fn key_opens(db: &Path, secrets: &serde_json::Value) -> bool {
    let c = rusqlite::Connection::open(db).unwrap();
    let key = secrets["sqlcipher_key"].as_str().unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .is_ok()
}

#[test]
fn after_rotation_an_old_keyslot_and_its_passphrase_open_nothing() {
    let mut v = TempVault::new();
    let org = age::x25519::Identity::generate();
    v.add_recovery(&org.to_public()).unwrap();
    let p = add_person(&mut v, "Сенбай Нұрахен");
    v.attach(p, &b"ROTATION-CANARY interview"[..], AttachMeta::default())
        .unwrap();
    let dir = v.dir();
    let old_slots = v.outside("old-keyslots");
    std::fs::create_dir(&old_slots).unwrap();
    for e in std::fs::read_dir(dir.join("keyslots")).unwrap().flatten() {
        std::fs::copy(e.path(), old_slots.join(e.file_name())).unwrap();
    }

    // Before: the old keyslot's key opens the database and its identity the attachment, so
    // the checks after the rotation can fail.
    let before = secrets_in(
        &std::fs::read(old_slots.join("passphrase.age")).unwrap(),
        &age::scrypt::Identity::new(PASS.to_owned().into()),
    );
    assert!(
        key_opens(&dir.join("vault.db"), &before),
        "the old key never opened the database"
    );
    let identity: age::x25519::Identity = before["age_identity"].as_str().unwrap().parse().unwrap();
    let files = testkit::canary::files_under(&dir.join("blobs"));
    assert_eq!(files.len(), 1);
    assert!(age::decrypt(&identity, &files[0].1).is_ok());

    let ok = confirmed(&mut v);
    let report = v
        .rotate_keys(ok, &Passphrase::new(NEW.into()), Some(10))
        .unwrap();
    assert_eq!((report.attachments, report.recovery_slots), (1, 1));

    // The old keyslots, opened with the old passphrase and with the organisation's key.
    let by_passphrase = secrets_in(
        &std::fs::read(old_slots.join("passphrase.age")).unwrap(),
        &age::scrypt::Identity::new(PASS.to_owned().into()),
    );
    let recovery = std::fs::read_dir(&old_slots)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("recovery-"))
        .unwrap();
    let by_org = secrets_in(&std::fs::read(recovery.path()).unwrap(), &org);
    for old in [&by_passphrase, &by_org] {
        assert!(
            !key_opens(&dir.join("vault.db"), old),
            "the old key opens today's database"
        );
        let identity: age::x25519::Identity =
            old["age_identity"].as_str().unwrap().parse().unwrap();
        for f in testkit::canary::files_under(&dir.join("blobs")) {
            assert!(
                age::decrypt(&identity, &f.1).is_err(),
                "the old identity opens {}",
                f.0.display()
            );
        }
    }
    // The old passphrase opens nothing any more; the new one and the organisation's key do.
    let tmp = v.close();
    let dir = tmp.path().join("v");
    let mut v = Vault::open(&dir).unwrap();
    assert!(matches!(
        v.unlock(&pass()),
        Err(vault::Error::WrongPassphrase)
    ));
    v.unlock(&Passphrase::new(NEW.into())).unwrap();
    let sha = v.get(p).unwrap().heads[0].data.as_ref().unwrap()["attachments"][0]["blob"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = Vec::new();
    v.open_attachment(&sha)
        .unwrap()
        .read_to_end(&mut body)
        .unwrap();
    assert_eq!(body, b"ROTATION-CANARY interview");
    assert!(v.verify().unwrap().problems.is_empty());
    assert!(v
        .audit()
        .unwrap()
        .iter()
        .any(|e| e.event["type"] == "keys_rotated"));
    v.lock();
    v.unlock_with_recovery(&org).unwrap();
    assert_eq!(v.get(p).unwrap().id, p);
}

/// Keys change only with the vault to itself: while another program (another handle here)
/// has it unlocked, rotation is refused with a clear reason and nothing changes.
#[test]
fn rotation_waits_until_no_other_program_has_the_vault_open() {
    let mut v = TempVault::new();
    let p = add_person(&mut v, "Сенбай");
    let mut other = Vault::open(&v.dir()).unwrap();
    other.unlock(&pass()).unwrap();
    let ok = confirmed(&mut v);
    let e = v
        .rotate_keys(ok, &Passphrase::new(NEW.into()), Some(10))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("another Kuager program has this vault open"),
        "{e}"
    );
    assert_eq!(other.get(p).unwrap().id, p);
    other.lock();
    let ok = confirmed(&mut v);
    v.rotate_keys(ok, &Passphrase::new(NEW.into()), Some(10))
        .unwrap();
    assert!(matches!(
        other.unlock(&pass()),
        Err(vault::Error::WrongPassphrase)
    ));
    other.unlock(&Passphrase::new(NEW.into())).unwrap();
    assert_eq!(other.get(p).unwrap().id, p);
}
