//! Two people's stored data made one, and a merge taken back out (docs/design-notes.md
//! "Duplicate people"). Pure functions on stored JSON; the vault writes what they return as
//! ordinary revisions, validated like any save.
//!
//! A merge keeps everything: every name spelling, document, citizenship, contact, attachment
//! and cross-reference of both (each once); a field only the merged person filled in is filled
//! in; two different notes are both kept; a protection flag either person had stays set (the
//! stricter wins). Undoing it removes what the merge brought in and nothing else: what was
//! added or changed after the merge stays.

use serde_json::{Map, Value};

/// Fields that are lists of items, and what makes two items the same item.
const LISTS: &[(&str, &[&str])] = &[
    ("names", &["value"]),
    ("documents", &["type", "number"]),
    ("citizenships", &["country"]),
    ("cross_references", &["system", "id"]),
    ("attachments", &["blob"]),
    ("relationships", &["person"]),
    ("phones", &[]),
    ("messengers", &["app", "handle"]),
];

/// Protection flags: set when either person had it set.
const FLAGS: &[&str] = &["do_not_contact", "anonymise_in_exports_to_partners"];

/// Free text kept from both people when they differ.
const TEXTS: &[&str] = &["notes", "note"];

/// Where the merge itself is written.
const MERGED: &str = "merged";
const MERGED_INTO: &str = "merged_into";

/// The identity of a list item: its key fields, or the item itself for plain values.
fn identity(item: &Value, key: &[&str]) -> Value {
    if key.is_empty() {
        return match item {
            Value::String(s) => Value::String(s.split_whitespace().collect()),
            other => other.clone(),
        };
    }
    Value::Array(
        key.iter()
            .map(|k| match item.get(k) {
                Some(Value::String(s)) => {
                    Value::String(s.split_whitespace().collect::<String>().to_uppercase())
                }
                Some(v) => v.clone(),
                None => Value::Null,
            })
            .collect(),
    )
}

fn list_key(field: &str) -> Option<&'static [&'static str]> {
    LISTS.iter().find(|(f, _)| *f == field).map(|(_, k)| *k)
}

/// Whether a partial date (`1969`, `1969-03`) is a less precise form of another.
fn less_precise(a: &str, b: &str) -> bool {
    !a.ends_with('~') && !b.ends_with('~') && b.len() > a.len() && b.starts_with(a)
}

/// Merges object `from` into `into`, field by field (used for a person and for its contact).
fn merge_fields(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    skip: &dyn Fn(&Value) -> bool,
) {
    for (k, theirs) in from {
        if k == MERGED || k == MERGED_INTO {
            continue;
        }
        let ours = into.get_mut(k);
        match (ours, theirs) {
            (None, _) => {
                if let Value::Array(items) = theirs {
                    let kept: Vec<Value> = items.iter().filter(|i| !skip(i)).cloned().collect();
                    if !kept.is_empty() {
                        into.insert(k.clone(), Value::Array(kept));
                    }
                } else {
                    into.insert(k.clone(), theirs.clone());
                }
            }
            (Some(Value::Array(mine)), Value::Array(items)) => {
                let key = list_key(k).unwrap_or(&[]);
                for item in items {
                    let id = identity(item, key);
                    if !skip(item) && !mine.iter().any(|m| identity(m, key) == id) {
                        mine.push(item.clone());
                    }
                }
            }
            (Some(Value::Object(mine)), Value::Object(other)) if k == "contact" => {
                merge_fields(mine, other, skip);
            }
            (Some(mine), theirs) if FLAGS.contains(&k.as_str()) => {
                if theirs == &Value::Bool(true) {
                    *mine = Value::Bool(true);
                }
            }
            (Some(Value::String(mine)), Value::String(other)) if TEXTS.contains(&k.as_str()) => {
                if mine.trim() != other.trim() && !mine.contains(other.trim()) {
                    mine.push_str("\n\n");
                    mine.push_str(other.trim());
                }
            }
            (Some(Value::String(mine)), Value::String(other)) if k == "date_of_birth" => {
                if less_precise(mine, other) {
                    *mine = other.clone();
                }
            }
            (Some(_), _) => {}
        }
    }
}

