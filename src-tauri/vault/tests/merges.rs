//! Merging duplicate people (issue #12, docs/design-notes.md "Duplicate people"): a merge keeps
//! both ids resolvable (whatever pointed at either belongs to the one person), keeps every
//! spelling, is a revision of each (so it has history and travels in bundles), and can be
//! undone; purging either id purges the one human under both.

use testkit::bundles::*;
use testkit::fixture::*;
use vault::bundle::ExportScope;
use vault::{Kind, RecordId, Vault};

fn person(v: &mut Vault, json: serde_json::Value) -> RecordId {
    v.add(Kind::Person, json.to_string().as_bytes())
        .unwrap()
        .record
}

fn data(v: &Vault, id: RecordId) -> serde_json::Value {
    v.get(id).unwrap().heads.pop().unwrap().data.unwrap()
}

fn names(v: &Vault, id: RecordId) -> Vec<String> {
    data(v, id)["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["value"].as_str().unwrap().to_owned())
        .collect()
}

/// Fails if a current version of any of `people` still holds a name (all purged).
fn assert_no_names(v: &Vault, people: &[RecordId]) {
    for id in people {
        let heads = v.get(*id).unwrap().heads;
        assert!(
            heads
                .iter()
                .all(|h| h.data.as_ref().and_then(|d| d.get("names")).is_none()),
            "{id} still holds names"
        );
    }
}

/// Fails if search still finds a person under either spelling, or `verify` finds a problem.
fn assert_nobody_found(v: &Vault) {
    for q in ["Senbay", "Сенбай"] {
        let people = v.search(q, 10).unwrap();
        assert!(
            people.iter().all(|h| h.summary.kind != Kind::Person),
            "{q} still finds a person"
        );
    }
    assert!(v.verify().unwrap().problems.is_empty());
}

fn ids(rows: &[vault::Summary]) -> Vec<RecordId> {
    rows.iter().map(|s| s.id).collect()
}

/// Сенбай Нұрахен entered in Almaty, Senbay Nurakhen in Astana, each with a testimony and an
/// attempt.
struct Two {
    cyrillic: RecordId,
    latin: RecordId,
    told_in_almaty: RecordId,
    told_in_astana: RecordId,
    astana_attempt: RecordId,
}

fn two(v: &mut Vault) -> Two {
    let cyrillic = person(
        v,
        serde_json::json!({"names": [{"value": "Сенбай Нұрахен"}], "date_of_birth": "1969",
            "documents": [{"type": "kz-id-card", "number": "012345678"}]}),
    );
    let latin = person(
        v,
        serde_json::json!({"names": [{"value": "Senbay Nurakhen"}], "date_of_birth": "1969-03-02",
            "contact": {"phones": ["+7 702 111 1111"]}, "anonymise_in_exports_to_partners": true}),
    );
    let told_in_almaty = add_testimony(v, cyrillic, "told in Almaty");
    let told_in_astana = add_testimony(v, latin, "told in Astana");
    add_attempt(
        v,
        cyrillic,
        serde_json::json!({"submitted_on": "2024-01-10", "channel": "consulate-almaty"}),
    );
    let astana_attempt = add_attempt(
        v,
        latin,
        serde_json::json!({"submitted_on": "2023-05-01", "channel": "embassy-astana"}),
    );
    Two {
        cyrillic,
        latin,
        told_in_almaty,
        told_in_astana,
        astana_attempt,
    }
}

/// A coordinator, and a caseworker whose [`two`] people it has imported (the caseworker's
/// folder is `t`; its later bundles go in `t/2`, `t/3`).
fn both_at_the_office() -> (Org, tempfile::TempDir, Vault, Two) {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "Almaty laptop");
    let p = two(&mut cw);
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    org.v.import(&first, &Default::default()).unwrap();
    (org, t, cw, p)
}

