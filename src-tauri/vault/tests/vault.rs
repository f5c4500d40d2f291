//! The vault's behaviour through its public API: lock states (R2/R3), records, revisions and
//! conflicts, validation, bulk atomicity, attachments, search, verify and tampering.

mod common;

use std::io::Read;
use std::str::FromStr;

use common::*;
use vault::{AttachMeta, Error, Kind, MatchKind, Passphrase, RecordId, Vault};

fn raw_db(dir: &std::path::Path) -> rusqlite::Connection {
    // Open the database the way docs/recovery.md tells a user to: passphrase → keyslot → raw key.
    let slot = std::fs::read(dir.join("keyslots/passphrase.age")).unwrap();
    let id = age::scrypt::Identity::new(PASS.to_owned().into());
    let plain = age::decrypt(&id, &slot).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let key = v["sqlcipher_key"].as_str().unwrap();
    let c = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c
}

#[test]
fn every_operation_fails_with_locked_after_lock() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    v.lock();
    assert!(v.is_locked());
    let id = p;
    let locked = |r: Result<(), Error>| assert!(matches!(r, Err(Error::Locked)), "{r:?}");
    locked(
        v.add(Kind::Person, br#"{"names":[{"value":"x"}]}"#)
            .map(drop),
    );
    locked(v.add_many(Kind::Person, &b""[..], &mut |_| {}).map(drop));
    locked(v.edit(id, b"{}", None, false).map(drop));
    locked(v.attach(id, &b"data"[..], AttachMeta::default()).map(drop));
    locked(v.get(id).map(drop));
    locked(v.summary(id).map(drop));
    locked(v.history(id).map(drop));
    locked(v.list(None).map(drop));
    locked(v.search("Сенбай", 10).map(drop));
    locked(v.audit().map(drop));
    locked(v.verify().map(drop));
    locked(v.open_attachment(&"0".repeat(64)).map(drop));
    locked(v.change_passphrase(
        &Passphrase::new("another long passphrase here".into()),
        Some(10),
    ));
    let r = age::x25519::Identity::generate().to_public();
    locked(v.add_recovery(&r).map(drop));
    locked(v.vault_id().map(drop));
    // and it opens again with the passphrase
    v.unlock(&pass()).unwrap();
    assert_eq!(v.get(id).unwrap().heads.len(), 1);
}

#[test]
fn wrong_passphrase_is_a_clear_error_and_unlocks_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    drop(new_vault(&dir));
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
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    drop(new_vault(&dir));
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
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    drop(new_vault(&dir));
    let e = Vault::create(&dir, &pass(), Default::default()).unwrap_err();
    assert!(matches!(e, Error::VaultExists(_)), "{e:?}");
}

#[test]
fn vault_json_holds_only_the_format_version() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    add_person(&mut v, "Сенбай");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("vault.json")).unwrap()).unwrap();
    let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["format", "version"]);
    assert_eq!(j["version"], 1);
}

