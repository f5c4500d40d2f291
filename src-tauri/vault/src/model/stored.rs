//! Reading stored records without validating them again.
//!
//! Revisions are kept as the canonical JSON their ids are computed over, and parsing them back
//! into typed records on every read would cost more than the reads themselves. These functions
//! are the one place that knows which fields of a stored record refer to other records, name
//! attachments, or carry names and numbers to search by; the store, the index, bundles and
//! `verify` all go through them. A test (`references_in_agrees_with_validation`) keeps
//! [`references_in`] and validation in step.

use serde_json::Value;

use super::Kind;

/// Every element of the array field `key` of `v` (none when absent or not an array).
fn list<'v>(v: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// The records a stored record of `kind` refers to (the same fields validation checks:
/// relatives, merged people, witness, victims, person, follows_up, a case's members), sorted, without
/// duplicates. Used to keep the vault's index of references.
pub fn references_in(kind: Kind, d: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut one = |v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            out.push(s.to_owned());
        }
    };
    match kind {
        Kind::Person => {
            list(d, "relationships").for_each(|r| one(r.get("person")));
            list(d, "merged").for_each(|m| one(Some(m)));
            one(d.get("merged_into"));
        }
        Kind::Testimony => {
            one(d.get("witness"));
            list(d, "events")
                .flat_map(|e| list(e, "victims"))
                .for_each(|v| one(Some(v)));
        }
        Kind::Attempt => {
            one(d.get("person"));
            one(d.get("follows_up"));
        }
        Kind::Case => ["persons", "testimonies", "attempts"]
            .iter()
            .flat_map(|k| list(d, k))
            .for_each(|v| one(Some(v))),
    }
    out.sort();
    out.dedup();
    out
}

/// The attachments (`attachments[].blob`, the SHA-256 of each file) a stored record names.
pub fn attachment_blobs(d: &Value) -> impl Iterator<Item = &str> {
    list(d, "attachments").filter_map(|a| a.get("blob").and_then(Value::as_str))
}

/// Each attachment's file (SHA-256) and custody facts, if it has them.
pub fn attachment_custody(d: &Value) -> impl Iterator<Item = (&str, Option<&Value>)> {
    list(d, "attachments")
        .filter_map(|a| Some((a.get("blob").and_then(Value::as_str)?, a.get("custody"))))
}

/// What a stored record is found by besides its full text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SearchTerms<'d> {
    /// Every name string of a person (values and parts), in any script.
    pub names: Vec<&'d str>,
    /// Document numbers (also with their series in front), cross-reference ids, receipt and
    /// case reference numbers, as written.
    pub numbers: Vec<String>,
}

/// The names and numbers of a stored record of `kind`.
pub fn search_terms(kind: Kind, d: &Value) -> SearchTerms<'_> {
    let mut t = SearchTerms::default();
    if kind == Kind::Person {
        // A name's value and its parts; not its script or kind ("cyrl", "legal"), which every
        // person has: as name words they made everyone a namesake of everyone.
        for n in list(d, "names") {
            if let Some(v) = n.get("value").and_then(Value::as_str) {
                t.names.push(v);
            }
            if let Some(parts) = n.get("parts") {
                string_leaves(parts, &mut t.names);
            }
        }
        for doc in list(d, "documents") {
            let series = doc.get("series").and_then(Value::as_str).unwrap_or("");
            let number = doc.get("number").and_then(Value::as_str).unwrap_or("");
            t.numbers.push(number.to_owned());
            if !series.is_empty() {
                t.numbers.push(format!("{series}{number}"));
            }
        }
        for x in list(d, "cross_references") {
            if let Some(s) = x.get("id").and_then(Value::as_str) {
                t.numbers.push(s.to_owned());
            }
        }
    }
    for key in ["receipt_number", "reference"] {
        if let Some(s) = d.get(key).and_then(Value::as_str) {
            t.numbers.push(s.to_owned());
        }
    }
    t
}

fn string_leaves<'v>(v: &'v Value, out: &mut Vec<&'v str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| string_leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| string_leaves(x, out)),
        _ => {}
    }
}