#[test]
fn a_merge_makes_one_person_of_two_ids_and_its_undo_makes_two_again() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = two(v);
    let before = data(v, p.cyrillic);
    let latin_before = data(v, p.latin);
    assert!(v
        .duplicate_suggestions(p.cyrillic, 10)
        .unwrap()
        .iter()
        .any(|d| d.summary.id == p.latin));

    let m = v.merge_people(p.cyrillic, p.latin).unwrap();
    assert!(m.survivor.changed && m.absorbed.changed);
    // Every spelling, both ids, the stricter flag, the more precise birth date.
    assert_eq!(names(v, p.cyrillic), ["Сенбай Нұрахен", "Senbay Nurakhen"]);
    let s = data(v, p.cyrillic);
    assert_eq!(s["merged"], serde_json::json!([p.latin]));
    assert_eq!(s["anonymise_in_exports_to_partners"], true);
    assert_eq!(s["date_of_birth"], "1969-03-02");
    assert_eq!(s["contact"]["phones"][0], "+7 702 111 1111");
    assert_eq!(data(v, p.latin)["merged_into"], p.cyrillic.to_string());
    // Either id leads to the one person.
    assert_eq!(v.survivor_of(p.latin).unwrap(), p.cyrillic);
    assert_eq!(v.survivor_of(p.cyrillic).unwrap(), p.cyrillic);
    let g = v.merge_group(p.latin).unwrap();
    assert_eq!(g.person, p.cyrillic);
    assert_eq!(
        g.members
            .iter()
            .map(|m| (m.summary.id, m.into))
            .collect::<Vec<_>>(),
        [(p.latin, p.cyrillic)]
    );
    // Everything that pointed at either belongs to the one person; no reference was rewritten.
    for asked in [p.cyrillic, p.latin] {
        let related = ids(&v.related(asked).unwrap());
        assert!(related.contains(&p.told_in_almaty) && related.contains(&p.told_in_astana));
        assert!(!related.contains(&p.cyrillic) && !related.contains(&p.latin));
        let attempts = v.person_attempts(asked).unwrap();
        assert_eq!(
            attempts
                .iter()
                .map(|a| (a.id, a.number))
                .collect::<Vec<_>>()[0],
            (p.astana_attempt, 1),
            "numbered together, oldest first"
        );
        assert_eq!(attempts.len(), 2);
    }
    assert_eq!(data(v, p.told_in_astana)["witness"], p.latin.to_string());
    // Lists and search show the person once.
    let people = ids(&v.list(Some(Kind::Person)).unwrap());
    assert!(people.contains(&p.cyrillic) && !people.contains(&p.latin));
    let (total, page) = v.list_page(Some(Kind::Person), 0, 10).unwrap();
    assert_eq!((total, page.len()), (1, 1));
    assert_eq!(v.list_page(None, 0, 100).unwrap().0, 5);
    for q in ["Senbay", "Сенбай", "Senbai Nurakhen"] {
        let hits: Vec<RecordId> = v
            .search(q, 20)
            .unwrap()
            .iter()
            .filter(|h| h.summary.kind == Kind::Person)
            .map(|h| h.summary.id)
            .collect();
        assert_eq!(hits, [p.cyrillic], "{q}");
    }
    assert!(v.duplicate_suggestions(p.cyrillic, 10).unwrap().is_empty());
    // A revision of each, with history, and an audit event.
    assert_eq!(v.history(p.cyrillic).unwrap().len(), 2);
    assert_eq!(v.history(p.latin).unwrap().len(), 2);
    assert!(v
        .audit()
        .unwrap()
        .iter()
        .any(|e| e.event["type"] == "people_merged"));
    assert!(v.verify().unwrap().problems.is_empty());

    // A later edit of the one person survives the undo.
    let mut edited = data(v, p.cyrillic);
    edited["status"] = serde_json::json!({"value": "abroad"});
    v.edit(p.cyrillic, edited.to_string().as_bytes(), None, false)
        .unwrap();
    v.unmerge_people(p.cyrillic, p.latin).unwrap();
    let mut expected = before.clone();
    expected["status"] = serde_json::json!({"value": "abroad"});
    assert_eq!(data(v, p.cyrillic), expected);
    assert_eq!(data(v, p.latin), latin_before);
    assert_eq!(v.survivor_of(p.latin).unwrap(), p.latin);
    assert!(v.merge_group(p.cyrillic).unwrap().members.is_empty());
    assert_eq!(v.list_page(Some(Kind::Person), 0, 10).unwrap().0, 2);
    let related = ids(&v.related(p.cyrillic).unwrap());
    assert!(related.contains(&p.told_in_almaty) && !related.contains(&p.told_in_astana));
    assert_eq!(v.person_attempts(p.latin).unwrap().len(), 1);
    assert_eq!(v.history(p.cyrillic).unwrap().len(), 4);
    assert!(v
        .audit()
        .unwrap()
        .iter()
        .any(|e| e.event["type"] == "people_unmerged"));
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn a_merge_that_cannot_be_is_refused_and_writes_nothing() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = two(v);
    let third = add_person(v, "Нұрлан Сенбай");
    let refused = |v: &mut Vault, r: vault::Result<vault::MergeSaved>, says: &str| {
        let seq = v.audit().unwrap().len();
        let e = r.expect_err(says);
        assert!(e.to_string().contains(says), "{e}");
        assert_eq!(v.audit().unwrap().len(), seq);
    };
    let r = v.merge_people(p.cyrillic, p.cyrillic);
    refused(v, r, "themselves");
    let r = v.merge_people(p.cyrillic, p.told_in_almaty);
    refused(v, r, "is not a person");
    let r = v.unmerge_people(p.cyrillic, p.latin);
    refused(v, r, "is not merged into");
    v.merge_people(p.cyrillic, p.latin).unwrap();
    let r = v.merge_people(third, p.latin);
    refused(v, r, "already merged into");
    let r = v.merge_people(p.latin, third);
    refused(v, r, "merge into that person instead");
    let r = v.unmerge_people(third, p.latin);
    refused(v, r, "is not merged into");
    // A merge of a merge: the third joins the one person, and each undo is its own.
    v.merge_people(third, p.cyrillic).unwrap();
    assert_eq!(v.survivor_of(p.latin).unwrap(), third);
    assert_eq!(v.merge_group(p.latin).unwrap().members.len(), 2);
    assert_eq!(v.related(third).unwrap().len(), 4);
    v.unmerge_people(third, p.cyrillic).unwrap();
    assert_eq!(v.survivor_of(p.latin).unwrap(), p.cyrillic);
    assert_eq!(names(v, third), ["Нұрлан Сенбай"]);
    // Saving a record that says it is merged into itself is refused like any bad save.
    let mut bad = data(v, third);
    bad["merged"] = serde_json::json!([third, third]);
    assert!(v
        .edit(third, bad.to_string().as_bytes(), None, false)
        .is_err());
}

