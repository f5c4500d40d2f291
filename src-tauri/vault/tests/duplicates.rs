//! Duplicate people (issue #12): two caseworkers enter the same witness as two people. The
//! suggestions for a person come from shared name spellings in any script and shared document
//! numbers, and agree with the birth date: Сенбай Нұрахен b. 1969 = Senbay Nurakhen b. 1969.

use testkit::fixture::*;
use vault::{BirthMatch, Kind};

fn person(v: &mut vault::Vault, json: serde_json::Value) -> vault::RecordId {
    v.add(Kind::Person, json.to_string().as_bytes())
        .unwrap()
        .record
}

#[test]
fn the_same_witness_in_two_scripts_is_suggested_and_a_stranger_is_not() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let cyrillic = person(
        v,
        serde_json::json!({"names": [{"value": "Сенбай Нұрахен"}], "date_of_birth": "1969",
            "documents": [{"type": "prc-passport", "number": "E12345678"}]}),
    );
    let latin = person(
        v,
        serde_json::json!({"names": [{"value": "Senbay Nurakhen"}], "date_of_birth": "1969-03-02"}),
    );
    let same_passport = person(
        v,
        serde_json::json!({"names": [{"value": "С. Нурахенов"}],
            "documents": [{"type": "prc-passport", "number": "E 1234 5678"}]}),
    );
    // The same name, born on another day: not the same person.
    let namesake = person(
        v,
        serde_json::json!({"names": [{"value": "Senbai Nurakhen"}], "date_of_birth": "1971"}),
    );
    // One word in common is not a suggestion.
    let one_word = person(v, serde_json::json!({"names": [{"value": "Сенбай Серік"}]}));
    let stranger = person(
        v,
        serde_json::json!({"names": [{"value": "Айгерім Қасым"}]}),
    );
    let t2 = add_testimony(v, latin, "told in Almaty");

    let found = v.duplicate_suggestions(cyrillic, 10).unwrap();
    let ids: Vec<_> = found.iter().map(|d| d.summary.id).collect();
    assert_eq!(ids, [same_passport, latin], "{found:#?}");
    assert_eq!(found[0].shared_numbers, 1);
    assert_eq!(
        (found[1].shared_names, found[1].birth),
        (2, BirthMatch::SameYear)
    );
    for not in [namesake, one_word, stranger, t2] {
        assert!(!ids.contains(&not));
    }
    // Both ways.
    let back = v.duplicate_suggestions(latin, 10).unwrap();
    assert!(back.iter().any(|d| d.summary.id == cyrillic));
    assert!(v.duplicate_suggestions(t2, 10).is_err(), "only people");
}

#[test]
fn two_full_birth_dates_that_differ_rule_a_person_out() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let a = person(
        v,
        serde_json::json!({"names": [{"value": "Сайрагүл Сауытбай"}], "date_of_birth": "1977-03-05"}),
    );
    let same_day = person(
        v,
        serde_json::json!({"names": [{"value": "Sayragul Sauytbay"}], "date_of_birth": "1977-03-05"}),
    );
    let other_day = person(
        v,
        serde_json::json!({"names": [{"value": "Sairagul Sauytbai"}], "date_of_birth": "1977-09-11"}),
    );
    let found = v.duplicate_suggestions(a, 10).unwrap();
    let ids: Vec<_> = found.iter().map(|d| d.summary.id).collect();
    assert_eq!(ids, [same_day]);
    assert_eq!(found[0].birth, BirthMatch::Same);
    assert!(!ids.contains(&other_day));
}

#[test]
fn a_names_script_and_kind_are_not_name_words() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let name = |value: &str| {
        serde_json::json!({"names": [
            {"value": value, "script": "latn", "kind": "legal"},
            {"value": value, "script": "cyrl", "kind": "transliteration"},
        ]})
    };
    let a = person(v, name("Aigerim Kasym"));
    person(v, name("Zhandos Toleuhan"));
    assert!(
        v.duplicate_suggestions(a, 10).unwrap().is_empty(),
        "two strangers matched on \"latn\", \"legal\"…"
    );
}

#[test]
fn birth_dates_rule_out_only_what_both_know_and_approximate_ones_nothing() {
    let mut t = TempVault::new();
    let v = &mut t.vault;
    let born = |v: &mut vault::Vault, name: &str, date: &str| {
        person(
            v,
            serde_json::json!({"names": [{"value": name}], "date_of_birth": date}),
        )
    };
    let a = born(v, "Сенбай Нұрахен", "1969-03");
    let other_month = born(v, "Senbay Nurakhen", "1969-07");
    let same_month = born(v, "Senbai Nurakhen", "1969-03-14");
    let approximate = born(v, "Senbay Nurahen", "1971~");
    let ids: Vec<_> = v
        .duplicate_suggestions(a, 10)
        .unwrap()
        .into_iter()
        .map(|d| (d.summary.id, d.birth))
        .collect();
    assert!(ids.contains(&(same_month, BirthMatch::SameYear)), "{ids:?}");
    assert!(ids.contains(&(approximate, BirthMatch::Unknown)), "{ids:?}");
    assert!(!ids.iter().any(|(id, _)| *id == other_month), "{ids:?}");
    // A one-word name is suggested through a number only.
    let single = person(v, serde_json::json!({"names": [{"value": "Сенбай"}]}));
    assert!(v.duplicate_suggestions(single, 10).unwrap().is_empty());
}