#[test]
fn database_file_is_not_plain_sqlite() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    add_person(&mut v, "Сенбай");
    drop(v);
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
fn two_edits_from_the_same_parent_make_two_heads_never_an_overwrite() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    let t_id = add_testimony(&mut v, p, "first telling");
    let base = v.get(t_id).unwrap().heads[0].id.clone();
    let a = v
        .edit(
            t_id,
            br#"{"narrative":"version A"}"#,
            Some(base.clone()),
            false,
        )
        .unwrap();
    let b = v
        .edit(
            t_id,
            br#"{"narrative":"version B"}"#,
            Some(base.clone()),
            false,
        )
        .unwrap();
    assert_ne!(a.revision, b.revision);
    let view = v.get(t_id).unwrap();
    assert_eq!(view.heads.len(), 2);
    let narratives: Vec<&str> = view
        .heads
        .iter()
        .map(|h| h.data.as_ref().unwrap()["narrative"].as_str().unwrap())
        .collect();
    assert_eq!(narratives, ["version A", "version B"]);
    for h in &view.heads {
        assert_eq!(h.parents, vec![base.clone()]);
    }
    // An edit without saying which version is refused while the conflict stands.
    let e = v
        .edit(t_id, br#"{"narrative":"C"}"#, None, false)
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { heads: 2, .. }), "{e:?}");
    assert!(v.summary(t_id).unwrap().conflict);
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn edit_is_a_merge_patch_and_keeps_history() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    let t_id = add_testimony(&mut v, p, "first telling");
    let s = v
        .edit(
            t_id,
            br#"{"place":"Almaty","consent":{"given":true,"scope":"internal"}}"#,
            None,
            false,
        )
        .unwrap();
    assert!(s.changed);
    let head = &v.get(t_id).unwrap().heads[0];
    let d = head.data.as_ref().unwrap();
    assert_eq!(d["narrative"], "first telling");
    assert_eq!(d["place"], "Almaty");
    let h = v.history(t_id).unwrap();
    assert_eq!(h.len(), 2);
    assert!(h[1].head && !h[0].head);
    assert_eq!(h[1].parents, vec![h[0].id.clone()]);
    // The same patch again changes nothing and writes no revision.
    let again = v.edit(t_id, br#"{"place":"Almaty"}"#, None, false).unwrap();
    assert!(!again.changed);
    assert_eq!(v.history(t_id).unwrap().len(), 2);
}

