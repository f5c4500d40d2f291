//! A trusted device that turns hostile (a seized laptop, a coerced volunteer) signs bundles the
//! coordinator accepts. What it must still not be able to do with them (docs/threat-model.md,
//! "Hardening after an outside review", item 13): purge or add versions to a record it never
//! held, graft one record's history onto another, or pass its revisions off as the
//! coordinator's own, or rewrite an attachment's custody facts (when, how, on which device it
//! was captured: set once, issue #14). Each forged bundle is refused with a specific reason and
//! changes nothing.

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::{Kind, RecordId, Revision, RevisionId, Vault};

const TOLD: &str = "FORGECANARY-told-31f0";

/// A coordinator holding a testimony from caseworker A, and a record of caseworker X's own;
/// X, trusted, has never held A's testimony.
struct Scene {
    org: Org,
    x: Vault,
    x_tmp: tempfile::TempDir,
    testimony: RecordId,
    x_record: RecordId,
    _a_tmp: tempfile::TempDir,
}

fn scene() -> Scene {
    let mut org = coordinator();
    let (a_tmp, mut a) = caseworker(&mut org, "A");
    let (x_tmp, mut x) = caseworker(&mut org, "X");
    let p = add_person(&mut a, "Сенбай Нұрахен");
    let testimony = add_testimony(&mut a, p, &format!("{TOLD} in the camp"));
    let from_a = export(&mut a, ExportScope::SinceLast, &a_tmp.path().join("out"));
    org.v.import(&from_a, &Default::default()).unwrap();
    let x_record = add_person(&mut x, "Айгүл");
    let from_x = export(&mut x, ExportScope::SinceLast, &x_tmp.path().join("out"));
    org.v.import(&from_x, &Default::default()).unwrap();
    Scene {
        org,
        x,
        x_tmp,
        testimony,
        x_record,
        _a_tmp: a_tmp,
    }
}

