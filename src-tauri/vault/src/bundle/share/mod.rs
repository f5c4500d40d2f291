//! What goes to a partner organisation, decided before a byte is written (docs/design-notes.md
//! "Partner bundles"). The rules, in order:
//!
//! 1. The records considered are those chosen (a case stands for its people, testimonies and
//!    attempts; a person for their testimonies and attempts; a merged person for the person
//!    kept) plus every record sent to this partner before and not withdrawn: a bundle also
//!    brings the partner's copies up to date, and withdraws what may no longer be there.
//! 2. A testimony goes when its consent allows partners (given, not withdrawn, scope wider
//!    than `internal`), it has one current version, and it is not purged.
//! 3. A person goes when a testimony that goes names them (witness or victim); an attempt goes
//!    when its person goes. A case never goes: its title and notes are the organisation's.
//! 4. A person travels as a pseudonym when flagged `anonymise_in_exports_to_partners`, or when
//!    they are the witness of a testimony that goes with consent `publish-anonymised`: in the
//!    whole bundle, the strictest wins. What a record keeps is `crate::model::share`'s.
//! 5. Every id is the partner's own: derived from ours with a secret kept for this partner
//!    alone, so two partners cannot match their records by id, and a pseudonym's id differs
//!    from the id the same person had named.
//! 6. A record sent before that no longer goes (consent withdrawn, purged here, now to be
//!    anonymised) is withdrawn: a purge marker naming every revision and attachment sent of it.
//!
//! In phases: what is considered and what of it may go (`select`), the partner's ids (`ids`),
//! the partner's versions and the revisions and withdrawals that carry them (`versions`).

mod ids;
mod select;
mod versions;

use std::collections::BTreeSet;

use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Kind, RecordId};
use crate::revision::{self, Revision};
use crate::store::partners::{self, Sent};

/// Why a record chosen for a partner does not go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Withheld {
    /// A testimony without consent on record.
    NoConsent,
    /// Consent was not given.
    ConsentNotGiven,
    /// Consent was withdrawn.
    ConsentWithdrawn,
    /// Consent has no scope.
    ConsentWithoutScope,
    /// Consent is for this organisation only.
    ConsentInternal,
    /// A person or attempt that no testimony going with consent names.
    NoConsentingTestimony,
    /// A case: its records are considered one by one.
    CaseStaysHere,
    /// Purged here.
    Purged,
    /// It has conflicting versions.
    Conflict,
    /// A person who went to this partner by name and is now to be anonymised, and what
    /// names them: a pseudonym beside the withdrawn name would tie the two.
    AnonymisedAfterNamed,
    /// A testimony told to be published anonymised whose witness went to this partner by name.
    ToldAnonymouslyNamedHere,
}

impl Withheld {
    /// In words, for the command line.
    pub fn describe(self) -> &'static str {
        match self {
            Withheld::NoConsent => "no consent is recorded",
            Withheld::ConsentNotGiven => "the witness did not give consent",
            Withheld::ConsentWithdrawn => "consent was withdrawn",
            Withheld::ConsentWithoutScope => "the consent does not say with whom it may be shared",
            Withheld::ConsentInternal => "consent covers this organisation only",
            Withheld::NoConsentingTestimony => {
                "no testimony going with consent to share names this person"
            }
            Withheld::CaseStaysHere => {
                "a case's reference, title and notes stay here (its records were considered one by one)"
            }
            Withheld::Purged => "it was purged",
            Withheld::Conflict => "it has conflicting versions: resolve them first",
            Withheld::AnonymisedAfterNamed => {
                "to be anonymised, but this partner already had the name: nothing more of this person goes to it"
            }
            Withheld::ToldAnonymouslyNamedHere => {
                "told to be published anonymised, and its witness already went to this partner by name"
            }
        }
    }

    fn from_consent(reason: &str) -> Self {
        match reason {
            "consent withdrawn" => Withheld::ConsentWithdrawn,
            "consent not given" => Withheld::ConsentNotGiven,
            "consent has no scope" => Withheld::ConsentWithoutScope,
            "consent is for this organisation only" => Withheld::ConsentInternal,
            _ => Withheld::NoConsent,
        }
    }
}

/// How a record goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Going {
    /// With its names (contact removed).
    Named,
    /// As a pseudonym.
    Pseudonym,
    /// Already there as it is now: nothing to send.
    Unchanged,
}

