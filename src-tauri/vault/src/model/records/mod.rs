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
}

pub(super) fn check_attachments(atts: &[Attachment]) -> Result<()> {
    for (i, a) in atts.iter().enumerate() {
        let ok = a.blob.len() == 64
            && a.blob
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !ok {
            return Err(Error::invalid(
                format!("attachments[{i}].blob"),
                "must be the SHA-256 of the file (64 lowercase hex digits): files are attached, never written in by hand",
            ));
        }
    }
    Ok(())
}