fn heads(v: &Vault, id: RecordId) -> Vec<RevisionId> {
    v.get(id)
        .unwrap()
        .heads
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

/// A bundle signed by X carrying `revisions` (its own real bundle, its records replaced).
fn forged_by_x(s: &mut Scene, name: &str, revisions: &[Revision]) -> std::path::PathBuf {
    let dest = s.x_tmp.path().join(name);
    let real = export(&mut s.x, ExportScope::All, &dest);
    let mut e = open_bundle(&real, &s.org.identity);
    let mut lines = Vec::new();
    for r in revisions {
        lines.extend(serde_json::to_vec(r).unwrap());
        lines.push(b'\n');
    }
    for (p, b) in e.iter_mut() {
        if p.ends_with("records.jsonl") {
            *b = lines.clone();
        }
    }
    resign(&mut e, &s.x);
    let path = dest.join("forged.kuager.age");
    std::fs::write(&path, seal(&files(&e), &s.org.recipient)).unwrap();
    path
}

fn revision(
    record: RecordId,
    kind: Kind,
    parents: Vec<RevisionId>,
    device: &str,
    data: serde_json::Value,
) -> Revision {
    Revision::new(
        record,
        kind,
        parents,
        device.into(),
        vault::revision::now(),
        data,
    )
    .unwrap()
}

/// Imports `bundle` at the coordinator: refused with words `why`, and nothing changed.
fn refused(s: &mut Scene, bundle: &std::path::Path, why: &str) {
    let before = snapshot(&s.org);
    let t_heads = heads(&s.org.v, s.testimony);
    let err = s.org.v.import(bundle, &Default::default()).unwrap_err();
    assert!(err.to_string().contains(why), "{why:?} not in: {err}");
    assert_eq!(snapshot(&s.org), before, "{why}: the vault changed");
    assert_eq!(heads(&s.org.v, s.testimony), t_heads);
    assert!(
        !s.org.v.search(TOLD, 10).unwrap().is_empty(),
        "{why}: the testimony is no longer found"
    );
}

#[test]
fn a_purge_of_a_record_the_device_never_held_is_refused() {
    let mut s = scene();
    let x_device = s.x.device_id().unwrap();
    let marker = serde_json::json!({ "kuager_purge": { "revisions": [], "blobs": [] } });
    let purge = revision(s.testimony, Kind::Testimony, vec![], &x_device, marker);
    let bundle = forged_by_x(&mut s, "purge", &[purge]);
    refused(&mut s, &bundle, "a purge must continue");
}

/// A purge may continue versions never exported (edited and purged before the next bundle),
/// but only when it also names a version of the record this vault holds: naming versions the
/// vault never saw proves nothing.
#[test]
fn a_purge_naming_only_versions_never_seen_is_refused() {
    let mut s = scene();
    let x_device = s.x.device_id().unwrap();
    // A version of X's own record that never left X.
    let mut d =
        s.x.get(s.x_record)
            .unwrap()
            .heads
            .pop()
            .unwrap()
            .data
            .unwrap();
    d["notes"] = serde_json::json!("kept at home");
    let unseen =
        s.x.edit(s.x_record, d.to_string().as_bytes(), None, false)
            .unwrap()
            .revision;
    let marker = serde_json::json!({ "kuager_purge": { "revisions": [unseen], "blobs": [] } });
    let purge = revision(
        s.testimony,
        Kind::Testimony,
        vec![unseen],
        &x_device,
        marker,
    );
    let bundle = forged_by_x(&mut s, "unseen", &[purge]);
    refused(&mut s, &bundle, "does not have");
}

#[test]
fn a_second_beginning_of_a_record_is_refused() {
    let mut s = scene();
    let x_device = s.x.device_id().unwrap();
    let p = s.x_record;
    let data = serde_json::json!({ "witness": p, "narrative": "a forged account" });
    let root = revision(s.testimony, Kind::Testimony, vec![], &x_device, data);
    let bundle = forged_by_x(&mut s, "root", &[root]);
    refused(&mut s, &bundle, "starts record");
}

#[test]
fn a_parent_from_another_record_is_refused_either_way() {
    let mut s = scene();
    let x_device = s.x.device_id().unwrap();
    // X's own record, continued from A's testimony: its history would take in the testimony.
    let graft = revision(
        s.x_record,
        Kind::Person,
        heads(&s.org.v, s.testimony),
        &x_device,
        serde_json::json!({ "names": [{ "value": "Айгүл" }] }),
    );
    let bundle = forged_by_x(&mut s, "graft", &[graft]);
    refused(&mut s, &bundle, "belongs to another record");
    // A's testimony, continued from X's record.
    let p = s.x_record;
    let onto = revision(
        s.testimony,
        Kind::Testimony,
        heads(&s.org.v, s.x_record),
        &x_device,
        serde_json::json!({ "witness": p, "narrative": "a forged account" }),
    );
    let bundle = forged_by_x(&mut s, "onto", &[onto]);
    refused(&mut s, &bundle, "belongs to another record");
}

#[test]
fn a_revision_in_the_coordinators_own_name_is_refused() {
    let mut s = scene();
    let own = s.org.v.device_id().unwrap();
    let forged = revision(
        s.x_record,
        Kind::Person,
        heads(&s.org.v, s.x_record),
        &own,
        serde_json::json!({ "names": [{ "value": "Айгүл" }] }),
    );
    let bundle = forged_by_x(&mut s, "own", &[forged]);
    refused(&mut s, &bundle, "written by this vault");
}

#[test]
fn relayed_revisions_still_import_and_are_counted() {
    // B received A's testimony and edited it; the coordinator imports B's bundle first, which
    // carries A's revision too.
    let mut org = coordinator();
    let (a_tmp, mut a) = caseworker(&mut org, "A");
    let (b_tmp, mut b) = caseworker(&mut org, "B");
    b.import_identity_file(&org.tmp.path().join("org.key"), None)
        .unwrap();
    b.trust_device(&a.device_public_key().unwrap().minisign, "A")
        .unwrap();
    let p = add_person(&mut a, "Сенбай");
    let t = add_testimony(&mut a, p, "told once");
    let from_a = export(&mut a, ExportScope::SinceLast, &a_tmp.path().join("out"));
    b.import(&from_a, &Default::default()).unwrap();
    let edit = serde_json::json!({ "narrative": "told twice" });
    b.edit(t, edit.to_string().as_bytes(), None, false).unwrap();
    let from_b = export(&mut b, ExportScope::SinceLast, &b_tmp.path().join("out"));
    org.v.import(&from_b, &Default::default()).unwrap();
    assert_eq!(heads(&org.v, t).len(), 1);
    let last = org.v.audit().unwrap().last().unwrap().clone();
    assert_eq!(last.event["type"], "bundle_imported");
    assert_eq!(last.event["relayed_revisions"], 2, "{}", last.event);
    // The same from A itself: nothing relayed.
    let mut org2 = coordinator();
    org2.v
        .trust_device(&a.device_public_key().unwrap().minisign, "A")
        .unwrap();
    let ok = confirmed(&mut a);
    a.add_recipient(&org2.recipient.parse().unwrap(), Some("org2"), ok)
        .unwrap();
    let again = export(&mut a, ExportScope::All, &a_tmp.path().join("out2"));
    org2.v.import(&again, &Default::default()).unwrap();
    let last = org2.v.audit().unwrap().last().unwrap().clone();
    assert_eq!(last.event["relayed_revisions"], 0, "{}", last.event);
}

/// X's record with a photo attached (custody facts set by X's vault), as the coordinator holds
/// it; then the next revision X could sign, its photo's custody facts changed by `edit`.
fn continued_with_custody(s: &mut Scene, edit: impl FnOnce(&mut serde_json::Value)) -> Revision {
    let has_photo = |v: &Vault, id| {
        v.get(id).unwrap().heads[0].data.as_ref().unwrap()["attachments"].is_array()
    };
    if !has_photo(&s.x, s.x_record) {
        let photo = s.x_tmp.path().join("photo.png");
        std::fs::write(&photo, b"\x89PNG a photo of the letter from the camp").unwrap();
        attach_file(&mut s.x, s.x_record, &photo, "image/png");
        let b = export(
            &mut s.x,
            ExportScope::SinceLast,
            &s.x_tmp.path().join("with-photo"),
        );
        s.org.v.import(&b, &Default::default()).unwrap();
    }
    let head = s.org.v.get(s.x_record).unwrap().heads[0].clone();
    let mut data = head.data.clone().unwrap();
    assert!(
        data["attachments"][0]["custody"].is_object(),
        "the vault set custody facts"
    );
    edit(&mut data["attachments"][0]);
    data["names"][0]["value"] = "Айгүл Н.".into();
    let x_device = s.x.device_id().unwrap();
    revision(s.x_record, Kind::Person, vec![head.id], &x_device, data)
}

#[test]
fn an_attachments_custody_facts_rewritten_are_refused_kept_or_left_out_pass() {
    let mut s = scene();
    // Rewritten: captured years before, "recorded" rather than attached.
    let forged = continued_with_custody(&mut s, |a| {
        a["custody"]["at"] = "2019-03-01T10:00:00Z".into();
        a["custody"]["how"] = "recorded".into();
    });
    let bundle = forged_by_x(&mut s, "custody", &[forged]);
    let before = snapshot(&s.org);
    let err = s.org.v.import(&bundle, &Default::default()).unwrap_err();
    assert!(
        err.to_string().contains("changes the custody facts"),
        "{err}"
    );
    assert_eq!(
        snapshot(&s.org),
        before,
        "a refused bundle changed the vault"
    );
    // Kept as they were: imported.
    let kept = continued_with_custody(&mut s, |_| {});
    let bundle = forged_by_x(&mut s, "kept", &[kept]);
    s.org.v.import(&bundle, &Default::default()).unwrap();
    // Left out, as a Kuager that knew no custody facts writes its edits: imported.
    let older = continued_with_custody(&mut s, |a| {
        a.as_object_mut().unwrap().remove("custody");
    });
    let bundle = forged_by_x(&mut s, "older", &[older]);
    s.org.v.import(&bundle, &Default::default()).unwrap();
}