#[test]
fn validation_names_the_field() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    let cases: Vec<(Kind, String, &str, &str)> = vec![
        (Kind::Person, r#"{"names":[]}"#.into(), "names", "at least one name"),
        (Kind::Person, r#"{"names":[{"value":"A","script":"klingon"}]}"#.into(), "names[0].script", "unknown variant"),
        (Kind::Person, r#"{"names":[{"value":"A"}],"date_of_birth":"1985-13"}"#.into(), "date_of_birth", "month 13"),
        (Kind::Person, r#"{"names":[{"value":"A"}],"date_of_birth":"1985-02-30"}"#.into(), "date_of_birth", "no day 30"),
        (Kind::Person, r#"{"names":[{"value":"A"}],"nmae":"typo"}"#.into(), "nmae", "unknown field `nmae`"),
        (Kind::Person, r#"{"names":[{"value":"A"}],"documents":[{"type":"prc-resident-id","number":"650102198503020019"}]}"#.into(), "documents[0].number", "check character"),
        (Kind::Testimony, format!(r#"{{"witness":"{p}"}}"#), "", "missing field `narrative`"),
        (Kind::Testimony, format!(r#"{{"witness":"{}","narrative":"x"}}"#, RecordId::new()), "witness", "no person with id"),
        (Kind::Testimony, format!(r#"{{"witness":"{p}","narrative":"x","status":"reviewed"}}"#), "status", "consent"),
        (Kind::Testimony, format!(r#"{{"witness":"{p}","narrative":"x","languages":["Kazakh"]}}"#), "languages[0]", "language code"),
        (Kind::Attempt, format!(r#"{{"person":"{p}"}}"#), "", "missing field `submitted_on`"),
        (Kind::Attempt, format!(r#"{{"person":"{p}","submitted_on":"2024","outcome":"ignored"}}"#), "outcome", "unknown variant"),
        (Kind::Case, r#"{"reference":"  "}"#.into(), "reference", "must not be empty"),
    ];
    for (kind, json, field, msg) in cases {
        match v.add(kind, json.as_bytes()) {
            Err(Error::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{json}: {message}");
                assert!(message.contains(msg), "{json}: {message}");
            }
            other => panic!("{json}: expected a validation error, got {other:?}"),
        }
    }
}

#[test]
fn prc_id_birth_date_mismatch_is_flagged() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let s = v
        .add(
            Kind::Person,
            br#"{"names":[{"value":"A"}],"date_of_birth":"1986","documents":[{"type":"prc-resident-id","number":"650102198503020018"}]}"#,
        )
        .unwrap();
    assert_eq!(s.warnings.len(), 1);
    assert_eq!(s.warnings[0].field, "documents[0].number");
    assert!(s.warnings[0].message.contains("1985-03-02"));
    let ok = v
        .add(
            Kind::Person,
            br#"{"names":[{"value":"B"}],"date_of_birth":"1985-03~","documents":[{"type":"prc-resident-id","number":"650102198503020018"}]}"#,
        )
        .unwrap();
    assert!(ok.warnings.is_empty());
}

#[test]
fn bulk_add_writes_nothing_unless_every_line_is_valid() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let before_audit = v.audit().unwrap().len();
    let input = "{\"names\":[{\"value\":\"Асан\"}]}\n\n{\"names\":[{\"value\":\"Үсен\"}]}\n{\"names\":[{\"value\":\"X\",\"script\":\"nope\"}]}\n{\"names\":[{\"value\":\"Y\"}]}\n";
    let res = v
        .add_many(Kind::Person, input.as_bytes(), &mut |_| {})
        .unwrap();
    let err = res.unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert_eq!(err.errors[0].0, 4, "the line number counts blank lines");
    assert!(v.list(None).unwrap().is_empty());
    assert_eq!(v.audit().unwrap().len(), before_audit);
    // Fixed input goes in whole.
    let fixed = input.replace("\"nope\"", "\"latn\"");
    let saved = v
        .add_many(Kind::Person, fixed.as_bytes(), &mut |_| {})
        .unwrap()
        .unwrap();
    assert_eq!(saved.len(), 4);
    assert_eq!(v.list(Some(Kind::Person)).unwrap().len(), 4);
}

#[test]
fn bulk_add_accepts_one_pretty_printed_object_and_references_within_the_batch() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let pretty = "{\n  \"names\": [\n    {\"value\": \"Сайрагүл\"}\n  ]\n}\n";
    let saved = v
        .add_many(Kind::Person, pretty.as_bytes(), &mut |_| {})
        .unwrap()
        .unwrap();
    assert_eq!(saved.len(), 1);
    let cut = "{\n  \"names\": [\n";
    let err = v
        .add_many(Kind::Person, cut.as_bytes(), &mut |_| {})
        .unwrap()
        .unwrap_err();
    assert_eq!(err.errors[0].0, 1);
}

#[test]
fn attachments_round_trip_and_blob_names_are_random() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    let tid = add_testimony(&mut v, p, "with audio");
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let s = v
        .attach(
            tid,
            &content[..],
            AttachMeta {
                name: Some("interview-senbay.ogg".into()),
                caption: Some("first interview".into()),
                media_type: Some("audio/ogg".into()),
            },
        )
        .unwrap();
    assert!(s.changed);
    let head = v.get(tid).unwrap().heads.remove(0);
    let att = &head.data.as_ref().unwrap()["attachments"][0];
    let sha = att["blob"].as_str().unwrap().to_owned();
    assert_eq!(att["size"], 3_000_000);
    let mut back = Vec::new();
    v.open_attachment(&sha)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, content);
    // R11: the file name is random: not the hash, not the original name.
    let files: Vec<_> = files_under(&dir.join("blobs"));
    assert_eq!(files.len(), 1);
    let rel = files[0]
        .0
        .strip_prefix(&dir)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let name = files[0]
        .0
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(rel.starts_with(&format!("blobs/{}/", &name[..2])), "{rel}");
    assert_eq!(name.len(), 32);
    assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!sha.contains(&name) && !rel.contains("senbay") && !rel.contains("ogg"));
    assert!(files[0].1.starts_with(b"age-encryption.org/v1\n"));
    // The same content in another vault gets another name.
    let mut v2 = new_vault(&t.path().join("v2"));
    let p2 = add_person(&mut v2, "B");
    v2.attach(p2, &content[..], AttachMeta::default()).unwrap();
    let f2 = files_under(&t.path().join("v2/blobs"));
    assert_ne!(f2[0].0.file_name(), files[0].0.file_name());
    // Attaching the same file twice to one record is refused, and leaves no extra file.
    let e = v
        .attach(tid, &content[..], AttachMeta::default())
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert_eq!(files_under(&dir.join("blobs")).len(), 1);
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn search_finds_a_person_from_any_spelling() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let s = v
        .add(
            Kind::Person,
            r#"{"names":[{"value":"Сенбай Нұрахен"}],"documents":[{"type":"kz-passport","series":"N","number":"12 345 678"}]}"#.as_bytes(),
        )
        .unwrap()
        .record;
    let other = add_person(&mut v, "Серік Асанов");
    let tid = add_testimony(
        &mut v,
        other,
        "Мен 2018 жылы Құлжадағы лагерьде болдым. Held in Ghulja.",
    );
    for q in [
        "Сенбай",
        "Senbay",
        "Senbai",
        "senbai nurakhen",
        "Нұрахен",
        "Nurahen",
        "Nurakhen",
        "Нурахен",
        "SENB",
    ] {
        let hits = v.search(q, 10).unwrap();
        assert!(
            hits.iter()
                .any(|h| h.summary.id == s && h.matched == MatchKind::Name),
            "{q} did not find Сенбай"
        );
        assert!(
            !hits.iter().any(|h| h.summary.id == other),
            "{q} found Серік"
        );
    }
    let hits = v.search("N12345678", 10).unwrap();
    assert_eq!(hits[0].summary.id, s);
    assert_eq!(hits[0].matched, MatchKind::Number);
    let hits = v.search("лагерь", 10).unwrap();
    assert!(hits
        .iter()
        .any(|h| h.summary.id == tid && h.matched == MatchKind::Text));
    let hits = v.search("ghulja", 10).unwrap();
    assert!(hits.iter().any(|h| h.summary.id == tid));
    let hits = v.search(&tid.to_string(), 10).unwrap();
    assert_eq!(hits[0].summary.id, tid);
    assert_eq!(hits[0].matched, MatchKind::Id);
    // FTS syntax typed by a user is just text.
    assert!(v.search("\"unbalanced AND (", 10).is_ok());
    // An edit re-indexes: the old name no longer finds the person.
    v.edit(
        s,
        r#"{"names":[{"value":"Гүлбахар"}]}"#.as_bytes(),
        None,
        false,
    )
    .unwrap();
    assert!(!v
        .search("Senbay", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == s));
    assert!(v
        .search("Gulbahar", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == s));
}

#[test]
fn attempts_are_numbered_and_count_days_waiting() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    let a2 = v
        .add(
            Kind::Attempt,
            format!(r#"{{"person":"{p}","submitted_on":"2024-05-01","outcome":"no-response"}}"#)
                .as_bytes(),
        )
        .unwrap()
        .record;
    let a1 = v
        .add(Kind::Attempt, format!(r#"{{"person":"{p}","submitted_on":"2023-01-10","outcome":"refused","outcome_on":"2023-03"}}"#).as_bytes())
        .unwrap()
        .record;
    let facts = |id| match v.summary(id).unwrap().facts {
        vault::Facts::Attempt {
            number,
            waiting_days,
            ..
        } => (number, waiting_days),
        other => panic!("{other:?}"),
    };
    let days = vault::days_since("2024-05-01").unwrap();
    assert!(days > 900);
    assert_eq!(
        facts(a1),
        (1, None),
        "answered: numbered first, not waiting"
    );
    assert_eq!(
        facts(a2),
        (2, Some(days)),
        "no response: waiting since submission"
    );
    // The person's page numbers them the same way.
    let lines = v.person_attempts(p).unwrap();
    let numbers: Vec<_> = lines
        .iter()
        .map(|l| (l.id, l.number, l.waiting_days))
        .collect();
    assert_eq!(numbers, [(a1, 1, None), (a2, 2, Some(days))]);
}

#[test]
fn verify_detects_altered_revision_content() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    add_testimony(&mut v, p, "the true account");
    assert!(v.verify().unwrap().problems.is_empty());
    v.lock();
    let c = raw_db(&dir);
    c.execute(
        "UPDATE revisions SET data = replace(data, 'true account', 'forged account')",
        [],
    )
    .unwrap();
    drop(c);
    v.unlock(&pass()).unwrap();
    let r = v.verify().unwrap();
    assert!(
        r.problems
            .iter()
            .any(|p| p.contains("does not match its id")),
        "{:?}",
        r.problems
    );
}

#[test]
fn verify_detects_a_removed_audit_event() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    add_person(&mut v, "Сенбай");
    add_person(&mut v, "Серік");
    v.lock();
    let c = raw_db(&dir);
    c.execute("DELETE FROM audit WHERE seq = 3", []).unwrap();
    drop(c);
    v.unlock(&pass()).unwrap();
    let r = v.verify().unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("audit log")),
        "{:?}",
        r.problems
    );
}

#[test]
fn verify_detects_a_missing_attachment_file() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    v.attach(p, &b"photo bytes"[..], AttachMeta::default())
        .unwrap();
    for (path, _) in files_under(&dir.join("blobs")) {
        std::fs::remove_file(path).unwrap();
    }
    let r = v.verify().unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("missing its file")),
        "{:?}",
        r.problems
    );
}

#[test]
fn passphrase_change_and_recovery_keyslot_open_the_same_vault() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    let org = age::x25519::Identity::generate();
    v.add_recovery(&org.to_public()).unwrap();
    let new = Passphrase::new("a completely different passphrase".into());
    v.change_passphrase(&new, Some(10)).unwrap();
    drop(v);
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
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    drop(new_vault(&dir));
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

#[test]
fn record_id_parsing_rejects_garbage() {
    assert!(RecordId::from_str("../../etc/passwd").is_err());
    assert!(matches!(RecordId::from_str("nope"), Err(Error::BadId(_))));
}

#[cfg(unix)]
#[test]
fn vault_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    v.attach(p, &b"scan"[..], AttachMeta::default()).unwrap();
    for (path, _) in files_under(&dir) {
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} is mode {mode:o}", path.display());
    }
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

/// A file that fails half-way (a USB stick pulled out) leaves no attachment, no file and no
/// revision behind.
#[test]
fn attach_that_fails_half_way_changes_nothing() {
    struct Flaky(usize);
    impl std::io::Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 >= 3_000_000 {
                return Err(std::io::Error::other("device removed"));
            }
            let n = buf.len().min(65536);
            buf[..n].fill(b'x');
            self.0 += n;
            Ok(n)
        }
    }
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    let before = v.history(p).unwrap().len();
    let audit_before = v.audit().unwrap().len();
    let e = v.attach(p, Flaky(0), AttachMeta::default()).unwrap_err();
    assert!(e.to_string().contains("device removed"), "{e}");
    assert_eq!(v.history(p).unwrap().len(), before);
    assert_eq!(v.audit().unwrap().len(), audit_before);
    assert!(files_under(&dir.join("blobs")).is_empty());
    assert!(v.verify().unwrap().problems.is_empty());
}

/// Hostile bulk input: an endless line, invalid UTF-8, deep nesting and NUL bytes each get a
/// specific error with their line number, and nothing is written.
#[test]
fn hostile_bulk_input_is_refused_line_by_line_without_writing() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let mut input = Vec::new();
    input.extend_from_slice(b"{\"names\":[{\"value\":\"ok\"}]}\n");
    input.extend_from_slice(b"{\"names\":[{\"value\":\"");
    input.extend(std::iter::repeat_n(b'A', 9 * 1024 * 1024));
    input.extend_from_slice(b"\"}]}\n");
    input.extend_from_slice(b"{\"names\":[{\"value\":\"\xff\xfe\"}]}\n");
    input.extend_from_slice(&b"[".repeat(10_000));
    input.push(b'\n');
    input.extend_from_slice(b"{\"names\":[{\"value\":\"a\x00b\"}]}\n");
    let err = v
        .add_many(Kind::Person, &input[..], &mut |_| {})
        .unwrap()
        .unwrap_err();
    let lines: Vec<usize> = err.errors.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{:?}", err.errors);
    assert!(
        err.errors[0].1.to_string().contains("at most"),
        "{}",
        err.errors[0].1
    );
    assert!(v.list(None).unwrap().is_empty());
}

#[test]
fn a_version_1_vault_is_migrated_on_unlock() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    // Records with every kind of reference, so the migration's backfill of `refs` (SQL) can be
    // compared with what saves write (Rust).
    every_kind_of_reference(&mut v, p);
    v.lock();
    let refs_as_saved = refs_rows(&dir);
    assert!(refs_as_saved.len() >= 9, "{refs_as_saved:?}");
    let c = raw_db(&dir);
    c.execute_batch(
        "DROP TABLE recipients; DROP TABLE export_cursors; DROP TABLE identities; DROP TABLE trusted_devices; DROP TABLE imports; DROP TABLE drafts; DROP INDEX records_kind; DROP TABLE refs; UPDATE meta SET value = '1' WHERE key = 'schema_version';",
    )
    .unwrap();
    drop(c);
    v.unlock(&pass()).unwrap();
    v.lock();
    assert_eq!(
        refs_rows(&dir),
        refs_as_saved,
        "the migration backfills refs as saves write them"
    );
    v.unlock(&pass()).unwrap();
    assert_eq!(v.get(p).unwrap().id, p);
    let r: vault::bundle::Recipient = age::x25519::Identity::generate()
        .to_public()
        .to_string()
        .parse()
        .unwrap();
    v.add_recipient(&r, Some("coordinators")).unwrap();
    assert_eq!(v.recipients().unwrap().len(), 1);
    v.lock();
    let version: String = raw_db(&dir)
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, vault::SCHEMA_VERSION.to_string());
    let plan: String = raw_db(&dir)
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM records WHERE kind = 'person' ORDER BY id DESC",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(plan.contains("records_kind"), "lists use the index: {plan}");
}

/// An export that fails half-way (a damaged attachment) leaves no file, no temp file, no
/// audit event and no moved cursor: the next export still has everything.
#[test]
fn export_that_fails_half_way_leaves_nothing() {
    use vault::bundle::{ExportOptions, ExportScope};
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let dest = t.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    v.attach(p, &vec![7u8; 300_000][..], AttachMeta::default())
        .unwrap();
    let org = age::x25519::Identity::generate();
    v.add_recipient(&org.to_public().to_string().parse().unwrap(), None)
        .unwrap();
    // Damage the attachment's ciphertext near its end.
    let (blob, mut bytes) = files_under(&dir.join("blobs")).remove(0);
    let n = bytes.len();
    bytes[n - 100] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let audit_before = v.audit().unwrap().len();
    let opts = ExportOptions {
        scope: ExportScope::SinceLast,
        extra_recipients: vec![],
        output: dest.clone(),
        armor: false,
        passphrase: None,
        cancel: None,
    };
    let e = v.export(&opts, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("writing"), "{e}");
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "a partial file was left"
    );
    assert_eq!(v.audit().unwrap().len(), audit_before);
    // Repaired, the same incremental export still carries the record.
    bytes[n - 100] ^= 1;
    std::fs::write(&blob, &bytes).unwrap();
    let r = v.export(&opts, &mut |_| {}).unwrap();
    assert_eq!((r.records, r.blobs), (1, 1));
    assert!(matches!(
        v.export(&opts, &mut |_| {}),
        Err(Error::NothingToExport)
    ));
}

