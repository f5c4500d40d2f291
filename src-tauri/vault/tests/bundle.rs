//! Bundles end to end through the library: export at a caseworker, import at a coordinator,
//! merge of two caseworkers' edits into one conflict, a purge that travels. Hostile bundles are
//! in `hostile_bundles.rs`.

use std::io::Read;

use testkit::bundles::*;
use testkit::canary::files_under;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::{AttachMeta, Error};

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

/// Whether `canary`, as written or lower-cased (as the full-text index keeps its words), is
/// anywhere in the database file or its WAL: in a live page, a free one, or a page's unused rest.
fn in_the_file(dir: &std::path::Path, canary: &str) -> bool {
    let pages = testkit::pages::decrypted_pages(dir);
    contains(&pages, canary) || contains(&pages, &canary.to_lowercase())
}

/// A purge at the caseworker travels to the coordinator and destroys the content in both
/// vaults: not in search, the database's content, its file (free pages included), the WAL or
/// the attachment folder; a re-import of the older bundle does not bring it back.
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
    // The record's text as written, and the full-text index's own copy of the word (lower
    // case: the record never holds it so), are both in the file: the checks below can fail.
    let pages = testkit::pages::decrypted_pages(&org.dir);
    assert!(contains(&pages, canary), "the record's text");
    assert!(
        contains(&pages, &canary.to_lowercase()),
        "the full-text index's word"
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
    assert!(
        !in_the_file(cw.dir(), canary),
        "the caseworker's database file still holds the purged text"
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
    assert!(
        !in_the_file(&org.dir, canary),
        "the coordinator's database file still holds the purged text"
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

/// Why a record was purged is the purging caseworker's note: it stays in their audit log and
/// does not travel in the bundle (issue #10, item 8).
#[test]
fn the_purge_reason_stays_in_the_purging_vault() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker");
    let reason = "REASONCANARY-court-order-1187";
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "told");
    cw.purge(tid, reason).unwrap();
    let local = cw.audit().unwrap().last().unwrap().event.clone();
    assert_eq!(local["type"], "record_purged");
    assert_eq!(local["reason"], reason);
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    let entries = open_bundle(&bundle, &org.identity);
    let audit = &entries
        .iter()
        .find(|(p, _)| p.ends_with("audit.jsonl"))
        .unwrap()
        .1;
    let audit = String::from_utf8_lossy(audit);
    assert!(audit.contains("record_purged"), "{audit}");
    assert!(!audit.contains(reason), "the purge reason travels: {audit}");
}

/// A bundle that repeats what the coordinator has counts it as known, and adds only the rest.
#[test]
fn revisions_already_here_are_counted_as_known() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай");
    add_testimony(&mut cw, p, "the first account");
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    assert_eq!(
        org.v
            .import(&first, &Default::default())
            .unwrap()
            .new_revisions,
        2
    );
    add_person(&mut cw, "Айгүл");
    let all = export(&mut cw, ExportScope::All, &t.path().join("2"));
    let r = org.v.import(&all, &Default::default()).unwrap();
    assert_eq!(
        (r.known_revisions, r.new_revisions, r.new_records),
        (2, 1, 1)
    );
    // The very same file again is recognised by its hash, not read again.
    org.v.import(&all, &Default::default()).unwrap();
    let last = org.v.audit().unwrap().pop().unwrap();
    assert_eq!(last.event["type"], "bundle_reimported");
}

/// A format-2 bundle imported before is known by its manifest, the first thing in it: the
/// rest is not read again (nor the file hashed first). A copy whose end was cut off is
/// recognised as the bundle already here and changes nothing; a vault that never had it
/// refuses that copy as damaged.
#[test]
fn a_bundle_imported_before_is_known_by_its_manifest_alone() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "caseworker 1");
    let p = add_person(&mut cw, "Сенбай");
    let tid = add_testimony(&mut cw, p, "the account");
    // Large enough that the cut is pieces away from the manifest (a piece is 256 KiB).
    cw.attach(tid, &vec![9u8; 3_000_000][..], AttachMeta::default())
        .unwrap();
    let bundle = export(&mut cw, ExportScope::All, &t.path().join("out"));
    assert!(
        org.v
            .import(&bundle, &Default::default())
            .unwrap()
            .committed
    );
    let bytes = std::fs::read(&bundle).unwrap();
    let cut = t.path().join("cut.kuager.age");
    std::fs::write(&cut, &bytes[..bytes.len() - 70_000]).unwrap();
    let before = snapshot(&org);
    let again = org.v.import(&cut, &Default::default()).unwrap();
    assert!(!again.committed);
    assert_eq!(again.signer.label.as_deref(), Some("caseworker 1"));
    let after = snapshot(&org);
    assert_eq!((&after.0, &after.1), (&before.0, &before.1));
    assert_eq!(
        org.v.audit().unwrap().last().unwrap().event["type"],
        "bundle_reimported"
    );
    let mut other = coordinator();
    other
        .v
        .trust_device(&cw.device_public_key().unwrap().minisign, "caseworker 1")
        .unwrap();
    let ok = confirmed(&mut cw);
    cw.add_recipient(&other.recipient.parse().unwrap(), None, ok)
        .unwrap();
    let fresh = export(&mut cw, ExportScope::All, &t.path().join("out2"));
    let bytes = std::fs::read(&fresh).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 70_000]).unwrap();
    match other.v.import(&cut, &Default::default()) {
        Err(Error::Rejected(m)) => assert!(m.contains("damaged"), "{m}"),
        r => panic!("a cut bundle was taken: {r:?}"),
    }
}
