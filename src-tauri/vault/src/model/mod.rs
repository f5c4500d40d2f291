//! The records of docs/records.md: what a caseworker may write, and how it is checked.
//!
//! Input is JSON. Every record is deserialised into its typed struct (unknown fields are refused,
//! so a typo is an error, not silently lost data), then checked for what types cannot say
//! (partial dates, PRC resident ID check digits, consent before review). Errors name the field as
//! a JSON path (`names[0].script`). The stored form is the struct serialised back: canonical and
//! free of empty optional fields.

pub(crate) mod merge;
mod prc_id;
mod records;
pub mod regions;
pub(crate) mod share;
mod stored;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use prc_id::{check_prc_resident_id, PrcId};
pub use records::*;
pub use stored::{attachment_blobs, attachment_custody, references_in, search_terms, SearchTerms};

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

    /// An id made of 16 given bytes, shaped as a random UUID (version 4): a partner's ids,
    /// derived from ours (`crate::bundle::share`).
    pub(crate) fn from_random_bytes(b: [u8; 16]) -> Self {
        RecordId(uuid::Builder::from_random_bytes(b).into_uuid())
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

/// How a value of one of the records' enumerations is written in stored JSON
/// (`Outcome::NoResponse` → `no-response`), for a face to show or to key its own words on.
pub fn stored_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Refuses a record of `len` bytes of JSON when it is over [`MAX_RECORD_BYTES`].
pub(crate) fn check_record_size(len: usize) -> Result<()> {
    if len > MAX_RECORD_BYTES {
        return Err(Error::invalid(
            "",
            format!(
                "record is {len} bytes; the limit is {MAX_RECORD_BYTES} (attach long files instead of pasting them)"
            ),
        ));
    }
    Ok(())
}

fn from_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T> {
    parse(json)?.ok_or_else(ends_early)
}

/// The error for JSON that ends inside a record.
pub(crate) fn ends_early() -> Error {
    Error::invalid("", "the record ends before its JSON does")
}

/// Parses `json` as a `T`; `None` when the input ends inside the value (the first lines of a
/// pretty-printed object, say), an error naming the field when it is not a `T`.
fn parse<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<Option<T>> {
    check_record_size(json.len())?;
    let mut de = serde_json::Deserializer::from_slice(json);
    let v = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) if e.inner().is_eof() => return Ok(None),
        Err(e) => {
            let path = e.path().to_string();
            let field = if path == "." { String::new() } else { path };
            return Err(Error::invalid(field, json_error_message(e.inner())));
        }
    };
    de.end()
        .map_err(|_| Error::invalid("", "trailing characters after the JSON object"))?;
    Ok(Some(v))
}

/// serde_json's message without the " at line L column C" it appends: the column is noise for
/// one-line records, and the caller names the line itself.
pub(crate) fn json_error_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if e.line() == 0 {
        return msg;
    }
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    msg.strip_suffix(&suffix).map(str::to_owned).unwrap_or(msg)
}

/// A record of any kind, typed.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum Record {
    Person(Person),
    Testimony(Testimony),
    Attempt(Attempt),
    Case(Case),
}

impl Record {
    /// Parses a record of `kind` from JSON (types only; [`validate_record`] checks the rest).
    pub fn from_json(kind: Kind, json: &[u8]) -> Result<Record> {
        Ok(match kind {
            Kind::Person => Record::Person(from_json(json)?),
            Kind::Testimony => Record::Testimony(from_json(json)?),
            Kind::Attempt => Record::Attempt(from_json(json)?),
            Kind::Case => Record::Case(from_json(json)?),
        })
    }

    /// Like [`Record::from_json`]; `None` when the JSON ends inside the record (it goes on in
    /// the next line of the input).
    pub fn from_json_line(kind: Kind, json: &[u8]) -> Result<Option<Record>> {
        Ok(match kind {
            Kind::Person => parse(json)?.map(Record::Person),
            Kind::Testimony => parse(json)?.map(Record::Testimony),
            Kind::Attempt => parse(json)?.map(Record::Attempt),
            Kind::Case => parse(json)?.map(Record::Case),
        })
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        match self {
            Record::Person(_) => Kind::Person,
            Record::Testimony(_) => Kind::Testimony,
            Record::Attempt(_) => Kind::Attempt,
            Record::Case(_) => Kind::Case,
        }
    }

    /// Its attachments.
    pub fn attachments(&self) -> &[Attachment] {
        match self {
            Record::Person(r) => &r.attachments,
            Record::Testimony(r) => &r.attachments,
            Record::Attempt(r) => &r.attachments,
            Record::Case(r) => &r.attachments,
        }
    }

    /// Its attachments, to add one.
    pub fn attachments_mut(&mut self) -> &mut Vec<Attachment> {
        match self {
            Record::Person(r) => &mut r.attachments,
            Record::Testimony(r) => &mut r.attachments,
            Record::Attempt(r) => &mut r.attachments,
            Record::Case(r) => &mut r.attachments,
        }
    }

    fn check(&self, ctx: &mut records::Ctx) -> Result<()> {
        match self {
            Record::Person(r) => r.check(ctx),
            Record::Testimony(r) => r.check(ctx),
            Record::Attempt(r) => r.check(ctx),
            Record::Case(r) => r.check(ctx),
        }
    }

    fn to_value(&self) -> Result<serde_json::Value> {
        match self {
            Record::Person(r) => serde_json::to_value(r),
            Record::Testimony(r) => serde_json::to_value(r),
            Record::Attempt(r) => serde_json::to_value(r),
            Record::Case(r) => serde_json::to_value(r),
        }
        .map_err(|e| Error::invalid("", e.to_string()))
    }
}

/// Parses and validates one record of `kind` from JSON.
pub fn validate(kind: Kind, json: &[u8]) -> Result<Validated> {
    validate_record(Record::from_json(kind, json)?)
}

/// Like [`validate`], for a line of JSON Lines input: `None` when the JSON ends inside the
/// record (a pretty-printed object goes on in the next line).
pub fn validate_line(kind: Kind, json: &[u8]) -> Result<Option<Validated>> {
    Record::from_json_line(kind, json)?
        .map(validate_record)
        .transpose()
}

/// Checks a typed record for what its types cannot say, and makes its stored form.
pub fn validate_record(record: Record) -> Result<Validated> {
    let mut ctx = records::Ctx::default();
    record.check(&mut ctx)?;
    Ok(Validated {
        kind: record.kind(),
        data: record.to_value()?,
        references: ctx.references,
        warnings: ctx.warnings,
    })
}

/// Validates stored data of `kind` (a `serde_json::Value`), e.g. before adding an attachment.
pub fn validate_value(kind: Kind, data: &serde_json::Value) -> Result<Validated> {
    let bytes = serde_json::to_vec(data).map_err(|e| Error::invalid("", e.to_string()))?;
    validate(kind, &bytes)
}