/// A cancelled export (the app's Cancel button) leaves no file and moves no cursor: the next
/// export still has everything.
#[test]
fn a_cancelled_export_leaves_nothing_and_the_next_one_has_everything() {
    use vault::bundle::{ExportOptions, ExportScope};
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let dest = t.path().join("out");
    std::fs::create_dir_all(&dest).unwrap();
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    v.attach(p, &vec![3u8; 20 << 20][..], AttachMeta::default())
        .unwrap();
    let org = age::x25519::Identity::generate();
    v.add_recipient(&org.to_public().to_string().parse().unwrap(), None)
        .unwrap();
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opts = ExportOptions {
        scope: ExportScope::SinceLast,
        extra_recipients: vec![],
        output: dest.clone(),
        armor: false,
        passphrase: None,
        cancel: Some(cancel.clone()),
    };
    let audit_before = v.audit().unwrap().len();
    // Cancelled while the attachment is being written.
    let flag = cancel.clone();
    let e = v
        .export(&opts, &mut |_| {
            flag.store(true, std::sync::atomic::Ordering::Relaxed)
        })
        .unwrap_err();
    assert!(matches!(e, Error::Cancelled), "{e}");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
    assert_eq!(v.audit().unwrap().len(), audit_before);
    cancel.store(false, std::sync::atomic::Ordering::Relaxed);
    let r = v.export(&opts, &mut |_| {}).unwrap();
    assert_eq!((r.records, r.blobs), (1, 1));
}

