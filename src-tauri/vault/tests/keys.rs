//! Locking and keys (docs/threat-model.md R2, R3, R5, R11): every operation refuses a locked
//! vault, wrong and weak passphrases, keyslot work factors, passphrase change and recovery,
//! emergency erase, what the vault's files reveal and who may read them.

use testkit::canary::*;
use testkit::fixture::*;
use vault::{AttachMeta, Error, Kind, Passphrase, Vault};

/// R2: every public operation that reads or changes the vault refuses a locked one — the
/// list below is every such method of `Vault` (the rest only open, unlock, lock or erase).
#[test]
fn every_operation_fails_with_locked_after_lock() {
    let mut v = TempVault::new();
    let p = add_person(&mut v, "Сенбай");
    // Proofs of the passphrase, taken while unlocked, for the operations that need one.
    let mut proofs: Vec<_> = (0..3)
        .map(|_| v.confirm_passphrase(&pass()).unwrap())
        .collect();
    let bundle = v.outside("a.kuager.age");
    std::fs::write(&bundle, b"age-encryption.org/v1\n").unwrap();
    v.lock();
    assert!(v.is_locked());
    let id = p;
    let locked = |r: Result<(), Error>| assert!(matches!(r, Err(Error::Locked)), "{r:?}");
    // Where an operation takes input, it is given input it would refuse anyway (bad JSON, a
    // weak passphrase, an empty reason, …): only a lock check made first answers `Locked`.
    let weak = Passphrase::new("a".into());
    locked(v.add(Kind::Person, b"not json").map(drop));
    locked(
        v.add_many(Kind::Person, &b"not json\n"[..], &mut |_| {})
            .map(drop),
    );
    locked(v.edit(id, b"not json", None, false).map(drop));
    locked(v.attach(id, &b"data"[..], AttachMeta::default()).map(drop));
    locked(v.get(id).map(drop));
    locked(v.summary(id).map(drop));
    locked(v.history(id).map(drop));
    locked(v.list(None).map(drop));
    locked(v.search("", 10).map(drop));
    locked(v.audit().map(drop));
    locked(v.verify().map(drop));
    locked(v.open_attachment(&"0".repeat(64)).map(drop));
    locked(v.change_passphrase(&weak, Some(10)));
    let r = age::x25519::Identity::generate().to_public();
    locked(v.add_recovery(&r).map(drop));
    locked(v.vault_id().map(drop));
    locked(v.device_id().map(drop));
    locked(v.device_public_key().map(drop));
    locked(v.sign(b"data", "comment").map(drop));
    locked(v.related(id).map(drop));
    locked(v.person_attempts(id).map(drop));
    locked(v.list_page(None, 0, 10).map(drop));
    locked(v.conflicts().map(drop));
    locked(v.purge(id, " ").map(drop));
    locked(v.resolve(id, None, Some(b"not json")).map(drop));
    locked(v.find_revision(id, "xyz").map(drop));
    locked(v.save_draft("", None, "text"));
    locked(v.draft("").map(drop));
    locked(v.discard_draft(""));
    locked(v.settings().map(drop));
    locked(v.set_label(Some("a\u{7}bell")));
    locked(v.passphrase_bundles_allowed());
    locked(v.set_passphrase_bundles(true, None));
    locked(v.recipients().map(drop));
    let key: vault::bundle::Recipient = r.to_string().parse().unwrap();
    locked(v.add_recipient(&key, None, proofs.pop().unwrap()));
    locked(
        v.remove_recipient("anyone", proofs.pop().unwrap())
            .map(drop),
    );
    locked(v.identities().map(drop));
    locked(v.new_identity(None).map(drop));
    locked(v.import_identity_file(&bundle, None).map(drop));
    locked(v.trust_device("RWQ", "device").map(drop));
    locked(v.trusted_devices().map(drop));
    locked(v.untrust_device("device").map(drop));
    locked(v.confirm_passphrase(&pass()).map(drop));
    locked(v.import(&bundle, &Default::default()).map(drop));
    locked(v.inspect(&bundle, &Default::default()).map(drop));
    let opts = vault::bundle::ExportOptions {
        scope: vault::bundle::ExportScope::All,
        extra_recipients: vec![],
        confirmed: None,
        output: v.outside("out"),
        armor: false,
        passphrase: None,
        cancel: None,
        limits: Default::default(),
    };
    locked(v.export(&opts, &mut |_| {}).map(drop));
    locked(
        v.rotate_keys(proofs.pop().unwrap(), &weak, Some(10))
            .map(drop),
    );
    // and it opens again with the passphrase
    v.unlock(&pass()).unwrap();
    assert_eq!(v.get(id).unwrap().heads.len(), 1);
}

