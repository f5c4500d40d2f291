//! A person: witness, victim, relative, official — names in several scripts, documents, status.

use serde::{Deserialize, Serialize};

use super::{check_attachments, is_false, non_empty, Attachment, Ctx};
use crate::error::{Error, Result};
use crate::model::{check_prc_resident_id, Kind, PartialDate, RecordId, Warning};

/// Most people merged into one (far more than duplicates of one witness; a bound on the work
/// a hostile record can ask for).
pub const MAX_MERGED: usize = 1_000;

/// Script of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Script {
    Cyrl,
    Latn,
    Hans,
    Arab,
    Other,
}

/// Kind of a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum NameKind {
    Legal,
    Alias,
    Former,
    ChinesePassport,
    Transliteration,
}

/// Parts of a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct NameParts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patronymic: Option<String>,
}

/// One name of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Name {
    /// The name as written.
    pub value: String,
    /// Its script (guessed from the letters when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<Script>,
    /// Legal, alias, former, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NameKind>,
    /// Surname, given name, patronymic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<NameParts>,
}

/// Gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Gender {
    Female,
    Male,
    Other,
    Unknown,
}

/// A place: free text, optionally structured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Place {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A citizenship held now or before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Citizenship {
    /// ISO 3166 alpha-2 (`KZ`, `CN`).
    pub country: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired_on: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_on: Option<PartialDate>,
}

/// Type of identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum DocumentType {
    KzIdCard,
    KzPassport,
    KzIin,
    KandasCertificate,
    KzResidencePermit,
    PrcPassport,
    PrcResidentId,
    Hukou,
    Other,
}

/// Who has the document now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Custody {
    Held,
    Confiscated,
    Surrendered,
    Lost,
}

/// An identity document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Document {
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    pub number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<Custody>,
}

/// A messenger handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Messenger {
    pub app: String,
    pub handle: String,
}

/// Contact details: high sensitivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messengers: Vec<Messenger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Relation between two persons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Relation {
    Spouse,
    Child,
    Parent,
    Sibling,
    Other,
}

/// A relationship to another person record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Relationship {
    pub person: RecordId,
    pub relation: Relation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a person is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum StatusValue {
    Detained,
    Camp,
    Prison,
    ForcedLabour,
    Released,
    Abroad,
    Deceased,
    Unknown,
}

/// A person's status, with date and source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PersonStatus {
    pub value: StatusValue,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A cross-reference to another database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct CrossReference {
    /// e.g. `xinjiang-victims-db`, `ngo-video`.
    pub system: String,
    pub id: String,
}

/// A person: witness, victim, relative, official.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Person {
    pub names: Vec<Name>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_birth: Option<Place>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethnicity: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub citizenships: Vec<Citizenship>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// SHA-256 of an attachment of this record that is the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<PersonStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cross_references: Vec<CrossReference>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub anonymise_in_exports_to_partners: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub do_not_contact: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// People merged into this one (docs/design-notes.md "Duplicate people"): their ids stay
    /// valid and lead here; their names, documents and contacts were copied in by the merge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<RecordId>,
    /// The person this one was merged into: opening this id opens that person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<RecordId>,
}

impl Person {
    pub(crate) fn check(&self, ctx: &mut Ctx) -> Result<()> {
        if self.names.is_empty() {
            return Err(Error::invalid("names", "a person needs at least one name"));
        }
        for (i, n) in self.names.iter().enumerate() {
            non_empty(&format!("names[{i}].value"), &n.value)?;
        }
        for (i, c) in self.citizenships.iter().enumerate() {
            let ok = c.country.len() == 2 && c.country.bytes().all(|b| b.is_ascii_uppercase());
            if !ok {
                return Err(Error::invalid(
                    format!("citizenships[{i}].country"),
                    format!(
                        "{:?} is not a country code: use ISO 3166 codes such as KZ, CN",
                        c.country
                    ),
                ));
            }
        }
        for (i, d) in self.documents.iter().enumerate() {
            let field = format!("documents[{i}].number");
            non_empty(&field, &d.number)?;
            if d.doc_type == DocumentType::PrcResidentId {
                let id = check_prc_resident_id(&d.number).map_err(|m| Error::invalid(&field, m))?;
                if let Some(dob) = &self.date_of_birth {
                    let (y, m, dd) = id.birth;
                    if !dob.compatible_with(y, m, dd) {
                        // A document may carry a wrong date (it is evidence as it is): warn.
                        ctx.warnings.push(Warning {
                            field,
                            message: format!(
                                "the ID encodes birth date {y:04}-{m:02}-{dd:02}, which differs from date_of_birth {dob}"
                            ),
                        });
                    }
                }
            }
        }
        for (i, r) in self.relationships.iter().enumerate() {
            ctx.refer(format!("relationships[{i}].person"), r.person, Kind::Person);
        }
        if self.merged.len() > MAX_MERGED {
            return Err(Error::invalid(
                "merged",
                format!("more than {MAX_MERGED} people merged into one"),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, m) in self.merged.iter().enumerate() {
            if !seen.insert(m) {
                return Err(Error::invalid(
                    format!("merged[{i}]"),
                    format!("{m} is listed twice"),
                ));
            }
            ctx.refer(format!("merged[{i}]"), *m, Kind::Person);
        }
        if let Some(m) = self.merged_into {
            if self.merged.contains(&m) {
                return Err(Error::invalid(
                    "merged_into",
                    format!("{m} cannot both be merged into this person and hold it"),
                ));
            }
            ctx.refer("merged_into".to_owned(), m, Kind::Person);
        }
        check_attachments(&self.attachments)?;
        if let Some(p) = &self.photo {
            if !self.attachments.iter().any(|a| &a.blob == p) {
                return Err(Error::invalid(
                    "photo",
                    "must be the blob of one of this person's attachments",
                ));
            }
        }
        Ok(())
    }
}