/// Drafts (the app saves narratives as they are typed) are kept encrypted across a lock, and a
/// purge of their record destroys them with it.
#[test]
fn drafts_survive_a_lock_and_die_with_a_purge() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("v");
    let mut v = new_vault(&dir);
    let p = add_person(&mut v, "Сенбай");
    let tid = add_testimony(&mut v, p, "first words");
    let canary = "DRAFT-CANARY-9c4f";
    v.save_draft("narrative:new", None, &format!("{canary} unsaved"))
        .unwrap();
    v.save_draft(
        &format!("narrative:{tid}"),
        Some(tid),
        &format!("{canary} edit"),
    )
    .unwrap();
    v.lock();
    assert!(matches!(v.draft("narrative:new"), Err(Error::Locked)));
    assert!(
        canary_hits(&dir, canary).is_empty(),
        "a draft reached the disk in plaintext"
    );
    v.unlock(&pass()).unwrap();
    assert_eq!(
        v.draft("narrative:new").unwrap().unwrap().0,
        format!("{canary} unsaved")
    );
    v.purge(tid, "consent withdrawn").unwrap();
    assert!(v.draft(&format!("narrative:{tid}")).unwrap().is_none());
    v.discard_draft("narrative:new").unwrap();
    assert!(v.draft("narrative:new").unwrap().is_none());
    assert!(v.save_draft("", None, "x").is_err());
}