#[test]
fn purging_either_id_of_a_merged_person_purges_the_one_human_under_both() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = two(v);
    v.merge_people(p.cyrillic, p.latin).unwrap();
    v.purge(p.latin, "consent withdrawn").unwrap();
    assert_no_names(v, &[p.cyrillic, p.latin]);
    for q in ["Senbay", "Сенбай", "012345678", "+7 702"] {
        assert!(
            v.search(q, 20)
                .unwrap()
                .iter()
                .all(|h| h.summary.kind != Kind::Person),
            "{q}"
        );
    }
    assert!(v.verify().unwrap().problems.is_empty());
}

#[test]
fn a_merge_travels_in_a_bundle_and_the_coordinator_sees_one_person() {
    let (mut org, t, mut cw, p) = both_at_the_office();
    assert_eq!(org.v.list_page(Some(Kind::Person), 0, 10).unwrap().0, 2);
    cw.merge_people(p.cyrillic, p.latin).unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    let r = org.v.import(&second, &Default::default()).unwrap();
    assert_eq!(r.changed_records, 2, "{r:?}");
    assert_eq!(org.v.list_page(Some(Kind::Person), 0, 10).unwrap().0, 1);
    assert_eq!(org.v.survivor_of(p.latin).unwrap(), p.cyrillic);
    assert_eq!(names(&org.v, p.cyrillic), names(&cw, p.cyrillic));
    assert_eq!(org.v.related(p.latin).unwrap().len(), 4);
    // The undo travels the same way.
    cw.unmerge_people(p.cyrillic, p.latin).unwrap();
    let third = export(&mut cw, ExportScope::SinceLast, &t.path().join("3"));
    org.v.import(&third, &Default::default()).unwrap();
    assert_eq!(org.v.list_page(Some(Kind::Person), 0, 10).unwrap().0, 2);
    assert_eq!(org.v.survivor_of(p.latin).unwrap(), p.latin);
}

