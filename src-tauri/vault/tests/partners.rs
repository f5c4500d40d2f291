//! Bundles to partner organisations (issue #13, docs/design-notes.md "Partner bundles"): only
//! testimonies whose consent allows it go, anonymised people travel as a stable pseudonym per
//! partner, contact never goes, and a withdrawal reaches the partner. Read from outside with
//! Go `age` and `tar`, and imported by a partner's own Kuager vault.

use std::path::Path;
use std::process::Command;

use testkit::bundles::*;
use testkit::fixture::*;
use testkit::partners::*;
use vault::{Going, Kind, PartnerExport, RecordId, Vault, Withheld};

fn add(v: &mut Vault, kind: Kind, json: serde_json::Value) -> RecordId {
    v.add(kind, json.to_string().as_bytes()).unwrap().record
}

fn testimony(v: &mut Vault, witness: RecordId, scope: &str, narrative: &str) -> RecordId {
    add(
        v,
        Kind::Testimony,
        serde_json::json!({
            "witness": witness, "narrative": narrative,
            "consent": { "given": true, "scope": scope },
        }),
    )
}

/// The coordinator's vault of the first test: what may go, and what must not.
struct World {
    org: Org,
    named: RecordId,
    anonymised: RecordId,
    told_named: RecordId,
    told_about: RecordId,
    told_anonymised: RecordId,
    internal: RecordId,
    withdrawn: RecordId,
    publish_anonymised: RecordId,
    attempt_anonymised: RecordId,
    attempt_withheld: RecordId,
}

/// A witness flagged for anonymisation: a canary in every text field.
fn anonymised_person(relative: RecordId) -> serde_json::Value {
    let named = relative;
    serde_json::json!({
        "names": [{"value": "CANARY-ANON-NAME", "parts": {"surname": "CANARY-ANON-SURNAME"}}],
        "date_of_birth": "1975-06-07",
        "place_of_birth": {"text": "CANARY-ANON-VILLAGE", "county": "CANARY-ANON-COUNTY", "prefecture": "CANARY-ANON-PREFECTURE", "region": "Ili", "country": "CN"},
        "ethnicity": "Kazakh",
        "documents": [{"type": "kz-passport", "number": "CANARY-ANON-DOC", "issuing_authority": "CANARY-ANON-AUTHORITY"}],
        "contact": {"phones": ["CANARY-ANON-PHONE"]},
        "relationships": [{"person": named, "relation": "sibling", "note": "CANARY-ANON-RELNOTE"}],
        "status": {"value": "abroad", "on": "2019-02-03", "source": "CANARY-ANON-SOURCE"},
        "cross_references": [{"system": "xinjiang-victims-db", "id": "CANARY-ANON-XREF"}],
        "notes": "CANARY-ANON-NOTES",
        "anonymise_in_exports_to_partners": true,
    })
}

/// Testimonies that must not go (consent internal, withdrawn, none), and their witnesses:
/// (the internal one's witness, the internal one, the withdrawn one).
fn must_not_go(v: &mut Vault, files: &Path) -> (RecordId, RecordId, RecordId) {
    // Testimonies that must not go, and their witnesses.
    let internal_witness = add(
        v,
        Kind::Person,
        serde_json::json!({"names": [{"value": "CANARY-INTERNAL-WITNESS"}]}),
    );
    let internal = testimony(v, internal_witness, "internal", "CANARY-INTERNAL-NARRATIVE");
    put(
        v,
        files,
        internal,
        ("internal.ogg", "CANARY-INTERNAL-BYTES"),
        "audio/ogg",
    );
    let withdrawn_witness = add(
        v,
        Kind::Person,
        serde_json::json!({"names": [{"value": "CANARY-WITHDRAWN-WITNESS"}]}),
    );
    let withdrawn = add(
        v,
        Kind::Testimony,
        serde_json::json!({
            "witness": withdrawn_witness, "narrative": "CANARY-WITHDRAWN-NARRATIVE",
            "consent": {"given": true, "scope": "publish-named", "withdrawn_at": "2026-10"},
        }),
    );
    let no_consent = add(
        v,
        Kind::Testimony,
        serde_json::json!({"witness": withdrawn_witness, "narrative": "CANARY-NO-CONSENT"}),
    );
    let _ = no_consent;
    (internal_witness, internal, withdrawn)
}