/// R5: after an emergency erase nobody can open the vault — not with the passphrase, not with
/// the recovery key — and nothing of it is left in its folder.
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
        },
    )
    .unwrap();
    add_person(&mut v, "Сенбай");
    let slots: Vec<_> = std::fs::read_dir(dir.join("keyslots")).unwrap().collect();
    assert_eq!(slots.len(), 2);
    v.erase().unwrap();
    assert!(!dir.exists(), "the vault folder is still there");
    assert!(matches!(Vault::open(&dir), Err(Error::NoVault(_))));
    let mut again = Vault::create(
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
    again.lock();
    assert!(again.unlock_with_recovery(&recovery).is_err());
}

/// The app's lists are paged: a page is the same rows, in the same order, as the whole list.
#[test]
fn list_pages_match_the_whole_list() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let mut people = Vec::new();
    for i in 0..25 {
        people.push(add_person(&mut v, &format!("Person {i}")));
    }
    add_testimony(&mut v, people[0], "one testimony");
    let all: Vec<_> = v
        .list(Some(Kind::Person))
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut paged = Vec::new();
    for page in 0..3 {
        let (total, rows) = v.list_page(Some(Kind::Person), page * 10, 10).unwrap();
        assert_eq!(total, 25);
        paged.extend(rows.into_iter().map(|s| s.id));
    }
    assert_eq!(paged, all);
    assert_eq!(v.list_page(None, 0, 100).unwrap().0, 26);
}

