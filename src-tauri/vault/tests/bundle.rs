//! Bundles end to end through the library: export at a caseworker, import at a coordinator,
//! merge of two caseworkers' edits into one conflict, and hostile bundles — each refused with a
//! specific reason and the coordinator's vault unchanged.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::*;
use vault::bundle::{ExportOptions, ExportScope};
use vault::{AttachMeta, Error, Kind, RecordId, Vault};

struct Org {
    _t: tempfile::TempDir,
    dir: PathBuf,
    v: Vault,
    identity: age::x25519::Identity,
    recipient: String,
}

fn coordinator() -> Org {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("coord");
    let mut v = new_vault(&dir);
    let id_file = t.path().join("org.key");
    let identity = age::x25519::Identity::generate();
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &id_file,
            format!("{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
    }
    let recipient = v
        .import_identity_file(&id_file, Some("org"))
        .unwrap()
        .remove(0);
    Org {
        _t: t,
        dir,
        v,
        identity,
        recipient,
    }
}

fn caseworker(org: &mut Org, name: &str) -> (tempfile::TempDir, Vault) {
    let t = tempfile::tempdir().unwrap();
    let mut v = new_vault(&t.path().join("cw"));
    v.add_recipient(&org.recipient.parse().unwrap(), Some("org"))
        .unwrap();
    org.v
        .trust_device(&v.device_public_key().unwrap().minisign, name)
        .unwrap();
    (t, v)
}

fn export(v: &mut Vault, scope: ExportScope, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    let opts = ExportOptions {
        scope,
        extra_recipients: vec![],
        output: dest.to_owned(),
        armor: false,
        passphrase: None,
        cancel: None,
    };
    v.export(&opts, &mut |_| {}).unwrap().path
}

/// What must not change when a bundle is refused: record heads, attachment files, and the
/// audit log apart from rejection events.
type Snapshot = (Vec<(RecordId, Vec<String>)>, Vec<PathBuf>, usize);

fn snapshot(org: &Org) -> Snapshot {
    let mut heads: Vec<(RecordId, Vec<String>)> = org
        .v
        .list(None)
        .unwrap()
        .into_iter()
        .map(|s| {
            let h = org
                .v
                .get(s.id)
                .unwrap()
                .heads
                .iter()
                .map(|r| r.id.to_string())
                .collect();
            (s.id, h)
        })
        .collect();
    heads.sort();
    let mut blobs: Vec<PathBuf> = files_under(&org.dir.join("blobs"))
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    blobs.sort();
    let audit = org
        .v
        .audit()
        .unwrap()
        .iter()
        .filter(|e| e.event["type"] != "bundle_rejected")
        .count();
    (heads, blobs, audit)
}

/// Decrypts a bundle into its tar entries (path, bytes), for tests that alter it.
fn open_bundle(path: &Path, id: &age::x25519::Identity) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let plain = age::decrypt(id, &bytes).unwrap();
    let mut a = tar::Archive::new(&plain[..]);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            (p, b)
        })
        .collect()
}

enum Raw {
    File(String, Vec<u8>),
    /// A header written by hand: any name bytes, any entry type, optional link target.
    Header(Vec<u8>, tar::EntryType, Vec<u8>),
}

fn seal(entries: &[Raw], to: &str) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            Raw::File(p, b) => {
                let mut h = tar::Header::new_ustar();
                h.set_size(b.len() as u64);
                h.set_mode(0o600);
                h.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut h, p, &b[..]).unwrap();
            }
            Raw::Header(name, kind, data) => {
                let mut h = tar::Header::new_old();
                h.as_old_mut().name[..name.len()].copy_from_slice(name);
                h.set_entry_type(*kind);
                h.set_size(data.len() as u64);
                h.set_mode(0o600);
                if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
                    h.as_old_mut().linkname[..7].copy_from_slice(b"/etc/pw");
                    h.set_size(0);
                }
                h.set_cksum();
                tar.append(&h, &data[..]).unwrap();
            }
        }
    }
    let plain = tar.into_inner().unwrap();
    let r: age::x25519::Recipient = to.parse().unwrap();
    age::encrypt(&r, &plain).unwrap()
}