/// Writes a file `(name, content)` in `dir` and attaches it to `id`.
fn put(v: &mut Vault, dir: &Path, id: RecordId, (name, body): (&str, &str), media_type: &str) {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    attach_file(v, id, &p, media_type);
}

fn world() -> World {
    let mut org = coordinator();
    let v = &mut org.v;
    let files = org.tmp.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    // A witness who may be named, with contact details that never go.
    let named = add(
        v,
        Kind::Person,
        serde_json::json!({
            "names": [{"value": "Gulzira Named"}],
            "contact": {"phones": ["CANARY-CONTACT-PHONE"], "messengers": [{"app": "wechat", "handle": "CANARY-CONTACT-WECHAT"}], "note": "CANARY-CONTACT-NOTE"},
        }),
    );
    let anonymised = add(v, Kind::Person, anonymised_person(named));
    put(
        v,
        &files,
        anonymised,
        ("anon-photo.jpg", "CANARY-ANON-PHOTO-BYTES"),
        "image/jpeg",
    );
    let told_named = add(
        v,
        Kind::Testimony,
        serde_json::json!({
            "witness": named, "narrative": "Told to partners by name",
            "interviewer": "CANARY-STAFF-INTERVIEWER", "interpreter": "CANARY-STAFF-INTERPRETER",
            "consent": {"given": true, "scope": "partner-orgs"},
            "translations": [{"language": "en", "text": "translated", "translated_by": "CANARY-STAFF-TRANSLATOR"}],
        }),
    );
    put(
        v,
        &files,
        told_named,
        ("interview.ogg", "interview audio that may go"),
        "audio/ogg",
    );
    // Told by name about someone anonymised: its recording could show them, so it stays.
    let told_about = add(
        v,
        Kind::Testimony,
        serde_json::json!({
            "witness": named, "narrative": "Told about a relative",
            "consent": {"given": true, "scope": "partner-orgs"},
            "events": [{"type": "camp", "victims": [anonymised]}],
        }),
    );
    put(
        v,
        &files,
        told_about,
        ("about.ogg", "CANARY-VICTIM-AUDIO"),
        "audio/ogg",
    );
    let told_anonymised = add(
        v,
        Kind::Testimony,
        serde_json::json!({
            "witness": anonymised, "narrative": "Told by someone anonymised",
            "consent": {"given": true, "scope": "partner-orgs"},
            "summary": "CANARY-ANON-SUMMARY", "place": "CANARY-ANON-PLACE", "recorded_at": "2024-05-06",
            "tags": ["CANARY-ANON-TAG"], "reliability_note": "CANARY-ANON-RELIABILITY",
            "events": [{"type": "camp", "from": "2018-03-04", "place": "CANARY-ANON-EVPLACE",
                "facility": "CANARY-ANON-FACILITY", "perpetrators": ["CANARY-ANON-PERP"], "description": "CANARY-ANON-DESC"}],
        }),
    );
    put(
        v,
        &files,
        told_anonymised,
        ("anon-voice.ogg", "CANARY-ANON-VOICE-BYTES"),
        "audio/ogg",
    );
    let (internal_witness, internal, withdrawn) = must_not_go(v, &files);
    // Consent to publish anonymised: the witness goes as a pseudonym though not flagged.
    let pa_witness = add(
        v,
        Kind::Person,
        serde_json::json!({"names": [{"value": "CANARY-PA-NAME"}], "notes": "CANARY-PA-NOTES"}),
    );
    let publish_anonymised = testimony(
        v,
        pa_witness,
        "publish-anonymised",
        "Told to be published without a name",
    );
    let attempt_anonymised = add_attempt(
        v,
        anonymised,
        serde_json::json!({"submitted_on": "2023-04", "channel": "consulate-almaty", "outcome": "no-response",
            "receipt_number": "CANARY-ANON-RECEIPT", "notes": "CANARY-ANON-ATTEMPT-NOTES", "pressure": "CANARY-ANON-PRESSURE"}),
    );
    let attempt_withheld = add_attempt(
        v,
        internal_witness,
        serde_json::json!({"submitted_on": "2022", "receipt_number": "CANARY-INTERNAL-RECEIPT"}),
    );
    World {
        org,
        named,
        anonymised,
        told_named,
        told_about,
        told_anonymised,
        internal,
        withdrawn,
        publish_anonymised,
        attempt_anonymised,
        attempt_withheld,
    }
}

