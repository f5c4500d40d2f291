//! Hostile bundles (docs/threat-model.md R7): damaged files, crafted archives and forged
//! contents are each refused with a specific reason, and the coordinator's vault is unchanged.
//! These are format-1 bundles (still read; made from a real export by `as_format1`), except
//! where a test says it runs on both formats; format 2's own cases are in
//! `hostile_format2.rs`.

use std::io::Write;
use std::path::PathBuf;

use testkit::bundles::*;
use testkit::fixture::*;

use vault::{Error, Kind, Vault};

/// A hostile bundle: what it is, its bytes, and words the refusal must contain.
type Case = (&'static str, Vec<u8>, &'static str);

/// What the cases are made from: a good bundle from a trusted caseworker, taken apart, as
/// format 1 (`good`, `entries`) and as exported, format 2 (`good2`, `entries2`).
struct Material {
    good: PathBuf,
    good_bytes: Vec<u8>,
    entries: Vec<(String, Vec<u8>)>,
    cw: Vault,
    stranger: Vault,
    _tmp: tempfile::TempDir,
}

fn material(org: &mut Org) -> Material {
    let b = both_formats(org);
    Material {
        good_bytes: std::fs::read(&b.good).unwrap(),
        entries: b.entries,
        stranger: new_vault(&b.tmp.path().join("stranger")),
        good: b.good,
        cw: b.cw,
        _tmp: b.tmp,
    }
}

/// Truncated and bit-flipped files: age refuses them before any tar is read.
fn damaged(m: &Material) -> Vec<Case> {
    let b = &m.good_bytes;
    let mut cases: Vec<Case> = Vec::new();
    // Cut within the header (its length varies: age adds a random stanza), then within the
    // payload.
    let mac_line = b.windows(4).position(|w| w == b"--- ").unwrap();
    for (cut, reason) in [
        (10usize, "cut short: not a complete age file"),
        (mac_line - 1, "cut short: not a complete age file"),
        (b.len() / 2, "damaged, cut short or was altered"),
        (b.len() - 1, "damaged, cut short or was altered"),
    ] {
        cases.push(("truncated", b[..cut].to_vec(), reason));
    }
    // The recipient stanza's key share (base64 from byte 32) changed to another share looks to
    // age like a key for someone else; changed to a character base64 does not have, it is
    // damage, as is another MAC (the line after "---"; changed to another base64 character, so
    // that it is age's MAC check that refuses it, whatever the random MAC was).
    let at = 40;
    let mut other_key = b.clone();
    other_key[at] = if b[at] == b'A' { b'B' } else { b'A' };
    cases.push((
        "another key share",
        other_key,
        "not addressed to this vault's key, or its header was damaged",
    ));
    let mut not_base64 = b.clone();
    not_base64[at] = b'!';
    cases.push((
        "header syntax",
        not_base64,
        "damaged, cut short or was altered",
    ));
    let mac = mac_line + 10;
    let mut other_mac = b.clone();
    other_mac[mac] = if b[mac] == b'A' { b'B' } else { b'A' };
    cases.push(("header MAC", other_mac, "damaged, cut short or was altered"));
    for (what, at, reason) in [
        ("payload", b.len() / 2, "damaged, cut short or was altered"),
        (
            "last chunk",
            b.len() - 5,
            "damaged, cut short or was altered",
        ),
    ] {
        let mut b = b.clone();
        b[at] ^= 0x01;
        cases.push((what, b, reason));
    }
    // Whitespace may come before an armored file only (C2SP age), never before a binary one.
    cases.push((
        "whitespace before a binary file",
        [b"\n", b.as_slice()].concat(),
        "damaged, cut short or was altered",
    ));
    let elsewhere = age::x25519::Identity::generate().to_public().to_string();
    cases.push((
        "wrong recipient",
        seal(&files(&m.entries), &elsewhere),
        "not addressed to this vault",
    ));
    cases
}