#[test]
fn a_purge_arriving_for_a_person_merged_here_purges_the_person_kept_too() {
    let (mut org, t, mut cw, p) = both_at_the_office();
    // The coordinator merges; the caseworker, who never saw the merge, purges one of the two.
    org.v.merge_people(p.cyrillic, p.latin).unwrap();
    assert_eq!(names(&org.v, p.cyrillic).len(), 2);
    cw.purge(p.latin, "consent withdrawn").unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    let r = org.v.import(&second, &Default::default()).unwrap();
    assert_eq!(r.purged_records, 1);
    assert_no_names(&org.v, &[p.cyrillic, p.latin]);
    assert_nobody_found(&org.v);
}

#[test]
fn a_merge_arriving_for_a_person_purged_here_brings_nothing_back() {
    let mut org = coordinator();
    let (t, mut cw) = caseworker(&mut org, "Almaty laptop");
    let p = two(&mut cw);
    let photo = t.path().join("latin.jpg");
    std::fs::write(&photo, b"CANARY-PHOTO-OF-SENBAY").unwrap();
    attach_file(&mut cw, p.latin, &photo, "image/jpeg");
    let sha = data(&cw, p.latin)["attachments"][0]["blob"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = export(&mut cw, ExportScope::SinceLast, &t.path().join("1"));
    org.v.import(&first, &Default::default()).unwrap();
    // Consent withdrawn at the office; the caseworker, who has not heard yet, merges.
    org.v.purge(p.latin, "consent withdrawn").unwrap();
    assert!(org.v.open_attachment(&sha).is_err());
    cw.merge_people(p.cyrillic, p.latin).unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    org.v.import(&second, &Default::default()).unwrap();
    assert_no_names(&org.v, &[p.cyrillic, p.latin]);
    assert!(org.v.open_attachment(&sha).is_err(), "the photo came back");
    assert_nobody_found(&org.v);
}

#[test]
fn a_purge_reaches_every_person_a_merge_ever_copied_the_data_into() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = two(v);
    let third = add_person(v, "Нұрлан Сенбай");
    // Merged into one person and undone, then into another: both held the names.
    v.merge_people(p.cyrillic, p.latin).unwrap();
    v.unmerge_people(p.cyrillic, p.latin).unwrap();
    v.merge_people(third, p.latin).unwrap();
    let bystander = add_person(v, "Айгерім Қасым");
    v.purge(p.latin, "consent withdrawn").unwrap();
    assert_no_names(v, &[p.cyrillic, p.latin, third]);
    assert_eq!(names(v, bystander), ["Айгерім Қасым"]);
    let purged = v
        .audit()
        .unwrap()
        .iter()
        .filter(|e| e.event["type"] == "record_purged")
        .count();
    assert_eq!(purged, 3);
}

#[test]
fn an_undo_keeps_what_another_merged_person_also_brought() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let s = person(
        v,
        serde_json::json!({"names": [{"value": "Сенбай Нұрахен"}]}),
    );
    let a = person(
        v,
        serde_json::json!({"names": [{"value": "Senbay Nurakhen"}], "anonymise_in_exports_to_partners": true}),
    );
    let b = person(
        v,
        serde_json::json!({"names": [{"value": "Senbay Nurakhen"}, {"value": "Senbai"}],
            "anonymise_in_exports_to_partners": true, "do_not_contact": true}),
    );
    v.merge_people(s, a).unwrap();
    v.merge_people(s, b).unwrap();
    v.unmerge_people(s, a).unwrap();
    let d = data(v, s);
    assert_eq!(d["anonymise_in_exports_to_partners"], true, "{d}");
    assert_eq!(d["do_not_contact"], true, "{d}");
    let mut kept = names(v, s);
    kept.sort();
    assert_eq!(kept, ["Senbai", "Senbay Nurakhen", "Сенбай Нұрахен"]);
    assert_eq!(d["merged"], serde_json::json!([b]));
}

