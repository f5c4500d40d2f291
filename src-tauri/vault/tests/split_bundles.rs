//! An export larger than one bundle may be (issue #10, item 14): the exporter keeps the
//! importer's caps (`BundleLimits`), splits into several bundles, each importable once the
//! earlier ones are in; a failure removes every bundle the export wrote. Smaller caps than the
//! defaults stand in for 512 MiB of records and 200,000 entries.

use std::io::Read;
use std::path::{Path, PathBuf};

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::{BundleLimits, ExportOptions, ExportReport, ExportScope, ImportOptions};
use vault::{AttachMeta, Error, RecordId, Vault};

/// Caps small enough that the material below needs several bundles.
fn small() -> BundleLimits {
    BundleLimits {
        entries: 5 + 2,
        records_bytes: 4096,
        small_bytes: 64 << 10,
        blob_bytes: 1 << 20,
        total_bytes: 1 << 20,
    }
}

fn export_with(
    v: &mut Vault,
    scope: ExportScope,
    out: &Path,
    limits: BundleLimits,
) -> vault::Result<ExportReport> {
    std::fs::create_dir_all(out).unwrap();
    let opts = ExportOptions {
        scope,
        extra_recipients: vec![],
        confirmed: None,
        output: out.to_owned(),
        armor: false,
        passphrase: None,
        cancel: None,
        limits,
    };
    v.export(&opts, &mut |_| {})
}

fn with(limits: BundleLimits) -> ImportOptions {
    ImportOptions {
        limits,
        ..Default::default()
    }
}

/// Eight people, each with a testimony and an attachment of its own, then an edit of the
/// first testimony (which continues a revision of the first bundle).
fn material(cw: &mut Vault) -> Vec<RecordId> {
    let mut ids = Vec::new();
    for i in 0..8u32 {
        let p = add_person(cw, &format!("Сенбай {i}"));
        let t = add_testimony(cw, p, &format!("held in the camp near Ghulja, account {i}"));
        let bytes: Vec<u8> = (0..40_000u32).map(|b| (b * (i + 3) % 251) as u8).collect();
        cw.attach(t, &bytes[..], AttachMeta::default()).unwrap();
        ids.extend([p, t]);
    }
    cw.edit(ids[1], br#"{"place":"Almaty"}"#, None, false)
        .unwrap();
    ids
}

fn paths(r: &ExportReport) -> Vec<PathBuf> {
    r.bundles.iter().map(|b| b.path.clone()).collect()
}

#[test]
fn an_export_larger_than_one_bundle_is_split_and_the_parts_import_in_order() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let ids = material(&mut cw);

    // One bundle of it all is refused by an importer with these caps: the reason to split.
    let whole = export_with(
        &mut cw,
        ExportScope::All,
        &t.path().join("whole"),
        BundleLimits::default(),
    )
    .unwrap();
    assert_eq!(whole.bundles.len(), 1);
    let before = snapshot(&org);
    assert!(matches!(
        org.v.import(&whole.bundles[0].path, &with(small())),
        Err(Error::Rejected(_))
    ));
    assert_eq!(snapshot(&org), before);

    let r = export_with(&mut cw, ExportScope::All, &t.path().join("parts"), small()).unwrap();
    let n = r.bundles.len();
    assert!(
        n >= 4,
        "8 attachments at 2 a bundle need 4 bundles or more: {n}"
    );
    assert_eq!((r.records, r.revisions, r.blobs), (16, 25, 8));
    // The same content; the audit log has one event more: the first export's.
    assert_eq!(
        (
            whole.records,
            whole.revisions,
            whole.blobs,
            whole.audit_events + 1
        ),
        (r.records, r.revisions, r.blobs, r.audit_events)
    );
    let files = paths(&r);
    for (k, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.contains(&format!("-{}of{n}-", k + 1)), "{name}");
        // Each part is a standard bundle within the caps, saying which part it is.
        let entries = open_bundle(f, &org.identity);
        assert!(
            entries.len() <= small().entries,
            "{name}: {} entries",
            entries.len()
        );
        let get = |p: &str| {
            &entries
                .iter()
                .find(|(e, _)| e == &format!("kuager-bundle/{p}"))
                .unwrap()
                .1
        };
        assert!(get("records.jsonl").len() as u64 <= small().records_bytes);
        let total: usize = entries.iter().map(|(_, b)| b.len()).sum();
        assert!(total as u64 <= small().total_bytes);
        let manifest: serde_json::Value = serde_json::from_slice(get("manifest.json")).unwrap();
        assert_eq!(
            manifest["part"],
            serde_json::json!({ "number": k + 1, "of": n })
        );
    }

    // The last part continues the first: alone, it is refused and changes nothing.
    let before = snapshot(&org);
    match org.v.import(&files[n - 1], &with(small())) {
        Err(Error::Rejected(m)) => assert!(
            m.contains("does not have") || m.contains("neither in the bundle"),
            "{m}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(snapshot(&org), before);

    // In order, every part imports under the same caps, and the coordinator has it all.
    let mut new_revisions = 0;
    for f in &files {
        let got = org.v.import(f, &with(small())).unwrap();
        assert!(got.committed);
        new_revisions += got.new_revisions;
    }
    assert_eq!(new_revisions, 25);
    for id in &ids {
        assert_eq!(org.v.get(*id).unwrap().heads, cw.get(*id).unwrap().heads);
    }
    for head in org.v.get(ids[15]).unwrap().heads {
        let sha = head.data.as_ref().unwrap()["attachments"][0]["blob"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut back = Vec::new();
        org.v
            .open_attachment(&sha)
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back.len(), 40_000);
    }
    assert!(org.v.verify().unwrap().problems.is_empty());

    // The export cursor moved past all of it, once.
    assert!(matches!(
        export_with(
            &mut cw,
            ExportScope::SinceLast,
            &t.path().join("again"),
            small()
        ),
        Err(Error::NothingToExport)
    ));
    let exported = cw
        .audit()
        .unwrap()
        .into_iter()
        .filter(|e| e.event["type"] == "bundle_exported")
        .count();
    assert_eq!(exported, 1 + n, "one event per bundle written");
}

/// A file name given for an export of several bundles numbers them.
#[test]
fn a_file_name_given_for_several_bundles_is_numbered() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    material(&mut cw);
    let opts = ExportOptions {
        scope: ExportScope::All,
        extra_recipients: vec![],
        confirmed: None,
        output: t.path().join("for-almaty.kuager.age"),
        armor: false,
        passphrase: None,
        cancel: None,
        limits: small(),
    };
    let r = cw.export(&opts, &mut |_| {}).unwrap();
    let n = r.bundles.len();
    let names: Vec<String> = r
        .bundles
        .iter()
        .map(|b| b.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names[0], format!("for-almaty-1of{n}.kuager.age"));
    assert_eq!(names[n - 1], format!("for-almaty-{n}of{n}.kuager.age"));
    for f in paths(&r) {
        org.v.import(&f, &with(small())).unwrap();
    }
}