/// Archives with an entry added that no exporter writes: traversal, links, devices,
/// duplicates, unknown names, unlisted files.
fn crafted(m: &Material, to: &str) -> Vec<Case> {
    let with = |extra: Raw| {
        let mut raws = files(&m.entries);
        raws.insert(1, extra);
        seal(&raws, to)
    };
    let header = |name: &[u8], kind| Raw::Header(name.to_vec(), kind, vec![]);
    let blob_path = &m
        .entries
        .iter()
        .find(|(p, _)| p.contains("/blobs/"))
        .unwrap()
        .0;
    let linked = blob_path.replace(&blob_path[blob_path.len() - 4..], "0000");
    let regular = tar::EntryType::Regular;
    vec![
        (
            "path traversal",
            with(Raw::Header(
                b"kuager-bundle/../../evil".to_vec(),
                regular,
                b"x".to_vec(),
            )),
            "not normalised",
        ),
        (
            "absolute path",
            with(Raw::Header(b"/etc/kuager".to_vec(), regular, b"x".to_vec())),
            "outside",
        ),
        (
            "symlink",
            with(header(linked.as_bytes(), tar::EntryType::Symlink)),
            "not a regular file",
        ),
        (
            "hardlink",
            with(header(b"kuager-bundle/README.txt", tar::EntryType::Link)),
            "not a regular file",
        ),
        (
            "device",
            with(header(b"kuager-bundle/audit.jsonl", tar::EntryType::Char)),
            "not a regular file",
        ),
        (
            "duplicate",
            with(Raw::File(
                "kuager-bundle/README.txt".into(),
                b"again".to_vec(),
            )),
            "twice",
        ),
        (
            "unknown name",
            with(Raw::File("kuager-bundle/notes.txt".into(), b"x".to_vec())),
            "unexpected entry",
        ),
        (
            "not in manifest",
            with(Raw::File(
                format!("kuager-bundle/blobs/{}", sha(b"extra")),
                b"extra".to_vec(),
            )),
            "not in the manifest",
        ),
    ]
}

/// `entries` with the entry ending in `name` changed by `f`.
fn altered(
    entries: &[(String, Vec<u8>)],
    name: &str,
    f: impl Fn(&mut Vec<u8>),
) -> Vec<(String, Vec<u8>)> {
    let mut e = entries.to_vec();
    for (p, b) in e.iter_mut().filter(|(p, _)| p.ends_with(name)) {
        let _ = p;
        f(b);
    }
    e
}

/// Contents that do not match what they claim: the manifest, the revision ids, the
/// attachments, the signature, the signer.
fn forged(m: &Material, to: &str) -> Vec<Case> {
    let without = |part: &str| {
        let mut e = m.entries.clone();
        e.retain(|(p, _)| !p.contains(part));
        e
    };
    let resigned = |mut e: Vec<(String, Vec<u8>)>, by: &Vault| {
        resign(&mut e, by);
        seal(&files(&e), to)
    };
    let forged_records = altered(&m.entries, "records.jsonl", |b| {
        *b = String::from_utf8(b.clone())
            .unwrap()
            .replace("the account", "a forged account")
            .into_bytes();
    });
    vec![
        (
            "manifest entry missing",
            seal(&files(&without("audit.jsonl")), to),
            "not in the bundle",
        ),
        (
            "size or hash mismatch",
            seal(
                &files(&altered(&m.entries, "records.jsonl", |b| {
                    b.extend_from_slice(b"\n")
                })),
                to,
            ),
            "does not match the manifest",
        ),
        (
            "revision id not matching content",
            resigned(forged_records, &m.cw),
            "does not match its content",
        ),
        (
            "blob referenced but absent",
            resigned(without("/blobs/"), &m.cw),
            "neither in the bundle",
        ),
        (
            "signature by an unknown key",
            resigned(m.entries.clone(), &m.stranger),
            "unknown device key",
        ),
        (
            "manifest listing itself",
            {
                let mut e = m.entries.clone();
                let me =
                    serde_json::json!({ "path": "manifest.json", "size": 1, "sha256": sha(b"x") });
                resign_listing(&mut e, &m.cw, &[me]);
                seal(&files(&e), to)
            },
            "which is not in the bundle",
        ),
        (
            "signature over a different manifest",
            seal(
                &files(&altered(&m.entries, "manifest.json", |b| {
                    b.extend_from_slice(b" ")
                })),
                to,
            ),
            "signature does not match",
        ),
    ]
}