/// One line of a partner preview.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewLine {
    /// Our record.
    pub record: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// How it goes (for records that go).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub going: Option<Going>,
    /// Why not (for records withheld or withdrawn).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Withheld>,
}

/// What a partner bundle would hold, and what it leaves out, before anything is written.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerPreview {
    /// The partner's label.
    pub partner: String,
    /// Records that go (or are there already, unchanged).
    pub going: Vec<PreviewLine>,
    /// Records chosen that do not go, with the reason.
    pub withheld: Vec<PreviewLine>,
    /// Records sent before that this bundle withdraws, with the reason.
    pub withdrawn: Vec<PreviewLine>,
    /// People whose contact details were left out.
    pub contact_removed: usize,
    /// Attachments that go.
    pub attachments: usize,
    /// Attachments of records that go, left out (they could identify someone who travels as a
    /// pseudonym).
    pub attachments_withheld: usize,
    /// A digest of all of the above: an export given it writes only what this preview said.
    pub digest: String,
}

impl PartnerPreview {
    /// Whether the bundle would carry anything new.
    pub fn has_news(&self) -> bool {
        !self.withdrawn.is_empty() || self.going.iter().any(|l| l.going != Some(Going::Unchanged))
    }
}

/// One revision a partner bundle carries, and what the vault remembers once it is written.
pub(crate) struct Outgoing {
    pub ours: RecordId,
    pub rev: Revision,
    pub sent: Sent,
}

/// A partner bundle, planned.
pub(crate) struct PartnerPlan {
    pub label: String,
    /// The partner's id here (kept across a removal).
    pub partner_id: String,
    pub recipient: String,
    pub preview: PartnerPreview,
    /// New revisions, then withdrawals.
    pub outgoing: Vec<Outgoing>,
    /// The partner's ids of the records chosen that go (the manifest's scope).
    pub scope: Option<Vec<RecordId>>,
}

fn line(
    record: RecordId,
    kind: Kind,
    going: Option<Going>,
    reason: Option<Withheld>,
) -> PreviewLine {
    PreviewLine {
        record,
        kind,
        going,
        reason,
    }
}

/// Plans a bundle to `partner` of `chosen` (every testimony, when `None`), made by `device`.
pub(crate) fn plan(
    conn: &Connection,
    partner: &str,
    chosen: Option<&[RecordId]>,
    device: &str,
) -> Result<PartnerPlan> {
    let row = partners::find(conn, partner)?.ok_or_else(|| {
        Error::NotFound(format!(
            "partner {partner}: add it with `kuager partners add`"
        ))
    })?;
    let derive = ids::Derive {
        secret: partners::secret(conn, &row.id)?,
    };
    let before = partners::sent(conn, &row.id)?;
    let chosen_all;
    let everything = chosen.is_none();
    let chosen = match chosen {
        Some(c) => c,
        None => {
            chosen_all = select::all_testimonies(conn)?;
            &chosen_all
        }
    };
    let sel = select::select(conn, chosen, &before)?;
    let map = derive.map(&sel, &before);
    let ids = ids::Resolving { conn, map: &map };
    let views = versions::views(&sel, &ids, &derive, &before)?;
    let mut out = versions::Out::default();
    let at = revision::now();
    out.revisions(views.list, &before, &map, device, &at)?;
    out.withdrawals(&before, &map, &sel.withheld, device, &at)?;
    let withheld = sel.withheld_lines(&out.withdrawn);
    let scope = (!everything).then(|| {
        let ids: BTreeSet<RecordId> = out.outgoing.iter().map(|o| o.rev.record).collect();
        ids.into_iter().collect()
    });
    let mut preview = PartnerPreview {
        partner: row.label.clone(),
        going: out.going.clone(),
        withheld,
        withdrawn: out.withdrawn.clone(),
        contact_removed: views.contact_removed,
        attachments: out.attachments.len(),
        attachments_withheld: views.attachments_withheld,
        digest: String::new(),
    };
    // What the preview says, and what each revision carries (not its time or id, which a
    // second plan makes anew).
    let mut said = serde_json::to_vec(&preview).map_err(|e| Error::Verify(e.to_string()))?;
    for o in &out.outgoing {
        said.extend_from_slice(o.rev.record.to_string().as_bytes());
        if let Some(d) = &o.rev.data {
            said.extend(revision::canonical_json(d)?);
        }
    }
    preview.digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&said));
    Ok(PartnerPlan {
        preview,
        label: row.label,
        partner_id: row.id,
        recipient: row.recipient,
        outgoing: out.outgoing,
        scope,
    })
}
