//! Reading: search across scripts, attempt numbering, list pages, related records and the
//! index of references (kept by every save, filled by the migration from older vaults).

use testkit::fixture::*;
use vault::{Kind, MatchKind, RecordId, Vault};

#[test]
fn search_finds_a_person_from_any_spelling() {
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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

/// Two attempts submitted the same day (one of them approximately) get the same numbers in a
/// list, a search result and on the person's page: one rule, by date then by record id.
#[test]
fn attempts_on_the_same_day_are_numbered_alike_everywhere() {
    let mut v = TempVault::new();
    let p = add_person(&mut v, "Сенбай");
    let mut ids: Vec<RecordId> = ["2024-05-01", "2024-05-01~", "2024-05-01", "2023-12"]
        .iter()
        .map(|d| add_attempt(&mut v, p, serde_json::json!({ "submitted_on": d })))
        .collect();
    let first = ids.pop().unwrap(); // 2023-12: before the three of 2024-05-01
    ids.sort(); // same day: by record id
    let expected: Vec<(RecordId, usize)> = std::iter::once(first)
        .chain(ids)
        .enumerate()
        .map(|(i, id)| (id, i + 1))
        .collect();
    let number = |facts: vault::Facts| match facts {
        vault::Facts::Attempt { number, .. } => number,
        other => panic!("{other:?}"),
    };
    let page: Vec<(RecordId, usize)> = v
        .person_attempts(p)
        .unwrap()
        .iter()
        .map(|l| (l.id, l.number))
        .collect();
    assert_eq!(page, expected, "the person's page");
    let mut listed: Vec<(RecordId, usize)> = v
        .list(Some(Kind::Attempt))
        .unwrap()
        .into_iter()
        .map(|s| (s.id, number(s.facts)))
        .collect();
    listed.sort_by_key(|(_, n)| *n);
    assert_eq!(listed, expected, "the list");
    for (id, n) in &expected {
        assert_eq!(number(v.summary(*id).unwrap().facts), *n, "one summary");
    }
}

/// The app's lists are paged: a page is the same rows, in the same order, as the whole list.
#[test]
fn list_pages_match_the_whole_list() {
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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
    let mut v = TempVault::new();
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

#[test]
fn a_version_1_vault_is_migrated_on_unlock() {
    let mut v = TempVault::new();
    let dir = v.dir();
    let p = add_person(&mut v, "Сенбай");
    // Records with every kind of reference, so the migration's backfill of `refs` (SQL) can be
    // compared with what saves write (Rust).
    every_kind_of_reference(&mut v, p);
    v.lock();
    let refs_as_saved = refs_rows(&dir);
    assert!(refs_as_saved.len() >= 9, "{refs_as_saved:?}");
    let c = raw_db(&dir);
    c.execute_batch(
        "DROP TABLE recipients; DROP TABLE export_cursors; DROP TABLE identities; DROP TABLE trusted_devices; DROP TABLE imports; DROP TABLE drafts; DROP INDEX records_kind; DROP TABLE refs; DROP TABLE doomed_files; UPDATE meta SET value = '1' WHERE key = 'schema_version';",
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
    let ok = confirmed(&mut v);
    v.add_recipient(&r, Some("coordinators"), ok).unwrap();
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
