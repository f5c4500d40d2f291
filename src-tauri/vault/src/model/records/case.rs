//! A case: a file grouping people, testimonies and attempts under a reference.

use serde::{Deserialize, Serialize};

use super::{check_attachments, non_empty, Attachment, Ctx};
use crate::error::Result;
use crate::model::{Kind, RecordId};

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
