//! Possible duplicates of a person: the people who share a spelling of a name with them (in
//! any script: [`super::keys::name_keys`], so Сенбай Нұрахен meets Senbay Nurakhen) or a
//! document number. Only the indexes every save keeps are read, never every person: one person
//! among 100,000 takes milliseconds. Scoring and wording are higher up (`vault/queries.rs`).

use rusqlite::{params_from_iter, Connection};

use super::keys;
use crate::error::Result;
use crate::model::{search_terms, Kind};
use crate::store::collect;

/// A person who shares names or numbers with the one asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Their record id.
    pub record: String,
    /// Name keys (folded words of their names) both have.
    pub shared_names: usize,
    /// Document and reference numbers both have.
    pub shared_numbers: usize,
}

/// The most candidates looked at closer (the rest share less).
pub(crate) const MAX_CANDIDATES: usize = 50;

/// The people sharing at least two name words, or one number, with the person whose current
/// data is `data` (record `id`), most shared first, at most [`MAX_CANDIDATES`].
pub(crate) fn candidates(
    c: &Connection,
    id: &str,
    data: &serde_json::Value,
) -> Result<Vec<Candidate>> {
    let terms = search_terms(Kind::Person, data);
    let mut names: Vec<String> = terms
        .names
        .iter()
        .flat_map(|n| keys::name_keys(n))
        .collect();
    names.sort();
    names.dedup();
    let mut numbers: Vec<String> = terms
        .numbers
        .iter()
        .map(|n| keys::number_key(n))
        .filter(|n| n.len() >= 4)
        .collect();
    numbers.sort();
    numbers.dedup();
    let shared = |table: &str, keys: &[String]| -> Result<Vec<(String, usize)>> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let marks = vec!["?"; keys.len()].join(",");
        let sql = format!(
            "SELECT t.record, count(*) FROM {table} t JOIN records r ON r.id = t.record \
             WHERE t.key IN ({marks}) AND t.record != ? AND r.kind = 'person' \
             GROUP BY t.record"
        );
        let args = keys.iter().map(String::as_str).chain([id]);
        collect(c.prepare(&sql)?.query_map(params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
        })?)
    };
    let mut found: std::collections::HashMap<String, Candidate> = Default::default();
    for (record, n) in shared("name_keys", &names)? {
        found
            .entry(record.clone())
            .or_insert(Candidate {
                record,
                shared_names: 0,
                shared_numbers: 0,
            })
            .shared_names = n;
    }
    for (record, n) in shared("number_keys", &numbers)? {
        found
            .entry(record.clone())
            .or_insert(Candidate {
                record,
                shared_names: 0,
                shared_numbers: 0,
            })
            .shared_numbers = n;
    }
    // One shared word (a common given name) is not a suggestion; two, or a number, are.
    let least = names.len().min(2);
    let mut out: Vec<Candidate> = found
        .into_values()
        .filter(|c| c.shared_numbers > 0 || (least > 0 && c.shared_names >= least))
        .collect();
    out.sort_by(|a, b| {
        (b.shared_numbers, b.shared_names, &a.record).cmp(&(
            a.shared_numbers,
            a.shared_names,
            &b.record,
        ))
    });
    out.truncate(MAX_CANDIDATES);
    Ok(out)
}