#[test]
fn withheld_records_and_anonymised_people_never_reach_a_partner() {
    let mut w = world();
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = partner_key(tmp.path(), "lawyer");
    add_partner(&mut w.org.v, &public, "Lawyer");
    let chosen = vec![
        w.told_named,
        w.told_about,
        w.told_anonymised,
        w.internal,
        w.withdrawn,
        w.publish_anonymised,
        w.attempt_anonymised,
        w.attempt_withheld,
    ];
    let preview = w.org.v.partner_preview("Lawyer", Some(&chosen)).unwrap();
    let reason = |id| {
        preview
            .withheld
            .iter()
            .find(|l| l.record == id)
            .and_then(|l| l.reason)
    };
    assert_eq!(reason(w.internal), Some(Withheld::ConsentInternal));
    assert_eq!(reason(w.withdrawn), Some(Withheld::ConsentWithdrawn));
    assert_eq!(
        reason(w.attempt_withheld),
        Some(Withheld::NoConsentingTestimony)
    );
    let how = |id| {
        preview
            .going
            .iter()
            .find(|l| l.record == id)
            .and_then(|l| l.going)
    };
    assert_eq!(how(w.named), Some(Going::Named));
    assert_eq!(how(w.anonymised), Some(Going::Pseudonym));
    assert_eq!(how(w.told_named), Some(Going::Named));
    assert_eq!(preview.contact_removed, 2);
    // The anonymised witness's photo and voice stay; the named interview goes.
    // and so does the recording of a testimony that names them.
    assert_eq!((preview.attachments, preview.attachments_withheld), (1, 3));

    let bundle = send(
        &mut w.org.v,
        "Lawyer",
        Some(chosen),
        &tmp.path().join("out"),
    );
    let root = open_with_go_age(&bundle, &key, &tmp.path().join("opened"));
    let bytes = all_bytes(&root);
    // The scan can fail: what may go is there.
    for present in [
        "Told to partners by name",
        "Told by someone anonymised",
        "Gulzira Named",
        "ANON-",
        "interview audio that may go",
        "Told to be published without a name",
    ] {
        assert!(contains(&bytes, present), "{present} should have gone");
    }
    let hits: Vec<String> = String::from_utf8_lossy(&bytes)
        .match_indices("CANARY")
        .map(|(i, _)| String::from_utf8_lossy(&bytes[i..(i + 40).min(bytes.len())]).into_owned())
        .collect();
    assert!(hits.is_empty(), "reached the partner: {hits:?}");
    // What the anonymised witness told keeps years, not dates.
    assert!(!contains(&bytes, "2018-03") && !contains(&bytes, "2024-05"));
    // Nor do file names (a file is often named after the person in it), nor ids of ours.
    assert!(!contains(&bytes, "interview.ogg"));
    let text = String::from_utf8_lossy(&bytes);
    for id in [
        w.named,
        w.anonymised,
        w.told_named,
        w.told_anonymised,
        w.attempt_anonymised,
    ] {
        assert!(
            !text.contains(&id.to_string()),
            "our id {id} reached the partner"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["audience"], "partner");
    assert_eq!(manifest["recipients"], serde_json::json!([public]));
    assert_eq!(std::fs::read(root.join("audit.jsonl")).unwrap(), b"");
    // Signed by this device: minisign (the reference tool) agrees.
    let pk = w.org.v.device_public_key().unwrap().minisign;
    let o = Command::new("minisign")
        .args(["-Vm"])
        .arg(root.join("manifest.json"))
        .args(["-P", &pk])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The audit log says what went to whom.
    let audit = w.org.v.audit().unwrap();
    let e = &audit
        .iter()
        .rev()
        .find(|e| e.event["type"] == "partner_bundle_exported")
        .unwrap()
        .event;
    assert_eq!(e["partner"], "Lawyer");
    assert!(e["sent"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(w.told_named.to_string())));
}

fn pseudonym_of(root: &Path) -> (String, String) {
    records_of(root)
        .into_iter()
        .find_map(|r| {
            let name = r["data"]["names"][0]["value"].as_str()?;
            name.starts_with("ANON-")
                .then(|| (r["record"].as_str().unwrap().to_owned(), name.to_owned()))
        })
        .expect("a pseudonym")
}

#[test]
fn pseudonyms_are_stable_per_partner_and_differ_between_partners() {
    let mut w = world();
    let tmp = tempfile::tempdir().unwrap();
    let (key_a, a) = partner_key(tmp.path(), "a");
    let (key_b, b) = partner_key(tmp.path(), "b");
    add_partner(&mut w.org.v, &a, "A");
    add_partner(&mut w.org.v, &b, "B");
    let first = send(
        &mut w.org.v,
        "A",
        Some(vec![w.told_anonymised]),
        &tmp.path().join("a1"),
    );
    // The anonymised person changes: the partner gets a new version of the same pseudonym.
    w.org
        .v
        .edit(
            w.anonymised,
            br#"{"status": {"value": "released", "on": "2025"}}"#,
            None,
            false,
        )
        .unwrap();
    let second = send(
        &mut w.org.v,
        "A",
        Some(vec![w.told_anonymised]),
        &tmp.path().join("a2"),
    );
    let to_b = send(
        &mut w.org.v,
        "B",
        Some(vec![w.told_anonymised]),
        &tmp.path().join("b1"),
    );
    let p1 = pseudonym_of(&open_with_go_age(&first, &key_a, &tmp.path().join("o1")));
    let p2 = pseudonym_of(&open_with_go_age(&second, &key_a, &tmp.path().join("o2")));
    let pb = pseudonym_of(&open_with_go_age(&to_b, &key_b, &tmp.path().join("ob")));
    assert_eq!(p1, p2, "the same partner sees the same pseudonym");
    assert_ne!(p1.0, pb.0, "two partners see different ids");
    assert_ne!(p1.1, pb.1, "two partners see different pseudonyms");
    // Unchanged since: nothing new to send.
    let preview = w
        .org
        .v
        .partner_preview("A", Some(&[w.told_anonymised]))
        .unwrap();
    assert!(preview
        .going
        .iter()
        .all(|l| l.going == Some(Going::Unchanged)));
    let job = PartnerExport {
        partner: "A".into(),
        records: Some(vec![w.told_anonymised]),
        output: tmp.path().to_owned(),
        armor: false,
        cancel: None,
        limits: Default::default(),
        previewed: None,
    };
    let e = w.org.v.export_to_partner(&job, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("nothing new"), "{e}");
}

#[test]
fn a_partner_vault_imports_it_and_withdrawals_reach_it() {
    let mut w = world();
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = partner_key(tmp.path(), "ngo");
    add_partner(&mut w.org.v, &public, "NGO");
    let mut partner = partner_vault(&tmp.path().join("partner"), &key, &w.org.v);
    let first = send(
        &mut w.org.v,
        "NGO",
        Some(vec![w.told_named, w.told_anonymised]),
        &tmp.path().join("1"),
    );
    partner.import(&first, &Default::default()).unwrap();
    let found = |v: &Vault, q: &str| !v.search(q, 10).unwrap().is_empty();
    assert!(found(&partner, "Gulzira"));
    assert!(found(&partner, "partners"));
    assert!(partner.verify().unwrap().problems.is_empty());
    let people = partner.list(Some(Kind::Person)).unwrap();
    assert_eq!(people.len(), 2, "the named witness and one pseudonym");

    // The named witness is now to be anonymised, and the first testimony's consent is
    // withdrawn: the named copy and the testimony are withdrawn from the partner; the
    // witness, named by no testimony going, with it.
    w.org
        .v
        .edit(
            w.named,
            br#"{"anonymise_in_exports_to_partners": true}"#,
            None,
            false,
        )
        .unwrap();
    w.org
        .v
        .edit(
            w.told_named,
            br#"{"consent": {"given": true, "scope": "partner-orgs", "withdrawn_at": "2026-11"}}"#,
            None,
            false,
        )
        .unwrap();
    let preview = w.org.v.partner_preview("NGO", Some(&[])).unwrap();
    let withdrawn: Vec<RecordId> = preview.withdrawn.iter().map(|l| l.record).collect();
    assert!(
        withdrawn.contains(&w.told_named) && withdrawn.contains(&w.named),
        "{withdrawn:?}"
    );
    let second = send(&mut w.org.v, "NGO", Some(vec![]), &tmp.path().join("2"));
    partner.import(&second, &Default::default()).unwrap();
    assert!(
        !found(&partner, "Gulzira"),
        "the named witness is purged at the partner"
    );
    assert!(
        !found(&partner, "partners"),
        "the withdrawn testimony is purged at the partner"
    );
    assert!(found(&partner, "someone"), "the other testimony stays");
    assert!(partner.verify().unwrap().problems.is_empty());

    // A purge here reaches the partner the same way.
    w.org
        .v
        .purge(w.told_anonymised, "the witness asked")
        .unwrap();
    let third = send(&mut w.org.v, "NGO", None, &tmp.path().join("3"));
    let r = partner.import(&third, &Default::default()).unwrap();
    assert_eq!(
        r.purged_records, 2,
        "the testimony and its pseudonymous witness"
    );
    assert!(!found(&partner, "someone"));
    // The whole of what may go now went too: the testimony to be published anonymised.
    assert!(found(&partner, "published"));
    assert!(partner.verify().unwrap().problems.is_empty());
}

#[test]
fn a_failed_partner_export_remembers_nothing() {
    let mut w = world();
    let tmp = tempfile::tempdir().unwrap();
    let (_, public) = partner_key(tmp.path(), "p");
    add_partner(&mut w.org.v, &public, "P");
    let audit = w.org.v.audit().unwrap().len();
    let job = PartnerExport {
        partner: "P".into(),
        records: Some(vec![w.told_named]),
        output: tmp.path().join("no/such/folder/file.age"),
        armor: false,
        cancel: None,
        limits: Default::default(),
        previewed: None,
    };
    let e = w.org.v.export_to_partner(&job, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("does not exist"), "{e}");
    assert_eq!(w.org.v.audit().unwrap().len(), audit);
    let preview = w.org.v.partner_preview("P", Some(&[w.told_named])).unwrap();
    let how = |id| {
        preview
            .going
            .iter()
            .find(|l| l.record == id)
            .and_then(|l| l.going)
    };
    assert_eq!(
        how(w.told_named),
        Some(Going::Named),
        "not remembered as sent"
    );
    // An export writes only what the preview the user saw said.
    w.org
        .v
        .edit(
            w.named,
            br#"{"notes": "seen after the preview"}"#,
            None,
            false,
        )
        .unwrap();
    let job = PartnerExport {
        partner: "P".into(),
        records: Some(vec![w.told_named]),
        output: tmp.path().to_owned(),
        armor: false,
        cancel: None,
        limits: Default::default(),
        previewed: Some(preview.digest.clone()),
    };
    let e = w.org.v.export_to_partner(&job, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("changed since the preview"), "{e}");
    // Partners: a label and a key each once; unknown partners are named in the error.
    let ok = confirmed(&mut w.org.v);
    let e = w
        .org
        .v
        .add_partner(&public.parse().unwrap(), "Other", ok)
        .unwrap_err();
    assert!(e.to_string().contains("already has this key"), "{e}");
    let e = w.org.v.partner_preview("Nobody", None).unwrap_err();
    assert!(e.to_string().contains("Nobody"), "{e}");
    let ok = confirmed(&mut w.org.v);
    w.org.v.remove_partner("P", ok).unwrap();
    assert!(w.org.v.partners().unwrap().is_empty());
}