#[test]
fn wrong_passphrase_is_a_clear_error_and_unlocks_nothing() {
    let (_t, dir) = closed_vault();
    let mut v = Vault::open(&dir).unwrap();
    let e = v
        .unlock(&Passphrase::new("not the passphrase at all".into()))
        .unwrap_err();
    assert!(matches!(e, Error::WrongPassphrase), "{e:?}");
    assert!(e.to_string().contains("wrong passphrase"));
    assert_eq!(e.code(), "wrong_passphrase");
    assert!(v.is_locked());
    assert!(matches!(v.list(None), Err(Error::Locked)));
}

#[test]
fn repeated_wrong_passphrases_slow_down() {
    let (_t, dir) = closed_vault();
    let mut v = Vault::open(&dir).unwrap();
    let bad = Passphrase::new("not the passphrase at all".into());
    let t0 = std::time::Instant::now();
    let _ = v.unlock(&bad);
    let first = t0.elapsed();
    let t1 = std::time::Instant::now();
    let _ = v.unlock(&bad);
    let second = t1.elapsed();
    assert!(first >= std::time::Duration::from_millis(900), "{first:?}");
    assert!(
        second >= std::time::Duration::from_millis(1900),
        "{second:?}"
    );
}

#[test]
fn weak_passphrase_is_refused_at_creation() {
    let t = tempfile::tempdir().unwrap();
    let e = Vault::create(
        &t.path().join("v"),
        &Passphrase::new("short".into()),
        Default::default(),
    )
    .unwrap_err();
    assert!(matches!(e, Error::WeakPassphrase(_)), "{e:?}");
    assert!(!t.path().join("v/vault.json").exists());
}

#[test]
fn creating_over_an_existing_vault_is_refused() {
    let (_t, dir) = closed_vault();
    let e = Vault::create(&dir, &pass(), Default::default()).unwrap_err();
    assert!(matches!(e, Error::VaultExists(_)), "{e:?}");
}

#[test]
fn vault_json_holds_only_the_format_version() {
    let mut v = TempVault::new();
    let dir = v.dir();
    add_person(&mut v, "Сенбай");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vault.json")).unwrap()).unwrap();
    let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["format", "version"]);
    assert_eq!(j["version"], 1);
}

#[test]
fn database_file_is_not_plain_sqlite() {
    let mut v = TempVault::new();
    let dir = v.dir();
    add_person(&mut v, "Сенбай");
    let _tmp = v.close();
    let head = std::fs::read(dir.join("vault.db")).unwrap();
    assert!(!head.starts_with(b"SQLite format 3"));
    // …and a plain SQLite client cannot read it without the key.
    let c = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    assert!(c
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
        .is_err());
}