/// A person's page lists what refers to them: testimonies (as witness or as a victim of an
/// event), attempts, cases, relatives; a narrative that only quotes the id does not count.
#[test]
fn related_records_are_those_that_refer() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    let other = add_person(&mut v, "Айгүл");
    let as_witness = add_testimony(&mut v, p, "told by him");
    let unrelated = add_testimony(&mut v, other, &format!("mentions {p} in passing"));
    let as_victim = v
        .add(
            Kind::Testimony,
            serde_json::json!({ "witness": other, "narrative": "n",
                "events": [{ "type": "camp", "victims": [p] }] })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
        .record;
    let attempt = v
        .add(
            Kind::Attempt,
            serde_json::json!({ "person": p, "submitted_on": "2024-03" })
                .to_string()
                .as_bytes(),
        )
        .unwrap()
        .record;
    let relative = v
        .add(
            Kind::Person,
            serde_json::json!({ "names": [{ "value": "Нұрлан" }],
                "relationships": [{ "person": p, "relation": "child" }] })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
        .record;
    let case = v
        .add(
            Kind::Case,
            serde_json::json!({ "reference": "AJ-2026-0142", "persons": [p], "testimonies": [as_witness] })
                .to_string()
                .as_bytes(),
        )
        .unwrap()
        .record;
    let mut got: Vec<_> = v.related(p).unwrap().into_iter().map(|s| s.id).collect();
    got.sort();
    let mut want = vec![as_witness, as_victim, attempt, relative, case];
    want.sort();
    assert_eq!(got, want);
    assert!(!got.contains(&unrelated));
    assert_eq!(
        v.related(as_witness)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>(),
        vec![case]
    );
    // Once the case no longer holds the person, it is no longer related.
    let head = v.get(case).unwrap().heads[0].id.clone();
    v.edit(case, br#"{"reference":"AJ-2026-0142"}"#, Some(head), true)
        .unwrap();
    assert!(!v.related(p).unwrap().iter().any(|s| s.id == case));
}

/// Every field that refers to another record, once.
fn every_kind_of_reference(v: &mut Vault, p: RecordId) {
    let add = |v: &mut Vault, kind: Kind, json: serde_json::Value| {
        v.add(kind, json.to_string().as_bytes()).unwrap().record
    };
    let q = add(
        v,
        Kind::Person,
        serde_json::json!({ "names": [{ "value": "Нұрлан" }], "relationships": [{ "person": p, "relation": "child" }] }),
    );
    let t = add(
        v,
        Kind::Testimony,
        serde_json::json!({ "witness": p, "narrative": "n", "events": [{ "type": "camp", "victims": [q, p] }] }),
    );
    let a1 = add(
        v,
        Kind::Attempt,
        serde_json::json!({ "person": p, "submitted_on": "2023-01" }),
    );
    let a2 = add(
        v,
        Kind::Attempt,
        serde_json::json!({ "person": p, "submitted_on": "2024-01", "follows_up": a1 }),
    );
    add(
        v,
        Kind::Case,
        serde_json::json!({ "reference": "AJ-2026-0001", "persons": [p, q], "testimonies": [t], "attempts": [a1, a2] }),
    );
}

fn refs_rows(dir: &std::path::Path) -> Vec<(String, String)> {
    let c = raw_db(dir);
    let mut st = c
        .prepare("SELECT target, record FROM refs ORDER BY target, record")
        .unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The index of references holds exactly what validation checks, for every kind.
#[test]
fn references_in_agrees_with_validation() {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("v"));
    let p = add_person(&mut v, "Сенбай");
    every_kind_of_reference(&mut v, p);
    for s in v.list(None).unwrap() {
        let head = v.get(s.id).unwrap().heads.pop().unwrap();
        let data = head.data.unwrap();
        let checked: std::collections::BTreeSet<String> =
            vault::model::validate(s.kind, data.to_string().as_bytes())
                .unwrap()
                .references
                .into_iter()
                .map(|r| r.id.to_string())
                .collect();
        let indexed: std::collections::BTreeSet<String> =
            vault::model::references_in(s.kind, &data)
                .into_iter()
                .collect();
        assert_eq!(indexed, checked, "{}", s.kind);
    }
}
