//! A testimony: what a witness told, with consent, events and translations.

use serde::{Deserialize, Serialize};

use super::{check_attachments, language_code, non_empty, opt_non_empty, Attachment, Ctx};
use crate::error::{Error, Result};
use crate::model::{Kind, PartialDate, RecordId};

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

/// A transcript of a recording attached to the testimony: a derived item, beside the narrative
/// "as told" (which it never replaces), in the testimony's language, with its own translations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)]
pub struct Transcript {
    /// The recording it transcribes: an attachment of this testimony (its SHA-256).
    pub recording: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub translations: Vec<Translation>,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcripts: Vec<Transcript>,
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
    fn check_transcripts(&self) -> Result<()> {
        for (i, t) in self.transcripts.iter().enumerate() {
            if !self.attachments.iter().any(|a| a.blob == t.recording) {
                return Err(Error::invalid(
                    format!("transcripts[{i}].recording"),
                    "is not a recording attached to this testimony",
                ));
            }
            if self.transcripts[..i]
                .iter()
                .any(|o| o.recording == t.recording)
            {
                return Err(Error::invalid(
                    format!("transcripts[{i}].recording"),
                    "this recording already has a transcript",
                ));
            }
            non_empty(&format!("transcripts[{i}].text"), &t.text)?;
            for (j, tr) in t.translations.iter().enumerate() {
                language_code(
                    &format!("transcripts[{i}].translations[{j}].language"),
                    &tr.language,
                )?;
                non_empty(
                    &format!("transcripts[{i}].translations[{j}].text"),
                    &tr.text,
                )?;
            }
        }
        Ok(())
    }

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
        self.check_transcripts()?;
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