/// The survivor's next version: its data with the absorbed person's merged in, and the
/// absorbed id added to `merged`. Relationships to either of the two are left out (a person
/// is not their own relative).
pub(crate) fn merged_person(
    survivor: &Value,
    absorbed: &Value,
    survivor_id: &str,
    absorbed_id: &str,
) -> Value {
    let mut out = survivor.as_object().cloned().unwrap_or_default();
    let from = absorbed.as_object().cloned().unwrap_or_default();
    let skip = |item: &Value| {
        item.get("person")
            .and_then(Value::as_str)
            .is_some_and(|p| p == survivor_id || p == absorbed_id)
    };
    if let Some(Value::Array(rels)) = out.get_mut("relationships") {
        rels.retain(|r| !skip(r));
        if rels.is_empty() {
            out.remove("relationships");
        }
    }
    merge_fields(&mut out, &from, &skip);
    let merged = out.entry(MERGED).or_insert_with(|| Value::Array(vec![]));
    if let Value::Array(ids) = merged {
        if !ids.iter().any(|i| i == absorbed_id) {
            ids.push(Value::String(absorbed_id.to_owned()));
        }
    }
    Value::Object(out)
}

/// The absorbed person's next version: its own data, pointing at the survivor.
pub(crate) fn absorbed_person(absorbed: &Value, survivor_id: &str) -> Value {
    let mut out = absorbed.as_object().cloned().unwrap_or_default();
    out.insert(MERGED_INTO.into(), Value::String(survivor_id.to_owned()));
    Value::Object(out)
}

/// The absorbed person after an undo: its own data again, pointing nowhere.
pub(crate) fn released_person(absorbed: &Value) -> Value {
    let mut out = absorbed.as_object().cloned().unwrap_or_default();
    out.remove(MERGED_INTO);
    Value::Object(out)
}

/// Whether stored person data lists `id` as merged into it.
pub(crate) fn holds(person: &Value, id: &str) -> bool {
    person
        .get(MERGED)
        .and_then(Value::as_array)
        .is_some_and(|ids| {
            ids.iter().any(|i| {
                i.as_str()
                    .and_then(|s| s.parse::<super::RecordId>().ok())
                    .is_some_and(|r| r.to_string() == id)
            })
        })
}

/// Takes out of `current` what the merge brought in: `merge` is the survivor's version the
/// merge wrote, `before` the one it was written after. List items the merge added go; a field
/// the merge set or changed goes back to what it was, unless it was changed again since.
fn undo_fields(
    current: &mut Map<String, Value>,
    merge: &Map<String, Value>,
    before: &Map<String, Value>,
) {
    let keys: Vec<String> = merge.keys().chain(before.keys()).cloned().collect();
    for k in keys {
        if k == MERGED {
            continue;
        }
        let (m, b) = (merge.get(&k), before.get(&k));
        if m == b {
            continue;
        }
        if matches!(m, Some(Value::Array(_))) || matches!(b, Some(Value::Array(_))) {
            let (merged, old) = (items(m), items(b));
            let now = current
                .entry(k.clone())
                .or_insert_with(|| Value::Array(vec![]));
            if let Value::Array(now) = now {
                // What the merge added goes; what it left out (a relationship between the
                // two) comes back.
                now.retain(|item| !merged.contains(item) || old.contains(item));
                for item in old {
                    if !merged.contains(item) && !now.contains(item) {
                        now.push(item.clone());
                    }
                }
                if now.is_empty() {
                    current.remove(&k);
                }
            }
            continue;
        }
        match (m, b, current.get_mut(&k)) {
            (Some(Value::Object(m)), b, Some(Value::Object(now))) if k == "contact" => {
                let empty = Map::new();
                let b = match b {
                    Some(Value::Object(b)) => b,
                    _ => &empty,
                };
                undo_fields(now, m, b);
                if now.is_empty() {
                    current.remove(&k);
                }
            }
            (m, b, now) => {
                if now.as_deref() == m {
                    match b {
                        Some(b) => {
                            current.insert(k.clone(), b.clone());
                        }
                        None => {
                            current.remove(&k);
                        }
                    }
                }
            }
        }
    }
}

/// The items of a list field (none when absent or not a list).
fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

