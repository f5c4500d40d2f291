//! Partner organisations (another NGO, a lawyer, a UN mechanism) and the bundles made for them
//! (docs/design-notes.md "Partner bundles"): what goes is decided by each testimony's consent
//! and each person's anonymisation flag (`crate::bundle::share`), shown before anything is
//! written, and remembered per partner so that a later bundle updates or withdraws what an
//! earlier one sent.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Serialize;

use super::{Confirmed, Vault};
use crate::bundle::share::{self, PartnerPreview};
use crate::bundle::{self, BundleLimits, ExportOptions, ExportReport, ExportScope, Recipient};
use crate::error::{Error, Result};
use crate::model::RecordId;
use crate::store::partners;

/// A partner organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    /// The name it goes by here ("UN WGEID", "Lawyer Seitkali").
    pub label: String,
    /// Its public key: what its bundles are encrypted to.
    pub recipient: String,
    /// When it was added.
    pub added_at: String,
}

/// A bundle to a partner: for whom, of what, where.
#[derive(Debug)]
pub struct PartnerExport {
    /// The partner's label (or key).
    pub partner: String,
    /// The records chosen (a case stands for its records, a person for their testimonies and
    /// attempts); `None` for every testimony whose consent allows it.
    pub records: Option<Vec<RecordId>>,
    /// A folder (the file gets its standard name) or a file path.
    pub output: PathBuf,
    /// ASCII armor instead of binary age.
    pub armor: bool,
    /// Set (from another thread) to stop: nothing is written or remembered.
    pub cancel: Option<Arc<AtomicBool>>,
    /// What one bundle may hold.
    pub limits: BundleLimits,
    /// The digest of the preview the user saw ([`PartnerPreview::digest`]): refused when what
    /// would go has changed since. `None`: no preview was shown (the command line's
    /// `--preview` is a separate run; it names what went on standard error).
    pub previewed: Option<String>,
}

/// Longest partner label.
const MAX_LABEL: usize = 100;

impl Vault {
    /// Adds a partner organisation: a new way out of the vault, so after the passphrase was
    /// typed again. A vault that follows an organisation profile (a caseworker's) has none:
    /// partner bundles are the coordinators' to make.
    pub fn add_partner(
        &mut self,
        recipient: &Recipient,
        label: &str,
        _confirmed: Confirmed,
    ) -> Result<Partner> {
        let label = label.trim();
        if label.is_empty()
            || label.chars().count() > MAX_LABEL
            || label
                .chars()
                .any(|c| c.is_control() || crate::profile::is_invisible(c))
        {
            return Err(Error::invalid(
                "label",
                format!("a partner's label is one line of 1 to {MAX_LABEL} characters"),
            ));
        }
        self.not_a_caseworkers_vault()?;
        let key = recipient.to_string();
        let conn = &self.o()?.conn;
        for (taken, what) in [(label, "label"), (key.as_str(), "key")] {
            if let Some(p) = partners::find(conn, taken)? {
                return Err(Error::invalid(
                    "partner",
                    format!("the partner {:?} already has this {what}", p.label),
                ));
            }
        }
        self.audited(
            |c| partners::add(c, label, &key),
            "partner_added",
            serde_json::json!({ "partner": label, "recipient": key }),
        )?;
        self.partner(label)
    }

    /// Refused in a vault that follows an organisation profile (a caseworker's): partner
    /// bundles are the coordinators' to make, even with a partner added before the profile.
    fn not_a_caseworkers_vault(&self) -> Result<()> {
        match self.loaded_profile()? {
            Some(p) => Err(Error::invalid(
                "partner",
                format!(
                    "this vault follows the profile of {}: bundles to partner organisations are made by its coordinators",
                    p.profile.organisation
                ),
            )),
            None => Ok(()),
        }
    }

    /// The partner organisations, by label.
    pub fn partners(&self) -> Result<Vec<Partner>> {
        Ok(partners::all(&self.o()?.conn)?
            .into_iter()
            .map(|p| Partner {
                label: p.label,
                recipient: p.recipient,
                added_at: p.added_at,
            })
            .collect())
    }

    fn partner(&self, label_or_key: &str) -> Result<Partner> {
        let p = partners::find(&self.o()?.conn, label_or_key.trim())?
            .ok_or_else(|| Error::NotFound(format!("partner {label_or_key}")))?;
        Ok(Partner {
            label: p.label,
            recipient: p.recipient,
            added_at: p.added_at,
        })
    }

    /// Removes a partner, by label or key, after the passphrase was typed again. Its secret and
    /// what was sent to it are kept: added again with the same key, it gets the same ids and
    /// pseudonyms back, and what was sent before can still be withdrawn.
    pub fn remove_partner(&mut self, label_or_key: &str, _confirmed: Confirmed) -> Result<Partner> {
        let p = self.partner(label_or_key)?;
        let row = partners::find(&self.o()?.conn, &p.recipient)?
            .ok_or_else(|| Error::NotFound(format!("partner {label_or_key}")))?;
        self.audited(
            |c| partners::remove(c, &row.id),
            "partner_removed",
            serde_json::json!({ "partner": p.label, "recipient": p.recipient }),
        )?;
        Ok(p)
    }

    /// What a bundle to `partner` of `records` would hold and leave out, and why; writes
    /// nothing.
    pub fn partner_preview(
        &self,
        partner: &str,
        records: Option<&[RecordId]>,
    ) -> Result<PartnerPreview> {
        self.not_a_caseworkers_vault()?;
        let o = self.o()?;
        Ok(share::plan(&o.conn, partner.trim(), records, &o.device)?.preview)
    }

    /// Writes a bundle to a partner: what [`Vault::partner_preview`] says, encrypted to the
    /// partner alone, signed by this device; then remembers what the partner has and records
    /// it in the audit log. Refused when nothing new would go.
    pub fn export_to_partner(
        &mut self,
        job: &PartnerExport,
        progress: &mut dyn FnMut(u64),
    ) -> Result<(ExportReport, PartnerPreview)> {
        self.not_a_caseworkers_vault()?;
        let o = self.o()?;
        let plan = share::plan(
            &o.conn,
            job.partner.trim(),
            job.records.as_deref(),
            &o.device,
        )?;
        if job
            .previewed
            .as_ref()
            .is_some_and(|d| *d != plan.preview.digest)
        {
            return Err(Error::invalid(
                "partner",
                "what would go has changed since the preview (a record was saved or imported meanwhile): look at the preview again",
            ));
        }
        if !plan.preview.has_news() {
            return Err(Error::invalid(
                "partner",
                format!(
                    "nothing new to send to {}: every record chosen is withheld ({}) or already there as it is",
                    plan.preview.partner,
                    plan.preview.withheld.len()
                ),
            ));
        }
        let opts = ExportOptions {
            scope: ExportScope::All,
            extra_recipients: vec![],
            confirmed: None,
            output: job.output.clone(),
            armor: job.armor,
            passphrase: None,
            cancel: job.cancel.clone(),
            limits: job.limits,
        };
        let report =
            bundle::export::export(&o.conn, &o.secrets, &self.dir, &opts, Some(&plan), progress)?;
        Ok((report, plan.preview))
    }
}