#[test]
fn passphrase_change_and_recovery_keyslot_open_the_same_vault() {
    let mut v = TempVault::new();
    let dir = v.dir();
    let p = add_person(&mut v, "Сенбай");
    let org = age::x25519::Identity::generate();
    v.add_recovery(&org.to_public()).unwrap();
    let new = Passphrase::new("a completely different passphrase".into());
    v.change_passphrase(&new, Some(10)).unwrap();
    let _tmp = v.close();
    let mut v = Vault::open(&dir).unwrap();
    assert!(matches!(v.unlock(&pass()), Err(Error::WrongPassphrase)));
    v.unlock(&new).unwrap();
    assert_eq!(v.get(p).unwrap().id, p);
    let mut v = Vault::open(&dir).unwrap();
    v.unlock_with_recovery(&org).unwrap();
    assert_eq!(v.get(p).unwrap().id, p);
    let types: Vec<String> = v
        .audit()
        .unwrap()
        .iter()
        .map(|e| e.event["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.contains(&"passphrase_changed".to_owned()));
    assert!(types.contains(&"recovery_keyslot_added".to_owned()));
}

#[test]
fn keyslot_work_factor_is_recorded_and_capped_on_open() {
    let (_t, dir) = closed_vault();
    let slot = std::fs::read(dir.join("keyslots/passphrase.age")).unwrap();
    assert_eq!(
        vault::keys::keyslot_work_factor(&slot),
        Some(TEST_WORK_FACTOR)
    );
    // A keyslot rewritten with an absurd work factor is refused quickly, not computed.
    let text = String::from_utf8_lossy(&slot).into_owned();
    let line = text
        .lines()
        .find(|l| l.starts_with("-> scrypt "))
        .unwrap()
        .to_owned();
    let forged_line = format!("{} 30", line.rsplit_once(' ').unwrap().0);
    let mut forged = slot.clone();
    let at = slot
        .windows(line.len())
        .position(|w| w == line.as_bytes())
        .unwrap();
    forged.splice(at..at + line.len(), forged_line.bytes());
    std::fs::write(dir.join("keyslots/passphrase.age"), forged).unwrap();
    let t0 = std::time::Instant::now();
    let e = Vault::open(&dir).unwrap().unlock(&pass()).unwrap_err();
    assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    assert!(matches!(e, Error::Keyslot { .. }), "{e:?}");
}

#[test]
fn default_work_factor_is_at_least_18() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let v = Vault::create(&dir, &pass(), Default::default()).unwrap();
    drop(v);
    let slot = std::fs::read(dir.join("keyslots/passphrase.age")).unwrap();
    let n = vault::keys::keyslot_work_factor(&slot).unwrap();
    assert!(n >= vault::keys::MIN_WORK_FACTOR, "work factor {n}");
}

#[cfg(unix)]
#[test]
fn vault_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut v = TempVault::new();
    let dir = v.dir();
    let p = add_person(&mut v, "Сенбай");
    v.attach(p, &b"scan"[..], AttachMeta::default()).unwrap();
    for (path, _) in files_under(&dir) {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", path.display());
    }
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

/// R5: after an emergency erase nobody can open the vault — not with the passphrase, not with
/// the recovery key — and nothing of it is left in its folder. Each keyslot is given a second
/// name outside the vault first: an erase that only unlinked it would leave that name
/// readable; an overwrite reaches it.
#[test]
fn r5_emergency_erase_destroys_the_keys_then_the_data() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let recovery = age::x25519::Identity::generate();
    let mut v = Vault::create(
        &dir,
        &pass(),
        vault::CreateOptions {
            recovery: vec![recovery.to_public()],
            work_factor: Some(10),
            ..Default::default()
        },
    )
    .unwrap();
    add_person(&mut v, "Сенбай");
    let links = t.path().join("links");
    std::fs::create_dir(&links).unwrap();
    let copies: Vec<_> = std::fs::read_dir(dir.join("keyslots"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let to = links.join(e.file_name());
            std::fs::hard_link(e.path(), &to).unwrap();
            to
        })
        .collect();
    // (opens with the passphrase, opens with the recovery key)
    let opens = |p: &std::path::Path| {
        let b = std::fs::read(p).unwrap();
        let by_passphrase = age::scrypt::Identity::new(PASS.to_owned().into());
        (
            age::decrypt(&by_passphrase, &b).is_ok(),
            age::decrypt(&recovery, &b).is_ok(),
        )
    };
    let mut before: Vec<_> = copies.iter().map(|c| opens(c)).collect();
    before.sort();
    assert_eq!(
        before,
        [(false, true), (true, false)],
        "the check below can fail"
    );
    v.erase().unwrap();
    for c in &copies {
        assert_eq!(opens(c), (false, false), "{} still opens", c.display());
        let b = std::fs::read(c).unwrap();
        assert!(
            !b.starts_with(b"age-encryption.org"),
            "{} still holds a keyslot: it was unlinked, not overwritten",
            c.display()
        );
    }
    assert!(!dir.exists(), "the vault folder is still there");
    assert!(matches!(Vault::open(&dir), Err(Error::NoVault(_))));
    let again = Vault::create(
        &dir,
        &pass(),
        vault::CreateOptions {
            work_factor: Some(10),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        again.list(None).unwrap().is_empty(),
        "a new vault there starts empty"
    );
}

/// The names in `keyslots/`.
fn slot_names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("keyslots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What the recovery keyslot's name used to be: a fingerprint of the organisation's key.
fn fingerprint(r: &age::x25519::Recipient) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(r.to_string().as_bytes()))[..16].to_owned()
}