/// The survivor's next version after an undo of the merge of `absorbed_id`: see
/// [`undo_fields`]. A photo that was one of the attachments taken out goes with it.
pub(crate) fn unmerged_person(
    current: &Value,
    merge: &Value,
    before: &Value,
    absorbed_id: &str,
) -> Value {
    let mut out = current.as_object().cloned().unwrap_or_default();
    let empty = Map::new();
    undo_fields(
        &mut out,
        merge.as_object().unwrap_or(&empty),
        before.as_object().unwrap_or(&empty),
    );
    if let Some(Value::Array(ids)) = out.get_mut(MERGED) {
        ids.retain(|i| i != absorbed_id);
        if ids.is_empty() {
            out.remove(MERGED);
        }
    }
    let photo_gone = out.get("photo").and_then(Value::as_str).is_some_and(|p| {
        !out.get("attachments")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .any(|x| x.get("blob").and_then(Value::as_str) == Some(p))
            })
    });
    if photo_gone {
        out.remove("photo");
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const S: &str = "00000000-0000-7000-8000-000000000001";
    const A: &str = "00000000-0000-7000-8000-000000000002";

    fn senbay() -> (Value, Value) {
        let s = json!({
            "names": [{"value": "Сенбай Нұрахен", "script": "cyrl"}],
            "date_of_birth": "1969",
            "documents": [{"type": "kz-id-card", "number": "012345678"}],
            "notes": "Came to the office in March.",
            "contact": {"phones": ["+7 701 000 0000"]},
        });
        let a = json!({
            "names": [{"value": "Senbay Nurakhen", "script": "latn"}, {"value": "Сенбай Нұрахен"}],
            "date_of_birth": "1969-03-02",
            "documents": [{"type": "kz-id-card", "number": "0123 45678"}, {"type": "prc-passport", "number": "E12345678"}],
            "gender": "male",
            "notes": "Sister in Ghulja.",
            "anonymise_in_exports_to_partners": true,
            "contact": {"phones": ["+77010000000", "+7 702 111 1111"], "note": "evenings"},
            "relationships": [{"person": S, "relation": "other"}],
        });
        (s, a)
    }

    #[test]
    fn a_merge_keeps_everything_once_and_the_stricter_flag() {
        let (s, a) = senbay();
        let m = merged_person(&s, &a, S, A);
        let names: Vec<&str> = m["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["value"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Сенбай Нұрахен", "Senbay Nurakhen"]);
        assert_eq!(m["documents"].as_array().unwrap().len(), 2, "{m}");
        assert_eq!(m["date_of_birth"], "1969-03-02");
        assert_eq!(m["gender"], "male");
        assert_eq!(
            m["notes"],
            "Came to the office in March.\n\nSister in Ghulja."
        );
        assert_eq!(m["anonymise_in_exports_to_partners"], true);
        assert_eq!(
            m["contact"]["phones"],
            json!(["+7 701 000 0000", "+7 702 111 1111"])
        );
        assert_eq!(m["contact"]["note"], "evenings");
        assert!(m.get("relationships").is_none(), "{m}");
        assert_eq!(m["merged"], json!([A]));
        assert!(holds(&m, A) && !holds(&s, A));
    }

    #[test]
    fn an_undo_takes_out_what_the_merge_brought_and_keeps_later_edits() {
        let (s, a) = senbay();
        let m = merged_person(&s, &a, S, A);
        let mut later = m.clone();
        later["status"] = json!({"value": "abroad"});
        later["names"]
            .as_array_mut()
            .unwrap()
            .push(json!({"value": "Sénbai"}));
        let u = unmerged_person(&later, &m, &s, A);
        let mut expected = s.clone();
        expected["status"] = json!({"value": "abroad"});
        expected["names"]
            .as_array_mut()
            .unwrap()
            .push(json!({"value": "Sénbai"}));
        assert_eq!(u, expected);
        // Without later edits, the undo is exactly the version before the merge.
        assert_eq!(unmerged_person(&m, &m, &s, A), s);
    }

    #[test]
    fn an_undo_keeps_a_field_changed_after_the_merge() {
        let (s, a) = senbay();
        let m = merged_person(&s, &a, S, A);
        let mut later = m.clone();
        later["gender"] = json!("female");
        later["notes"] = json!("Rewritten.");
        let u = unmerged_person(&later, &m, &s, A);
        assert_eq!(u["gender"], "female");
        assert_eq!(u["notes"], "Rewritten.");
        assert_eq!(u["date_of_birth"], "1969");
        assert!(u.get("anonymise_in_exports_to_partners").is_none());
        assert!(u.get("merged").is_none());
    }

    #[test]
    fn an_undo_brings_back_the_relationship_between_the_two() {
        let (mut s, a) = senbay();
        s["relationships"] = json!([{"person": A, "relation": "sibling"}]);
        let m = merged_person(&s, &a, S, A);
        assert!(m.get("relationships").is_none(), "{m}");
        assert_eq!(unmerged_person(&m, &m, &s, A), s);
    }

    #[test]
    fn the_absorbed_person_points_at_the_survivor_and_back_again() {
        let (_, a) = senbay();
        let b = absorbed_person(&a, S);
        assert_eq!(b["merged_into"], S);
        assert_eq!(released_person(&b), a);
    }
}
