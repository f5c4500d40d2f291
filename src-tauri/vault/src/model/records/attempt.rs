//! A renunciation attempt: one request to PRC authorities to cancel a citizenship, and its outcome.

use serde::{Deserialize, Serialize};

use super::{check_attachments, Attachment, Ctx};
use crate::error::{Error, Result};
use crate::model::{Kind, PartialDate, RecordId};

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