/// Well-formed but not what this Kuager reads: another format or version, signed; a hash
/// changed at the same size; a purge marker with its id right but no list in it.
fn misshapen(m: &Material, to: &str) -> Vec<Case> {
    let resigned = |mut e: Vec<(String, Vec<u8>)>, by: &Vault| {
        resign(&mut e, by);
        seal(&files(&e), to)
    };
    // A purge marker (continuing the first revision, its id right) whose list is no list.
    let malformed_purge = altered(&m.entries, "records.jsonl", |b| {
        let first: vault::Revision =
            serde_json::from_slice(b.split(|&c| c == b'\n').next().unwrap()).unwrap();
        let data =
            serde_json::json!({ "kuager_purge": { "revisions": "all of them", "blobs": [] } });
        let at = "2026-11-29T00:00:00.000Z";
        let id = vault::revision::compute_id(
            &first.record,
            first.kind,
            std::slice::from_ref(&first.id),
            &first.device,
            at,
            &data,
        )
        .unwrap();
        let purge = serde_json::json!({
            "id": id, "record": first.record, "kind": first.kind, "parents": [first.id],
            "device": first.device, "at": at, "data": data,
        });
        b.extend_from_slice(format!("{purge}\n").as_bytes());
    });
    // The real manifest with one field changed, signed again by the caseworker.
    let remanifested = |field: &str, value: serde_json::Value| {
        let mut e = m.entries.clone();
        let at = e
            .iter()
            .position(|(p, _)| p.ends_with("manifest.json"))
            .unwrap();
        let mut manifest: serde_json::Value = serde_json::from_slice(&e[at].1).unwrap();
        manifest[field] = value;
        e[at].1 = serde_json::to_vec_pretty(&manifest).unwrap();
        let sig = m.cw.sign(&e[at].1, "test").unwrap();
        let s = e
            .iter()
            .position(|(p, _)| p.ends_with("manifest.json.minisig"))
            .unwrap();
        e[s].1 = sig.into_bytes();
        seal(&files(&e), to)
    };
    vec![
        (
            "manifest of another version",
            remanifested("version", serde_json::json!(2)),
            "of a version this Kuager reads",
        ),
        (
            "manifest of another format",
            remanifested("format", serde_json::json!("other-bundle")),
            "of a version this Kuager reads",
        ),
        (
            "hash mismatch at the same size",
            seal(
                &files(&altered(&m.entries, "records.jsonl", |b| {
                    let at = b.windows(11).position(|w| w == b"the account").unwrap();
                    b[at] = b'T';
                })),
                to,
            ),
            "does not match the manifest",
        ),
        (
            "malformed purge",
            resigned(malformed_purge, &m.cw),
            "a malformed purge",
        ),
    ]
}

