//! Writing records through the public API: revisions and conflicts, merge patches,
//! validation, bulk atomicity (hostile input included), attachments, drafts.

use std::io::Read;
use std::str::FromStr;

use testkit::canary::*;
use testkit::fixture::*;
use vault::{AttachMeta, Error, Kind, RecordId};

#[test]
fn two_edits_from_the_same_parent_make_two_heads_never_an_overwrite() {
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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
fn record_id_parsing_rejects_garbage() {
    assert!(RecordId::from_str("../../etc/passwd").is_err());
    assert!(matches!(RecordId::from_str("nope"), Err(Error::BadId(_))));
}

#[test]
fn bulk_add_writes_nothing_unless_every_line_is_valid() {
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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

/// Hostile bulk input: an endless line, invalid UTF-8, deep nesting and NUL bytes each get a
/// specific error with their line number, and nothing is written.
#[test]
fn hostile_bulk_input_is_refused_line_by_line_without_writing() {
    let mut v = TempVault::new();
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
fn attachments_round_trip_and_blob_names_are_random() {
    let mut v = TempVault::new();
    let dir = v.dir();
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
                custody: None,
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
    let mut v2 = new_vault(&v.tmp.path().join("v2"));
    let p2 = add_person(&mut v2, "B");
    v2.attach(p2, &content[..], AttachMeta::default()).unwrap();
    let f2 = files_under(&v.tmp.path().join("v2/blobs"));
    assert_ne!(f2[0].0.file_name(), files[0].0.file_name());
    // Attaching the same file twice to one record is refused, and leaves no extra file.
    let e = v
        .attach(tid, &content[..], AttachMeta::default())
        .unwrap_err();
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    assert_eq!(files_under(&dir.join("blobs")).len(), 1);
    assert!(v.verify().unwrap().problems.is_empty());
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
    let mut v = TempVault::new();
    let dir = v.dir();
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

/// Drafts (the app saves narratives as they are typed) are kept encrypted across a lock, and a
/// purge of their record destroys them with it.
#[test]
fn drafts_survive_a_lock_and_die_with_a_purge() {
    let mut v = TempVault::new();
    let dir = v.dir();
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
