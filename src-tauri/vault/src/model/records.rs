//! Person, Testimony, Attempt (renunciation attempt) and Case, as DATA-MODEL.md describes them.

use serde::{Deserialize, Serialize};

use super::{check_prc_resident_id, Kind, PartialDate, RecordId, Reference, Warning};
use crate::error::{Error, Result};

#[derive(Default)]
pub(crate) struct Ctx {
    pub references: Vec<Reference>,
    pub warnings: Vec<Warning>,
}

impl Ctx {
    fn refer(&mut self, field: String, id: RecordId, kind: Kind) {
        self.references.push(Reference { field, id, kind });
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn non_empty(field: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    Ok(())
}

fn opt_non_empty(field: &str, s: &Option<String>) -> Result<()> {
    match s {
        Some(s) => non_empty(field, s),
        None => Ok(()),
    }
}

fn language_code(field: &str, s: &str) -> Result<()> {
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

fn check_attachments(atts: &[Attachment]) -> Result<()> {
    for (i, a) in atts.iter().enumerate() {
        let ok = a.blob.len() == 64
            && a.blob
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !ok {
            return Err(Error::invalid(
                format!("attachments[{i}].blob"),
                "must be the SHA-256 of the file (64 lowercase hex digits); add files with `attach`",
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Person

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

// ---------------------------------------------------------------- Testimony

/// Scope of consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum ConsentScope {
    Internal,
    PartnerOrgs,
    PublishAnonymised,
    PublishNamed,
}

/// How consent was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum RecordedHow {
    SignedForm,
    Audio,
    Oral,
}

/// The witness's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Consent {
    pub given: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ConsentScope>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_how: Option<RecordedHow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_at: Option<PartialDate>,
}

/// A translation of the narrative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Translation {
    pub language: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated_by: Option<String>,
}

/// The witness's connection to what they tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Connection {
    FirstHand,
    Relative,
    Hearsay,
}

/// Type of event told in a testimony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum EventType {
    Detention,
    Camp,
    Prison,
    ForcedLabour,
    ForcedAbortion,
    Sterilisation,
    SurveillanceContact,
    PassportConfiscation,
    IntimidationAbroad,
    TravelBan,
    Disappearance,
    DeathInCustody,
    Other,
}

/// An event told in a testimony.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Event {
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub victims: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub perpetrators: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Sensitivity of a testimony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Sensitivity {
    Normal,
    High,
    Critical,
}

/// Review status of a testimony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum ReviewStatus {
    Draft,
    Reviewed,
    Verified,
}

/// One interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Testimony {
    pub witness: RecordId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interviewer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_at: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    pub narrative: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<Translation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<Connection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reliability_note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Event>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<Sensitivity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ReviewStatus>,
}

impl Testimony {
    pub(crate) fn check(&self, ctx: &mut Ctx) -> Result<()> {
        ctx.refer("witness".into(), self.witness, Kind::Person);
        non_empty("narrative", &self.narrative)?;
        for (i, l) in self.languages.iter().enumerate() {
            language_code(&format!("languages[{i}]"), l)?;
        }
        for (i, t) in self.translations.iter().enumerate() {
            language_code(&format!("translations[{i}].language"), &t.language)?;
            non_empty(&format!("translations[{i}].text"), &t.text)?;
        }
        for (i, e) in self.events.iter().enumerate() {
            if let (Some(f), Some(t)) = (&e.from, &e.to) {
                if let (Some(a), Some(b)) = (f.earliest(), t.earliest()) {
                    if b < a {
                        return Err(Error::invalid(
                            format!("events[{i}].to"),
                            format!("ends ({t}) before it starts ({f})"),
                        ));
                    }
                }
            }
            for (j, v) in e.victims.iter().enumerate() {
                ctx.refer(format!("events[{i}].victims[{j}]"), *v, Kind::Person);
            }
        }
        if matches!(
            self.status,
            Some(ReviewStatus::Reviewed | ReviewStatus::Verified)
        ) {
            let consented = self
                .consent
                .as_ref()
                .is_some_and(|c| c.given && c.withdrawn_at.is_none());
            if !consented {
                return Err(Error::invalid(
                    "status",
                    "a testimony without the witness's consent (consent.given = true, not withdrawn) cannot be marked reviewed or verified",
                ));
            }
        }
        opt_non_empty("summary", &self.summary)?;
        check_attachments(&self.attachments)
    }
}

// ---------------------------------------------------------------- Attempt

/// Where the request was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Channel {
    ConsulateAlmaty,
    EmbassyAstana,
    OtherConsulate,
    Mail,
    ViaLawyer,
    InChina,
}

/// What was requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Request {
    RenouncePrcCitizenship,
    CancelHukou,
    AnnulPrcPassport,
    Other,
}

/// What came of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum Outcome {
    Pending,
    NoResponse,
    Accepted,
    Refused,
    NotAcceptedForProcessing,
    MoreDocumentsRequested,
    ToldToReturnToChina,
    Other,
}

impl Outcome {
    /// Whether the applicant is still without an answer.
    pub fn is_waiting(self) -> bool {
        matches!(self, Outcome::Pending | Outcome::NoResponse)
    }
}

/// How the outcome was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum GivenHow {
    InWriting,
    Orally,
}

/// A citizenship-renunciation attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Attempt {
    pub person: RecordId,
    pub submitted_on: PartialDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents_submitted: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents_demanded: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_used: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_on: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_given: Option<GivenHow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_statement: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows_up: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consequences: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Attempt {
    pub(crate) fn check(&self, ctx: &mut Ctx) -> Result<()> {
        ctx.refer("person".into(), self.person, Kind::Person);
        if let Some(f) = self.follows_up {
            ctx.refer("follows_up".into(), f, Kind::Attempt);
        }
        if let Some(o) = &self.outcome_on {
            if let (Some(a), Some(b)) = (self.submitted_on.earliest(), o.earliest()) {
                if b < a && o.month.is_some() {
                    return Err(Error::invalid(
                        "outcome_on",
                        format!("is before submitted_on ({})", self.submitted_on),
                    ));
                }
            }
        }
        if self.outcome_on.is_some() && self.outcome.is_none() {
            return Err(Error::invalid(
                "outcome",
                "outcome_on is set, so say what the outcome was",
            ));
        }
        check_attachments(&self.attachments)
    }
}

// ---------------------------------------------------------------- Case

/// Status of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)]
pub enum CaseStatus {
    Open,
    Waiting,
    Closed,
}

/// A case grouping persons, testimonies and attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Case {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CaseStatus>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub testimonies: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<RecordId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Case {
    pub(crate) fn check(&self, ctx: &mut Ctx) -> Result<()> {
        non_empty("reference", &self.reference)?;
        for (i, p) in self.persons.iter().enumerate() {
            ctx.refer(format!("persons[{i}]"), *p, Kind::Person);
        }
        for (i, p) in self.testimonies.iter().enumerate() {
            ctx.refer(format!("testimonies[{i}]"), *p, Kind::Testimony);
        }
        for (i, p) in self.attempts.iter().enumerate() {
            ctx.refer(format!("attempts[{i}]"), *p, Kind::Attempt);
        }
        check_attachments(&self.attachments)
    }
}