#[test]
fn hostile_bundles_are_refused_and_change_nothing() {
    let mut org = coordinator();
    let m = material(&mut org);
    let to = org.recipient.clone();
    let cases = [
        damaged(&m),
        crafted(&m, &to),
        forged(&m, &to),
        misshapen(&m, &to),
    ]
    .concat();
    assert_eq!(cases.len(), 30);
    for (name, bytes, reason) in cases {
        let before = snapshot(&org);
        let path = org
            .tmp
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
    // The untouched bundle still imports.
    assert_eq!(
        org.v
            .import(&m.good, &Default::default())
            .unwrap()
            .new_records,
        2
    );
    assert_eq!(org.v.list(Some(Kind::Testimony)).unwrap().len(), 1);
}

/// A refusal may quote a value from the bundle to the user, but the audit log (which outlives
/// purges and travels in bundles) keeps no record content: the value is masked there.
#[test]
fn a_refusal_quoting_record_content_keeps_it_out_of_the_audit_log() {
    let mut org = coordinator();
    let m = material(&mut org);
    let canary = "AUDITCANARY4417";
    // A revision whose id matches its content, but whose content is not a valid person.
    let rev = vault::Revision::new(
        vault::RecordId::new(),
        Kind::Person,
        vec![],
        "device".into(),
        "2026-11-30T00:00:00.000Z".into(),
        serde_json::json!({ "names": [{ "value": "x" }], "gender": canary }),
    )
    .unwrap();
    let mut e = m.entries.clone();
    for (p, b) in e.iter_mut().filter(|(p, _)| p.ends_with("records.jsonl")) {
        let _ = p;
        b.extend_from_slice(&serde_json::to_vec(&rev).unwrap());
        b.push(b'\n');
    }
    resign(&mut e, &m.cw);
    let path = org.tmp.path().join("bad-value.kuager.age");
    std::fs::write(&path, seal(&files(&e), &org.recipient)).unwrap();
    let err = org.v.import(&path, &Default::default()).unwrap_err();
    assert!(
        err.to_string().contains(canary),
        "the user is told which value: {err}"
    );
    let last = org.v.audit().unwrap().last().unwrap().event.clone();
    assert_eq!(last["type"], "bundle_rejected");
    assert!(!last.to_string().contains(canary), "{last}");
    assert!(
        last["reason"].as_str().unwrap().contains("gender"),
        "{last}"
    );
}

/// A vault with no organisation identity refuses before it opens the file, and records
/// nothing: there was no bundle to refuse.
#[test]
fn no_identity_is_refused_before_anything_is_read_or_recorded() {
    let mut v = TempVault::new();
    let before = v.audit().unwrap().len();
    let path = v.outside("missing.kuager.age");
    assert!(matches!(
        v.import(&path, &Default::default()),
        Err(Error::NoIdentity)
    ));
    assert_eq!(v.audit().unwrap().len(), before);
}

/// A bundle's own text reaches a refusal only as a short, inert excerpt (issue #10, item 7):
/// 26 MiB of junk with terminal escapes in the manifest (46 MiB once JSON escapes them) leaves
/// an audit event under 1 KiB and a message with no control character in it.
#[test]
fn a_refusal_quotes_a_bundles_text_only_bounded_and_inert() {
    let mut org = coordinator();
    let m = material(&mut org);
    let junk = "\u{1b}[2J\u{1b}[31mJUNK".repeat(2 << 20);
    // The exporter's manifest, its format name replaced by the junk (read before any
    // signature is checked).
    let original = &m
        .entries
        .iter()
        .find(|(p, _)| p.ends_with("manifest.json"))
        .unwrap()
        .1;
    let mut manifest: serde_json::Value = serde_json::from_slice(original).unwrap();
    manifest["format"] = serde_json::json!(junk);
    let manifest = manifest.to_string();
    let mut e: Vec<(String, Vec<u8>)> = m
        .entries
        .iter()
        .filter(|(p, _)| !p.ends_with("manifest.json"))
        .cloned()
        .collect();
    e.push(("kuager-bundle/manifest.json".into(), manifest.into_bytes()));
    let path = org.tmp.path().join("junk.kuager.age");
    std::fs::write(&path, seal(&files(&e), &org.recipient)).unwrap();
    let err = org.v.import(&path, &Default::default()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 1024, "a refusal of {} bytes", shown.len());
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    let last = org.v.audit().unwrap().last().unwrap().clone();
    assert_eq!(last.event["type"], "bundle_rejected");
    let stored = serde_json::to_string(&last.event).unwrap();
    assert!(
        stored.len() < 1024,
        "an audit event of {} bytes",
        stored.len()
    );
}

/// An unknown signer is named by the key id its device shows (`kuager device`), to be checked
/// with its owner; inspecting such a bundle reports it instead of refusing, and changes nothing.
#[test]
fn an_unknown_signer_is_named_and_inspect_reports_it() {
    let mut org = coordinator();
    let m = material(&mut org);
    let mut e = m.entries.clone();
    resign(&mut e, &m.stranger);
    let path = org.tmp.path().join("stranger.kuager.age");
    std::fs::write(&path, seal(&files(&e), &org.recipient)).unwrap();
    let key = m.stranger.device_public_key().unwrap();
    match org.v.import(&path, &Default::default()) {
        Err(Error::UnknownSigner { key_id, public_key }) => {
            assert_eq!(
                (key_id, public_key),
                (key.key_id.clone(), key.minisign.clone())
            );
        }
        other => panic!("expected an unknown signer, got {other:?}"),
    }
    let before = snapshot(&org);
    let r = org.v.inspect(&path, &Default::default()).unwrap();
    assert_eq!(r.signer.key_id, key.key_id);
    assert_eq!(r.signer.label.as_deref(), Some(""));
    assert_eq!((r.new_records, r.committed), (2, false));
    assert_eq!(snapshot(&org), before);
}
