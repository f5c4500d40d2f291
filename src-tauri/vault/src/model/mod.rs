//! The records of DATA-MODEL.md: what a caseworker may write, and how it is checked.
//!
//! Input is JSON. Every record is deserialised into its typed struct (unknown fields are refused,
//! so a typo is an error, not silently lost data), then checked for what types cannot say
//! (partial dates, PRC resident ID check digits, consent before review). Errors name the field as
//! a JSON path (`names[0].script`). The stored form is the struct serialised back: canonical and
//! free of empty optional fields.

mod prc_id;
mod records;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use prc_id::{check_prc_resident_id, PrcId};
pub use records::*;

/// Largest record we accept, as JSON (a long narrative with translations fits many times over).
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// The kinds of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A witness, victim, relative or official.
    Person,
    /// One interview.
    Testimony,
    /// A citizenship-renunciation attempt.
    Attempt,
    /// A case grouping the others.
    Case,
}

impl Kind {
    /// All kinds, in display order.
    pub const ALL: [Kind; 4] = [Kind::Person, Kind::Testimony, Kind::Attempt, Kind::Case];

    /// The lowercase name used in JSON, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Testimony => "testimony",
            Kind::Attempt => "attempt",
            Kind::Case => "case",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "person" | "people" | "persons" => Ok(Kind::Person),
            "testimony" | "testimonies" => Ok(Kind::Testimony),
            "attempt" | "attempts" => Ok(Kind::Attempt),
            "case" | "cases" => Ok(Kind::Case),
            other => Err(Error::invalid(
                "kind",
                format!("unknown kind {other:?}: use person, testimony, attempt or case"),
            )),
        }
    }
}

/// A record id: a UUID (we make v7, so ids sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RecordId(uuid::Uuid);

impl RecordId {
    /// A fresh id.
    pub fn new() -> Self {
        RecordId(uuid::Uuid::now_v7())
    }
}

impl Default for RecordId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl FromStr for RecordId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        uuid::Uuid::try_parse(s.trim())
            .map(RecordId)
            .map_err(|_| Error::BadId(s.chars().take(80).collect()))
    }
}

impl TryFrom<String> for RecordId {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
            .map_err(|_| format!("{s:?} is not a record id (expected a UUID such as 0192c1e4-7b3a-7c2e-9f00-4a1b2c3d4e5f)"))
    }
}

impl From<RecordId> for String {
    fn from(r: RecordId) -> String {
        r.to_string()
    }
}

/// A date that may be partial (`2019`, `2019-10`, `2019-10-03`) and approximate (a trailing `~`,
/// as in ISO 8601-2 / EDTF: `2019-10~` = "around October 2019").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PartialDate {
    /// Year.
    pub year: u16,
    /// Month (1–12), if known.
    pub month: Option<u8>,
    /// Day of month, if known.
    pub day: Option<u8>,
    /// The witness was not sure.
    pub approximate: bool,
}

impl PartialDate {
    /// Whether `other` could be the same day (equal where both are known).
    pub fn compatible_with(&self, y: u16, m: u8, d: u8) -> bool {
        self.year == y && self.month.is_none_or(|mm| mm == m) && self.day.is_none_or(|dd| dd == d)
    }

    /// The first day this date could be, as a `time::Date`.
    pub fn earliest(&self) -> Option<time::Date> {
        let m = time::Month::try_from(self.month.unwrap_or(1)).ok()?;
        time::Date::from_calendar_date(self.year as i32, m, self.day.unwrap_or(1)).ok()
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        if self.approximate {
            f.write_str("~")?;
        }
        Ok(())
    }
}

impl FromStr for PartialDate {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || {
            format!("{s:?} is not a date: write 2019, 2019-10 or 2019-10-03 (add ~ if approximate: 2019-10~)")
        };
        let (body, approximate) = match s.strip_suffix('~') {
            Some(b) => (b, true),
            None => (s, false),
        };
        let parts: Vec<&str> = body.split('-').collect();
        let num = |p: &str, len: usize| -> std::result::Result<u16, String> {
            if p.len() == len && p.bytes().all(|b| b.is_ascii_digit()) {
                p.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        if parts.is_empty() || parts.len() > 3 {
            return Err(bad());
        }
        let year = num(parts[0], 4)?;
        if !(1850..=2200).contains(&year) {
            return Err(format!("{s:?}: year {year} is out of range (1850–2200)"));
        }
        let month = parts
            .get(1)
            .map(|p| num(p, 2))
            .transpose()?
            .map(|m| m as u8);
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(format!("{s:?}: month {m} does not exist"));
            }
        }
        let day = parts
            .get(2)
            .map(|p| num(p, 2))
            .transpose()?
            .map(|d| d as u8);
        if let (Some(m), Some(d)) = (month, day) {
            let month = time::Month::try_from(m).map_err(|_| bad())?;
            if d == 0 || d > month.length(year as i32) {
                return Err(format!("{s:?}: there is no day {d} in that month"));
            }
        }
        Ok(PartialDate {
            year,
            month,
            day,
            approximate,
        })
    }
}