#[test]
fn two_people_merged_into_each_other_in_two_vaults_stay_findable() {
    let (mut org, t, mut cw, p) = both_at_the_office();
    // Opposite choices: the office keeps the Latin entry, the caseworker the Cyrillic one.
    org.v.merge_people(p.latin, p.cyrillic).unwrap();
    cw.merge_people(p.cyrillic, p.latin).unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    org.v.import(&second, &Default::default()).unwrap();
    let a = org.v.survivor_of(p.latin).unwrap();
    assert_eq!(org.v.survivor_of(p.cyrillic).unwrap(), a, "one person");
    let (total, rows) = org.v.list_page(Some(Kind::Person), 0, 10).unwrap();
    assert_eq!((total, ids(&rows)), (1, vec![a]));
    assert_eq!(org.v.related(p.latin).unwrap().len(), 4);
}

#[test]
fn a_flag_set_on_the_merged_id_afterwards_protects_the_one_person() {
    let (mut org, t, mut cw, p) = both_at_the_office();
    org.v.merge_people(p.cyrillic, p.latin).unwrap();
    assert!(!org.v.merge_group(p.cyrillic).unwrap().do_not_contact);
    // The caseworker, who has not heard of the merge, learns the witness must not be called.
    let mut d = data(&cw, p.latin);
    d["do_not_contact"] = serde_json::json!(true);
    cw.edit(p.latin, d.to_string().as_bytes(), None, false)
        .unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    org.v.import(&second, &Default::default()).unwrap();
    for asked in [p.cyrillic, p.latin] {
        let g = org.v.merge_group(asked).unwrap();
        assert!(g.do_not_contact && g.anonymise, "{asked}");
    }
}

#[test]
fn a_purge_does_not_follow_what_the_purged_record_says_of_others() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let p = two(v);
    // A record that lists a real person as merged into it, without that person's side.
    let claimant = add_person(v, "Claimant");
    let mut d = data(v, claimant);
    d["merged"] = serde_json::json!([p.cyrillic]);
    v.edit(claimant, d.to_string().as_bytes(), None, false)
        .unwrap();
    v.purge(claimant, "consent withdrawn").unwrap();
    assert_eq!(names(v, p.cyrillic), ["Сенбай Нұрахен"]);
    assert_eq!(names(v, p.latin), ["Senbay Nurakhen"]);
}

#[test]
fn a_merge_undone_before_a_purge_does_not_purge_the_other_on_its_next_edit() {
    let (mut org, t, mut cw, p) = both_at_the_office();
    // Сенбай was merged into Senbay by mistake and taken out again; then Senbay is purged.
    org.v.merge_people(p.latin, p.cyrillic).unwrap();
    org.v.unmerge_people(p.latin, p.cyrillic).unwrap();
    org.v.purge(p.latin, "consent withdrawn").unwrap();
    assert_eq!(names(&org.v, p.cyrillic), ["Сенбай Нұрахен"]);
    // The caseworker's next edit of Сенбай arrives: it is no reason to purge him.
    let mut d = data(&cw, p.cyrillic);
    d["ethnicity"] = serde_json::json!("Kazakh");
    cw.edit(p.cyrillic, d.to_string().as_bytes(), None, false)
        .unwrap();
    let second = export(&mut cw, ExportScope::SinceLast, &t.path().join("2"));
    org.v.import(&second, &Default::default()).unwrap();
    assert_eq!(names(&org.v, p.cyrillic), ["Сенбай Нұрахен"]);
}
