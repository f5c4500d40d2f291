//! Person, Testimony, Attempt (renunciation attempt) and Case, as docs/records.md describes
//! them: one file per kind, the checks they share here.

mod attempt;
mod case;
mod person;
mod testimony;

pub use attempt::*;
pub use case::*;
pub use person::*;
pub use testimony::*;

use serde::{Deserialize, Serialize};

use super::{Kind, RecordId, Reference, Warning};
use crate::error::{Error, Result};

#[derive(Default)]
pub(crate) struct Ctx {
    pub references: Vec<Reference>,
    pub warnings: Vec<Warning>,
}

impl Ctx {
    pub(super) fn refer(&mut self, field: String, id: RecordId, kind: Kind) {
        self.references.push(Reference { field, id, kind });
    }
}

pub(super) fn is_false(b: &bool) -> bool {
    !*b
}

pub(super) fn non_empty(field: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(())
}

pub(super) fn opt_non_empty(field: &str, s: &Option<String>) -> Result<()> {
    match s {
        Some(s) => non_empty(field, s),
        None => Ok(()),
    }
}

pub(super) fn language_code(field: &str, s: &str) -> Result<()> {
    let ok = (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase());
    if !ok {
        return Err(Error::invalid(
            field,
            format!("{s:?} is not a language code: use ISO 639 codes such as kk, ug, ru, zh, en"),
        ));
    }
    Ok(())
}

/// An attachment: an encrypted blob in the vault, named by the SHA-256 of its plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// SHA-256 of the plaintext, 64 lowercase hex digits.
    pub blob: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type, e.g. `audio/ogg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The original file name (kept inside the encrypted vault only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Where the original came from: set by the vault when the file is attached or recorded,
    /// carried unchanged by every later version (docs/records.md "Custody").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<Custody>,
}

/// How an original came into the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capture {
    /// Recorded in Kuager, straight into the vault.
    Recorded,
    /// A file attached from the computer (its bytes kept exactly as they were).
    Attached,
    /// A copy made from another attachment (redacted, converted): `derived_from` names it.
    Derived,
}

/// The custody facts of an attachment (Berkeley Protocol: authentic, identifiable,
/// persistent). The fingerprint is the attachment's `blob`, the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custody {
    /// How it came in.
    pub how: Capture,
    /// When it was captured or attached (RFC 3339 UTC).
    pub at: String,
    /// The device id of the vault that captured or attached it.
    pub device: String,
    /// The attachment (its SHA-256) this one was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived_from: Option<String>,
    /// Length of a recording, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The input a recording was made from (a microphone's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// Markers set while recording.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub markers: Vec<Marker>,
}

/// A moment marked while recording, with an optional note ("names the facility").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Marker {
    /// Milliseconds from the start of the recording.
    pub at_ms: u64,
    /// The note, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The longest marker note, in characters.
pub const MAX_MARKER_NOTE: usize = 200;
/// The most markers one recording keeps.
pub const MAX_MARKERS: usize = 2_000;

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(super) fn check_attachments(atts: &[Attachment]) -> Result<()> {
    for (i, a) in atts.iter().enumerate() {
        if !is_sha256(&a.blob) {
            return Err(Error::invalid(
                format!("attachments[{i}].blob"),
                "must be the SHA-256 of the file (64 lowercase hex digits): files are attached, never written in by hand",
            ));
        }
        if let Some(c) = &a.custody {
            check_custody(&format!("attachments[{i}].custody"), c)?;
        }
    }
    Ok(())
}

fn check_custody(field: &str, c: &Custody) -> Result<()> {
    if time::OffsetDateTime::parse(&c.at, &time::format_description::well_known::Rfc3339).is_err() {
        return Err(Error::invalid(
            format!("{field}.at"),
            "must be a time in RFC 3339 (set by the vault when the file comes in)",
        ));
    }
    if c.device.len() > 64 || c.device.trim().is_empty() {
        return Err(Error::invalid(
            format!("{field}.device"),
            "must be a device id",
        ));
    }
    match (&c.how, &c.derived_from) {
        (Capture::Derived, Some(d)) if is_sha256(d) => {}
        (Capture::Derived, _) => {
            return Err(Error::invalid(
                format!("{field}.derived_from"),
                "a derived copy must name its original by its SHA-256",
            ))
        }
        (_, Some(_)) => {
            return Err(Error::invalid(
                format!("{field}.derived_from"),
                "only a derived copy names an original",
            ))
        }
        _ => {}
    }
    if let Some(i) = &c.input {
        if i.chars().count() > MAX_MARKER_NOTE {
            return Err(Error::invalid(format!("{field}.input"), "is too long"));
        }
    }
    if c.markers.len() > MAX_MARKERS {
        return Err(Error::invalid(
            format!("{field}.markers"),
            format!("a recording keeps at most {MAX_MARKERS} markers"),
        ));
    }
    let mut last = 0;
    for (j, m) in c.markers.iter().enumerate() {
        if m.at_ms < last || c.duration_ms.is_some_and(|d| m.at_ms > d) {
            return Err(Error::invalid(
                format!("{field}.markers[{j}].at_ms"),
                "markers must be in order and inside the recording",
            ));
        }
        last = m.at_ms;
        if m.note
            .as_ref()
            .is_some_and(|n| n.chars().count() > MAX_MARKER_NOTE)
        {
            return Err(Error::invalid(
                format!("{field}.markers[{j}].note"),
                format!("is longer than {MAX_MARKER_NOTE} characters"),
            ));
        }
    }
    Ok(())
}