impl TryFrom<String> for PartialDate {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<PartialDate> for String {
    fn from(d: PartialDate) -> String {
        d.to_string()
    }
}

/// A reference from one record to another, found while validating; the store checks it exists
/// and has the right kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Field path, for the error message.
    pub field: String,
    /// The record referred to.
    pub id: RecordId,
    /// The kind it must have.
    pub kind: Kind,
}

/// Something worth telling the user that does not stop the save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Field path.
    pub field: String,
    /// What looks wrong.
    pub message: String,
}

/// A validated record, ready to store.
#[derive(Debug, Clone)]
pub struct Validated {
    /// The kind.
    pub kind: Kind,
    /// The canonical data (the typed struct serialised back).
    pub data: serde_json::Value,
    /// Other records it refers to.
    pub references: Vec<Reference>,
    /// Non-blocking findings.
    pub warnings: Vec<Warning>,
}

fn from_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    if json.len() > MAX_RECORD_BYTES {
        return Err(Error::invalid(
            "",
            format!(
                "record is {} bytes; the limit is {} (split long attachments out with `attach`)",
                json.len(),
                MAX_RECORD_BYTES
            ),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(json);
    let v = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let msg = e.inner().to_string();
        // serde_json appends " at line 1 column 57"; the column is noise for one-line records.
        let msg = match msg.rfind(" at line ") {
            Some(i) => msg[..i].to_owned(),
            None => msg,
        };
        Error::invalid(field, msg)
    })?;
    de.end()
        .map_err(|_| Error::invalid("", "trailing characters after the JSON object"))?;
    Ok(v)
}

/// The records a stored record of `kind` refers to (the same fields [`validate`] checks:
/// relatives, witness, victims, person, follows_up, a case's members), read from its JSON
/// without validating it again. Used to keep the vault's index of references.
pub fn references_in(kind: Kind, d: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut one = |v: Option<&serde_json::Value>| {
        if let Some(s) = v.and_then(|v| v.as_str()) {
            out.push(s.to_owned());
        }
    };
    let list = |k: &str| -> Vec<&serde_json::Value> {
        d.get(k)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    };
    match kind {
        Kind::Person => {
            for r in list("relationships") {
                one(r.get("person"));
            }
        }
        Kind::Testimony => {
            one(d.get("witness"));
            for e in list("events") {
                for v in e
                    .get("victims")
                    .and_then(|v| v.as_array())
                    .into_iter()
                    .flatten()
                {
                    one(Some(v));
                }
            }
        }
        Kind::Attempt => {
            one(d.get("person"));
            one(d.get("follows_up"));
        }
        Kind::Case => {
            for k in ["persons", "testimonies", "attempts"] {
                for v in list(k) {
                    one(Some(v));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Parses and validates one record of `kind` from JSON.
pub fn validate(kind: Kind, json: &[u8]) -> Result<Validated> {
    let mut ctx = records::Ctx::default();
    let data = match kind {
        Kind::Person => {
            let r: Person = from_json(json)?;
            r.check(&mut ctx)?;
            serde_json::to_value(&r)
        }
        Kind::Testimony => {
            let r: Testimony = from_json(json)?;
            r.check(&mut ctx)?;
            serde_json::to_value(&r)
        }
        Kind::Attempt => {
            let r: Attempt = from_json(json)?;
            r.check(&mut ctx)?;
            serde_json::to_value(&r)
        }
        Kind::Case => {
            let r: Case = from_json(json)?;
            r.check(&mut ctx)?;
            serde_json::to_value(&r)
        }
    }
    .map_err(|e| Error::invalid("", e.to_string()))?;
    Ok(Validated {
        kind,
        data,
        references: ctx.references,
        warnings: ctx.warnings,
    })
}

/// Validates stored data of `kind` (a `serde_json::Value`), e.g. before adding an attachment.
pub fn validate_value(kind: Kind, data: &serde_json::Value) -> Result<Validated> {
    let bytes = serde_json::to_vec(data).map_err(|e| Error::invalid("", e.to_string()))?;
    validate(kind, &bytes)
}