/// A failure in a later bundle removes the earlier ones too, records nothing, moves no cursor.
#[test]
fn an_export_of_several_bundles_that_fails_leaves_none_of_them() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    material(&mut cw);
    // One more attachment, saved last, so it travels in the last bundle; its file is the one
    // the folder did not have before. Damaged, it fails the export only after the earlier
    // bundles were finished.
    let blobs = t.path().join("cw").join("blobs");
    let files_now = || -> Vec<PathBuf> {
        let mut f: Vec<PathBuf> = testkit::canary::files_under(&blobs)
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        f.sort();
        f
    };
    let earlier = files_now();
    let p = add_person(&mut cw, "Сенбай last");
    let last_words = b"LAST-ATTACHMENT the last words of the export".repeat(500);
    let tid = add_testimony(&mut cw, p, "the last account");
    cw.attach(tid, &last_words[..], AttachMeta::default())
        .unwrap();
    let file = files_now()
        .into_iter()
        .find(|f| !earlier.contains(f))
        .expect("the new attachment's file");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 1;
    std::fs::write(&file, &bytes).unwrap();

    let out = t.path().join("out");
    let audit_before = cw.audit().unwrap().len();
    let e = export_with(&mut cw, ExportScope::SinceLast, &out, small()).unwrap_err();
    assert!(e.to_string().contains("not what was stored"), "{e}");
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "a bundle or partial file was left"
    );
    assert_eq!(cw.audit().unwrap().len(), audit_before);

    // Repaired, the same since-last export still carries everything.
    bytes[at] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let r = export_with(&mut cw, ExportScope::SinceLast, &out, small()).unwrap();
    assert_eq!((r.records, r.revisions, r.blobs), (18, 28, 9));
    // ... and the damaged attachment is in its last bundle alone: the failure came after at
    // least one whole bundle had been written, and that one was removed too.
    let holds_it: Vec<bool> = paths(&r)
        .iter()
        .map(|b| {
            attachments_of(&open_bundle(b, &org.identity))
                .iter()
                .any(|(_, content)| content == &last_words)
        })
        .collect();
    assert!(holds_it.len() >= 2, "{holds_it:?}");
    assert_eq!(holds_it.iter().filter(|h| **h).count(), 1, "{holds_it:?}");
    assert!(holds_it.last().unwrap(), "{holds_it:?}");
}

/// A record the coordinator purged keeps no attachments: a later bundle of the export, whose
/// revisions of it refer to an attachment only the first carried (and the coordinator dropped),
/// still imports, and the record stays purged.
#[test]
fn the_parts_import_where_the_coordinator_purged_a_record_they_carry() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "an account the witness withdrew");
    cw.attach(tid, &vec![9u8; 40_000][..], AttachMeta::default())
        .unwrap();
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("first"));
    org.v.import(&first, &Default::default()).unwrap();
    org.v.purge(tid, "the witness withdrew consent").unwrap();

    // More work, then an edit of the testimony: its last revision lands in a later bundle.
    material(&mut cw);
    cw.edit(tid, br#"{"place":"Almaty"}"#, None, false).unwrap();
    let r = export_with(&mut cw, ExportScope::All, &t.path().join("all"), small()).unwrap();
    assert!(r.bundles.len() > 2);
    for f in paths(&r) {
        org.v.import(&f, &with(small())).unwrap();
    }
    assert!(org.v.verify().unwrap().problems.is_empty());
    let after = org.v.get(tid).unwrap();
    assert!(
        after.heads.iter().all(|h| h.data.is_none()
            || vault::revision::is_purge_marker(h.data.as_ref().unwrap())),
        "the purged testimony came back: {:?}",
        after.heads
    );
}
