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

/// The most candidates looked at closer (their birth dates; the rest share less).
pub(crate) const MAX_CANDIDATES: usize = 500;

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
        // Initials ("С.") are no name word, as in name search.
        .filter(|k| k.chars().count() >= 2)
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
    // One shared word (a common given name) is not a suggestion; two, or a number, are.
    // Counted in SQL, only people sharing enough: a common word is shared by thousands, and
    // each of them is not to be handed up one by one. The rows of the person's keys are
    // gathered first (MATERIALIZED): left to itself, SQLite walked the whole table in record
    // order to save the grouping's sort (480 ms at 100,000 people instead of a few).
    // A one-word name ("Gulnara") is shared by too many: it suggests through numbers only.
    let least = if names.len() >= 2 { 2 } else { 0 };
    let shared = |sql: &str, keys: &[String], at_least: usize| -> Result<Vec<(String, usize)>> {
        if keys.is_empty() || at_least == 0 {
            return Ok(vec![]);
        }
        let marks = vec!["?"; keys.len()].join(",");
        let sql = sql.replace("{marks}", &marks);
        use rusqlite::types::Value;
        let args = keys
            .iter()
            .map(|k| Value::Text(k.clone()))
            .chain([Value::Text(id.to_owned()), Value::Integer(at_least as i64)]);
        collect(c.prepare(&sql)?.query_map(params_from_iter(args), |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as usize))
        })?)
    };
    // Name keys are kept for people only; numbers for other kinds too (receipts, cases).
    let by_name = shared(
        "WITH m AS MATERIALIZED (SELECT record FROM name_keys WHERE key IN ({marks})) \
         SELECT record, count(*) AS n FROM m WHERE record != ? \
         GROUP BY record HAVING n >= ? ORDER BY n DESC LIMIT 500",
        &names,
        least,
    )?;
    let by_number = shared(
        "WITH m AS MATERIALIZED (SELECT record FROM number_keys WHERE key IN ({marks})) \
         SELECT m.record, count(*) AS n FROM m JOIN records r ON r.id = m.record \
         WHERE m.record != ? AND r.kind = 'person' GROUP BY m.record HAVING n >= ? LIMIT 500",
        &numbers,
        1,
    )?;
    let mut found: std::collections::HashMap<String, Candidate> = Default::default();
    let blank = |record: String| Candidate {
        record,
        shared_names: 0,
        shared_numbers: 0,
    };
    for (record, n) in by_name {
        found
            .entry(record.clone())
            .or_insert_with(|| blank(record))
            .shared_names = n;
    }
    for (record, n) in by_number {
        found
            .entry(record.clone())
            .or_insert_with(|| blank(record))
            .shared_numbers = n;
    }
    let mut out: Vec<Candidate> = found.into_values().collect();
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