/// A recovery keyslot's name says nothing about whose key opens it (issue #10, item 11): with
/// the organisation's public key, a seized disk's file names told whose vault it holds. Names
/// are random; the vault tries each slot with the key it is given; adding the same key again
/// replaces its slot; an older vault's fingerprint-named slot is renamed at the next unlock.
#[test]
fn recovery_keyslot_names_say_nothing_about_the_key() {
    let org = age::x25519::Identity::generate();
    let other = age::x25519::Identity::generate();
    let mut names = Vec::new();
    for _ in 0..2 {
        let mut v = TempVault::new();
        let dir = v.dir();
        v.add_recovery(&org.to_public()).unwrap();
        v.add_recovery(&other.to_public()).unwrap();
        v.add_recovery(&org.to_public()).unwrap();
        let slots = slot_names(&dir);
        assert_eq!(slots.len(), 3, "{slots:?}"); // passphrase + one per key
        for s in &slots {
            assert!(!s.contains(&fingerprint(&org.to_public())), "{s}");
            assert!(!s.contains(&fingerprint(&other.to_public())), "{s}");
        }
        names.extend(slots.into_iter().filter(|s| s.starts_with("recovery-")));
        let _t = v.close();
        for key in [&org, &other] {
            let mut v = Vault::open(&dir).unwrap();
            v.unlock_with_recovery(key).unwrap();
        }
        let mut v = Vault::open(&dir).unwrap();
        let stranger = age::x25519::Identity::generate();
        let err = v.unlock_with_recovery(&stranger).unwrap_err();
        assert!(err.to_string().contains("no recovery keyslot"), "{err}");
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 4, "two vaults share a slot name: {names:?}");

    // A vault written before: its slot named by the fingerprint.
    let mut v = TempVault::new();
    let dir = v.dir();
    v.add_recovery(&org.to_public()).unwrap();
    let slot = slot_names(&dir)
        .into_iter()
        .find(|s| s.starts_with("recovery-"))
        .unwrap();
    let old = format!("recovery-{}.age", fingerprint(&org.to_public()));
    std::fs::rename(
        dir.join("keyslots").join(&slot),
        dir.join("keyslots").join(&old),
    )
    .unwrap();
    v.lock();
    v.unlock(&pass()).unwrap();
    let now = slot_names(&dir);
    assert!(!now.contains(&old), "{now:?}");
    assert_eq!(now.len(), 2, "{now:?}");
    let _t = v.close();
    Vault::open(&dir)
        .unwrap()
        .unlock_with_recovery(&org)
        .unwrap();
}

/// A work factor of 0, or over the most a keyslot may ask when opened, is refused when the
/// keyslot is written: such a vault could not be opened, or only after hours.
#[test]
fn a_keyslot_work_factor_out_of_range_is_refused_when_written() {
    let t = tempfile::tempdir().unwrap();
    for n in [0u8, 23, 40] {
        let e = Vault::create(
            &t.path().join(format!("v{n}")),
            &pass(),
            vault::CreateOptions {
                work_factor: Some(n),
                ..Default::default()
            },
        )
        .err()
        .unwrap_or_else(|| panic!("work factor {n} was taken"));
        assert!(e.to_string().contains("outside 1–22"), "{n}: {e}");
    }
}

/// A vault whose passphrase keyslot is gone says so, and how to recover.
#[test]
fn a_missing_passphrase_keyslot_is_named() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    drop(new_vault(&dir));
    std::fs::remove_file(dir.join("keyslots/passphrase.age")).unwrap();
    let mut v = Vault::open(&dir).unwrap();
    let e = v.unlock(&pass()).unwrap_err();
    assert!(
        matches!(&e, Error::Keyslot { reason, .. } if reason.contains("missing")),
        "{e}"
    );
}

/// An organisation's identity file is taken whole or not at all: one bad line among good ones,
/// or a file far larger than any `age-keygen` writes, is refused with the vault unchanged; a
/// good file's identities are all stored, each audited.
#[test]
fn an_identity_file_is_taken_whole_or_not_at_all() {
    let mut v = TempVault::new();
    let ids: Vec<String> = (0..2)
        .map(|_| {
            use age::secrecy::ExposeSecret;
            age::x25519::Identity::generate()
                .to_string()
                .expose_secret()
                .to_owned()
        })
        .collect();
    let before = (v.identities().unwrap().len(), v.audit().unwrap().len());
    let bad = v.outside("bad.key");
    std::fs::write(
        &bad,
        format!(
            "# created: now\n{}\nAGE-SECRET-KEY-1NOTAKEY\n{}\n",
            ids[0], ids[1]
        ),
    )
    .unwrap();
    let big = v.outside("big.key");
    std::fs::write(&big, format!("{}\n{}", ids[0], "#".repeat(70 * 1024))).unwrap();
    for (file, says) in [(&bad, "invalid age identity"), (&big, "larger than 64 KiB")] {
        match v.import_identity_file(file, None) {
            Err(Error::Invalid { message, .. }) => assert!(message.contains(says), "{message}"),
            other => panic!("{}: {other:?}", file.display()),
        }
        assert_eq!(
            (v.identities().unwrap().len(), v.audit().unwrap().len()),
            before,
            "{}: the vault changed",
            file.display()
        );
    }
    let good = v.outside("good.key");
    std::fs::write(&good, format!("# created: now\n{}\n\n{}\n", ids[0], ids[1])).unwrap();
    let publics = v.import_identity_file(&good, Some("org")).unwrap();
    assert_eq!(publics.len(), 2);
    assert_eq!(v.identities().unwrap().len(), before.0 + 2);
    let added = v
        .audit()
        .unwrap()
        .iter()
        .filter(|e| e.event["type"] == "identity_added")
        .count();
    assert_eq!(added, 2);
}