fn sha(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Rebuilds manifest.json for `entries` (keeping the original's other fields) and signs it.
fn resign(entries: &mut Vec<(String, Vec<u8>)>, signer: &Vault) {
    entries.retain(|(p, _)| !p.ends_with("manifest.json") && !p.ends_with("manifest.json.minisig"));
    let list: Vec<serde_json::Value> = entries
        .iter()
        .map(|(p, b)| {
            serde_json::json!({ "path": p.trim_start_matches("kuager-bundle/"), "size": b.len(), "sha256": sha(b) })
        })
        .collect();
    let manifest = serde_json::json!({
        "format": "kuager-bundle", "version": 1, "bundle_id": uuid_like(), "created_at": "2026-11-28T00:00:00.000Z",
        "source": { "vault_id": "x", "device_id": "x", "device_public_key": signer.device_public_key().unwrap().minisign, "label": null },
        "recipients": [], "scope": { "records": "all" }, "entries": list, "counts": {},
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    let sig = signer.sign(&bytes, "test").unwrap();
    entries.push(("kuager-bundle/manifest.json".into(), bytes));
    entries.push((
        "kuager-bundle/manifest.json.minisig".into(),
        sig.into_bytes(),
    ));
}

fn uuid_like() -> String {
    format!(
        "{:032x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn files(entries: &[(String, Vec<u8>)]) -> Vec<Raw> {
    entries
        .iter()
        .map(|(p, b)| Raw::File(p.clone(), b.clone()))
        .collect()
}

#[test]
fn caseworker_to_coordinator_round_trip_and_reimport_is_a_no_op() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай Нұрахен");
    let tid = add_testimony(&mut cw, p, "held in the camp near Ghulja");
    let audio: Vec<u8> = (0..200_000u32).map(|i| (i % 241) as u8).collect();
    cw.attach(tid, &audio[..], AttachMeta::default()).unwrap();
    let bundle = export(&mut cw, ExportScope::SinceLast, &t.path().join("out"));

    let r = org.v.import(&bundle, &Default::default()).unwrap();
    assert_eq!((r.new_records, r.new_revisions, r.new_blobs), (2, 3, 1));
    assert_eq!(r.signer.label.as_deref(), Some("caseworker 1"));
    assert!(r.committed && r.conflicts.is_empty());
    assert_eq!(org.v.get(tid).unwrap().heads, cw.get(tid).unwrap().heads);
    let sha = org.v.get(tid).unwrap().heads[0].data.as_ref().unwrap()["attachments"][0]["blob"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut back = Vec::new();
    org.v
        .open_attachment(&sha)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, audio);
    assert!(org
        .v
        .search("Senbai", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == p));
    assert!(org
        .v
        .search("Ghulja", 10)
        .unwrap()
        .iter()
        .any(|h| h.summary.id == tid));
    assert!(org.v.verify().unwrap().problems.is_empty());

    let before = snapshot(&org);
    let again = org.v.import(&bundle, &Default::default()).unwrap();
    assert_eq!((again.new_revisions, again.new_blobs), (0, 0));
    assert_eq!(again.signer.label.as_deref(), Some("caseworker 1"));
    assert!(!again.committed);
    let after = snapshot(&org);
    assert_eq!(before.0, after.0);
    assert_eq!(before.1, after.1);

    // Inspect changes nothing at all.
    let cw2 = {
        cw.edit(tid, br#"{"place":"Almaty"}"#, None, false).unwrap();
        export(&mut cw, ExportScope::SinceLast, &t.path().join("out2"))
    };
    let before = snapshot(&org);
    let audit_before = org.v.audit().unwrap().len();
    let plan = org.v.inspect(&cw2, &Default::default()).unwrap();
    assert_eq!((plan.changed_records, plan.new_revisions), (1, 1));
    assert_eq!(snapshot(&org), before);
    assert_eq!(org.v.audit().unwrap().len(), audit_before);
}

#[test]
fn two_caseworkers_edit_one_testimony_and_the_coordinator_sees_one_conflict() {
    let mut org = coordinator();
    let (ta, mut a) = caseworker(&mut org, "A");
    let (tb, mut b) = caseworker(&mut org, "B");
    // B receives A's testimony (B's vault holds the organisation identity too, and trusts A).
    let p = add_person(&mut a, "Сайрагүл");
    let tid = add_testimony(&mut a, p, "first telling");
    let first = export(&mut a, ExportScope::SinceLast, &ta.path().join("1"));
    {
        use age::secrecy::ExposeSecret;
        let f = tb.path().join("org.key");
        std::fs::write(
            &f,
            format!("{}\n", org.identity.to_string().expose_secret()),
        )
        .unwrap();
        b.import_identity_file(&f, None).unwrap();
    }
    b.trust_device(&a.device_public_key().unwrap().minisign, "A")
        .unwrap();
    b.import(&first, &Default::default()).unwrap();
    org.v.import(&first, &Default::default()).unwrap();
    a.edit(tid, br#"{"narrative":"A's correction"}"#, None, false)
        .unwrap();
    b.edit(tid, br#"{"narrative":"B's correction"}"#, None, false)
        .unwrap();
    let from_a = export(&mut a, ExportScope::SinceLast, &ta.path().join("2"));
    let from_b = export(&mut b, ExportScope::SinceLast, &tb.path().join("2"));
    org.v.import(&from_a, &Default::default()).unwrap();
    let r = org.v.import(&from_b, &Default::default()).unwrap();
    assert_eq!(r.conflicts, vec![tid.to_string()]);
    let heads = org.v.get(tid).unwrap().heads;
    assert_eq!(heads.len(), 2);
    let texts: Vec<&str> = heads
        .iter()
        .map(|h| h.data.as_ref().unwrap()["narrative"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"A's correction") && texts.contains(&"B's correction"));
    assert_eq!(org.v.conflicts().unwrap().len(), 1);
    // Resolved by a merge revision that names both versions as parents.
    let keep = heads
        .iter()
        .find(|h| h.data.as_ref().unwrap()["narrative"] == "B's correction")
        .unwrap()
        .id
        .clone();
    let merged = org.v.resolve(tid, Some(keep), None).unwrap();
    let now = org.v.get(tid).unwrap().heads;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].id, merged.revision);
    let mut parents = now[0].parents.clone();
    parents.sort();
    let mut expected: Vec<_> = heads.iter().map(|h| h.id.clone()).collect();
    expected.sort();
    assert_eq!(parents, expected);
    assert_eq!(now[0].data.as_ref().unwrap()["narrative"], "B's correction");
    assert!(org.v.conflicts().unwrap().is_empty());
    // Re-importing either bundle changes nothing: the conflict does not come back.
    let before = snapshot(&org);
    org.v.import(&from_a, &Default::default()).unwrap();
    org.v.import(&from_b, &Default::default()).unwrap();
    assert_eq!(snapshot(&org).0, before.0);
    assert!(org.v.conflicts().unwrap().is_empty());
    assert!(org.v.verify().unwrap().problems.is_empty());
}

/// Each hostile bundle: refused with its own reason, nothing changed.
#[test]
fn hostile_bundles_are_refused_and_change_nothing() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    cw.attach(tid, &b"scan of a passport"[..], AttachMeta::default())
        .unwrap();
    let good = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let good_bytes = std::fs::read(&good).unwrap();
    let entries = open_bundle(&good, &org.identity);
    let stranger = new_vault(&t.path().join("stranger"));
    let blob_path = entries
        .iter()
        .find(|(p, _)| p.contains("/blobs/"))
        .unwrap()
        .0
        .clone();

    let mut cases: Vec<(&str, Vec<u8>, &str)> = Vec::new();
    for cut in [10usize, 200, good_bytes.len() / 2, good_bytes.len() - 1] {
        cases.push(("truncated", good_bytes[..cut].to_vec(), ""));
    }
    for (what, at) in [
        ("header", 40usize),
        ("payload", good_bytes.len() / 2),
        ("last chunk", good_bytes.len() - 5),
    ] {
        let mut b = good_bytes.clone();
        b[at] ^= 0x01;
        cases.push((what, b, ""));
    }
    let elsewhere = age::x25519::Identity::generate().to_public().to_string();
    cases.push((
        "wrong recipient",
        seal(&files(&entries), &elsewhere),
        "not addressed to this vault",
    ));
    let r = &org.recipient;
    let with = |extra: Raw| {
        let mut raws = files(&entries);
        raws.insert(1, extra);
        seal(&raws, r)
    };
    cases.push((
        "path traversal",
        with(Raw::Header(
            b"kuager-bundle/../../evil".to_vec(),
            tar::EntryType::Regular,
            b"x".to_vec(),
        )),
        "not normalised",
    ));
    cases.push((
        "absolute path",
        with(Raw::Header(
            b"/etc/kuager".to_vec(),
            tar::EntryType::Regular,
            b"x".to_vec(),
        )),
        "outside",
    ));
    cases.push((
        "symlink",
        with(Raw::Header(
            blob_path
                .replace(&blob_path[blob_path.len() - 4..], "0000")
                .into_bytes(),
            tar::EntryType::Symlink,
            vec![],
        )),
        "not a regular file",
    ));
    cases.push((
        "hardlink",
        with(Raw::Header(
            b"kuager-bundle/README.txt".to_vec(),
            tar::EntryType::Link,
            vec![],
        )),
        "not a regular file",
    ));
    cases.push((
        "device",
        with(Raw::Header(
            b"kuager-bundle/audit.jsonl".to_vec(),
            tar::EntryType::Char,
            vec![],
        )),
        "not a regular file",
    ));
    cases.push((
        "duplicate",
        with(Raw::File(
            "kuager-bundle/README.txt".into(),
            b"again".to_vec(),
        )),
        "twice",
    ));
    cases.push((
        "unknown name",
        with(Raw::File("kuager-bundle/notes.txt".into(), b"x".to_vec())),
        "unexpected entry",
    ));
    cases.push((
        "not in manifest",
        with(Raw::File(
            format!("kuager-bundle/blobs/{}", sha(b"extra")),
            b"extra".to_vec(),
        )),
        "not in the manifest",
    ));
    {
        let mut e = entries.clone();
        e.retain(|(p, _)| !p.ends_with("audit.jsonl"));
        cases.push((
            "manifest entry missing",
            seal(&files(&e), r),
            "not in the bundle",
        ));
    }
    {
        let mut e = entries.clone();
        for (p, b) in e.iter_mut() {
            if p.ends_with("records.jsonl") {
                b.extend_from_slice(b"\n");
            }
        }
        cases.push((
            "size or hash mismatch",
            seal(&files(&e), r),
            "does not match the manifest",
        ));
    }
    {
        let mut e = entries.clone();
        for (p, b) in e.iter_mut() {
            if p.ends_with("records.jsonl") {
                *b = String::from_utf8(b.clone())
                    .unwrap()
                    .replace("the account", "a forged account")
                    .into_bytes();
            }
        }
        resign(&mut e, &cw);
        cases.push((
            "revision id not matching content",
            seal(&files(&e), r),
            "does not match its content",
        ));
    }
    {
        let mut e = entries.clone();
        e.retain(|(p, _)| !p.contains("/blobs/"));
        resign(&mut e, &cw);
        cases.push((
            "blob referenced but absent",
            seal(&files(&e), r),
            "neither in the bundle",
        ));
    }
    {
        let mut e = entries.clone();
        resign(&mut e, &stranger);
        cases.push((
            "signature by an unknown key",
            seal(&files(&e), r),
            "unknown device key",
        ));
    }
    {
        let mut e = entries.clone();
        for (p, b) in e.iter_mut() {
            if p.ends_with("manifest.json") {
                b.extend_from_slice(b" ");
            }
        }
        cases.push((
            "signature over a different manifest",
            seal(&files(&e), r),
            "signature does not match",
        ));
    }

    for (name, bytes, reason) in cases {
        let before = snapshot(&org);
        let path = t
            .path()
            .join(format!("{}.kuager.age", name.replace(' ', "-")));
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        match org.v.import(&path, &Default::default()) {
            Err(e @ (Error::Rejected(_) | Error::UnknownSigner { .. })) => {
                assert!(e.to_string().contains(reason), "{name}: {e}")
            }
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert_eq!(snapshot(&org), before, "{name}: the vault changed");
        let last = org.v.audit().unwrap().last().unwrap().event.clone();
        assert_eq!(last["type"], "bundle_rejected", "{name}");
    }
    // Oversized entry and too many entries, against smaller caps than the defaults.
    for (name, limits, reason) in [
        (
            "oversized entry",
            vault::bundle::ImportLimits {
                records_bytes: 100,
                ..Default::default()
            },
            "larger than",
        ),
        (
            "entry count",
            vault::bundle::ImportLimits {
                entries: 3,
                ..Default::default()
            },
            "more than 3 entries",
        ),
        (
            "oversized attachment",
            vault::bundle::ImportLimits {
                blob_bytes: 5,
                ..Default::default()
            },
            "larger than the limit",
        ),
    ] {
        let before = snapshot(&org);
        let opts = vault::bundle::ImportOptions {
            limits,
            ..Default::default()
        };
        match org.v.import(&good, &opts) {
            Err(Error::Rejected(msg)) => assert!(msg.contains(reason), "{name}: {msg}"),
            other => panic!("{name}: expected a refusal, got {other:?}"),
        }
        assert_eq!(snapshot(&org), before, "{name}: the vault changed");
    }
    // The untouched bundle still imports.
    assert_eq!(
        org.v
            .import(&good, &Default::default())
            .unwrap()
            .new_records,
        2
    );
    assert_eq!(org.v.list(Some(Kind::Testimony)).unwrap().len(), 1);
}

/// Everything a vault's database logically holds, decrypted into a plain SQLite file (tables,
/// indexes and the full-text index's own tables), for looking for a canary.
fn plaintext_dump(dir: &Path, out: &Path) -> Vec<u8> {
    let slot = std::fs::read(dir.join("keyslots/passphrase.age")).unwrap();
    let plain = age::decrypt(&age::scrypt::Identity::new(PASS.to_owned().into()), &slot).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let key = v["sqlcipher_key"].as_str().unwrap();
    let c = rusqlite::Connection::open(dir.join("vault.db")).unwrap();
    c.execute_batch(&format!("PRAGMA key = \"x'{key}'\";"))
        .unwrap();
    c.execute_batch(&format!(
        "ATTACH DATABASE '{}' AS plaintext KEY ''; SELECT sqlcipher_export('plaintext'); DETACH DATABASE plaintext;",
        out.display()
    ))
    .unwrap();
    std::fs::read(out).unwrap()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn purge_travels_and_destroys_the_content_at_the_coordinator() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let canary = "PURGECANARY9f1e";
    let p = add_person(&mut cw, "Сенбай");
    let keep = add_testimony(&mut cw, p, "another testimony that stays");
    let tid = add_testimony(&mut cw, p, &format!("{canary} told in confidence"));
    cw.edit(
        tid,
        format!(r#"{{"summary":"{canary} summary"}}"#).as_bytes(),
        None,
        false,
    )
    .unwrap();
    cw.attach(
        tid,
        format!("{canary} audio").as_bytes(),
        AttachMeta::default(),
    )
    .unwrap();
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    org.v.import(&first, &Default::default()).unwrap();
    assert!(!org.v.search(canary, 10).unwrap().is_empty());
    let dump = plaintext_dump(&org.dir, &t.path().join("before.db"));
    assert!(
        contains(&dump, canary),
        "the dump sees plaintext: the check below can fail"
    );

    // Consent withdrawn at the caseworker.
    cw.purge(tid, "consent withdrawn").unwrap();
    assert!(cw.search(canary, 10).unwrap().is_empty());
    assert!(files_under(&cw.dir().join("blobs")).is_empty());
    assert!(matches!(
        cw.edit(tid, br#"{"place":"x"}"#, None, false),
        Err(Error::Invalid { .. })
    ));
    let dump = plaintext_dump(cw.dir(), &t.path().join("cw.db"));
    assert!(
        !contains(&dump, canary),
        "the caseworker's vault still holds the purged text"
    );
    assert!(cw.verify().unwrap().problems.is_empty());

    // The purge travels: the coordinator's copy is destroyed on import.
    let r = org
        .v
        .import(
            &export(&mut cw, ExportScope::SinceLast, &t.path().join("2")),
            &Default::default(),
        )
        .unwrap();
    assert_eq!(r.changed_records, 1);
    assert_eq!(org.v.summary(tid).unwrap().facts, vault::Facts::Purged);
    assert!(org.v.search(canary, 10).unwrap().is_empty());
    assert!(org
        .v
        .history(tid)
        .unwrap()
        .iter()
        .filter(|h| !h.head)
        .all(|h| h.purged));
    assert!(
        files_under(&org.dir.join("blobs")).is_empty(),
        "the purged attachment's file is still there"
    );
    let dump = plaintext_dump(&org.dir, &t.path().join("after.db"));
    assert!(
        !contains(&dump, canary),
        "the coordinator's vault still holds the purged text"
    );
    // The first bundle again, re-encrypted so it is another file with the same content, does
    // not bring the purged content or attachment back.
    let copy = t.path().join("first-again.age");
    {
        let plain = age::decrypt(&org.identity, &std::fs::read(&first).unwrap()).unwrap();
        std::fs::write(
            &copy,
            age::encrypt(&org.identity.to_public(), &plain).unwrap(),
        )
        .unwrap();
    }
    let again = org.v.import(&copy, &Default::default()).unwrap();
    assert_eq!((again.new_revisions, again.new_blobs), (0, 0));
    assert!(
        files_under(&org.dir.join("blobs")).is_empty(),
        "a purged attachment came back"
    );
    assert!(org.v.search(canary, 10).unwrap().is_empty());
    assert!(!contains(
        &plaintext_dump(&org.dir, &t.path().join("again.db")),
        canary
    ));
    // What was not purged is intact.
    assert_eq!(
        org.v.get(keep).unwrap().heads[0].data.as_ref().unwrap()["narrative"],
        "another testimony that stays"
    );
    assert!(org.v.verify().unwrap().problems.is_empty());
    let events: Vec<String> = cw
        .audit()
        .unwrap()
        .iter()
        .map(|e| e.event["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.contains(&"record_purged".to_owned()));
}
