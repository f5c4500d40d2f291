//! The partner's versions of what goes, and the revisions that carry them: a new version
//! continues what the partner has; what no longer goes is withdrawn (rule 6, `super`).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ids::{generation, Derive, IdMap, Resolving};
use super::select::{parse_id, Selection};
use super::{line, Going, Outgoing, PreviewLine, Withheld};
use crate::error::{Error, Result};
use crate::model::share::{self, Ids};
use crate::model::{self, Kind, RecordId};
use crate::revision::{self, Revision, RevisionId};
use crate::store::partners::Sent;

fn value<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Verify(e.to_string()))
}

/// A purge marker for what was sent of `ours`: every revision and attachment.
fn withdrawal(ours: RecordId, s: &Sent, device: &str, at: &str) -> Result<Outgoing> {
    let parents: Vec<RevisionId> = s
        .revisions
        .last()
        .map(|h| h.parse())
        .transpose()?
        .into_iter()
        .collect();
    let data = serde_json::json!({
        revision::PURGE_KEY: { "revisions": s.revisions, "blobs": s.blobs }
    });
    let rev = Revision::new(
        parse_id(&s.out_record)?,
        s.kind.parse()?,
        parents,
        device.to_owned(),
        at.to_owned(),
        data,
    )?;
    let mut sent = s.clone();
    sent.withdrawn = true;
    Ok(Outgoing { ours, rev, sent })
}

/// The partner's versions of everything that goes: (our id, kind, data, as a pseudonym).
pub(super) struct Views {
    pub list: Vec<(RecordId, Kind, serde_json::Value, bool)>,
    /// People whose contact details were left out.
    pub contact_removed: usize,
    /// Attachments of records that go, left out.
    pub attachments_withheld: usize,
}

/// Each record that goes as the partner sees it (`crate::model::share`).
pub(super) fn views(
    sel: &Selection,
    ids: &Resolving<'_>,
    derive: &Derive,
    before: &BTreeMap<String, Sent>,
) -> Result<Views> {
    let mut v = Views {
        list: Vec::new(),
        contact_removed: 0,
        attachments_withheld: 0,
    };
    for (&id, p) in &sel.persons {
        let anon = sel.pseudonym.get(&id).copied().unwrap_or(true);
        let view = if anon {
            share::person_pseudonym(p, &derive.name(id, generation(before, id)))
        } else {
            share::person_named(p, ids, true)
        };
        v.contact_removed += usize::from(p.contact.is_some());
        v.attachments_withheld += p.attachments.len() - view.attachments.len();
        v.list.push((id, Kind::Person, value(&view)?, anon));
    }
    for (&id, t) in &sel.testimonies {
        // Its attachments (a recording, a scan) may show anyone it names: none go when
        // anyone it names goes as a pseudonym.
        let mut named = std::iter::once(&t.witness).chain(t.events.iter().flat_map(|e| &e.victims));
        let all_named = named.all(|p| !ids.anonymised(*p));
        let Some(view) = share::testimony(t, ids, all_named) else {
            continue;
        };
        v.attachments_withheld += t.attachments.len() - view.attachments.len();
        v.list.push((id, Kind::Testimony, value(&view)?, false));
    }
    for (&id, a) in &sel.attempts {
        let Some(view) = share::attempt(a, ids) else {
            continue;
        };
        v.attachments_withheld += a.attachments.len() - view.attachments.len();
        v.list.push((id, Kind::Attempt, value(&view)?, false));
    }
    Ok(v)
}

/// What a partner bundle carries, and what its preview says of it.
#[derive(Default)]
pub(super) struct Out {
    pub outgoing: Vec<Outgoing>,
    pub going: Vec<PreviewLine>,
    pub withdrawn: Vec<PreviewLine>,
    /// Attachments that go.
    pub attachments: BTreeSet<String>,
}

impl Out {
    /// A revision of each view the partner does not have as it is: continuing what was sent
    /// under the same id, or new (after withdrawing what was sent under another id).
    pub fn revisions(
        &mut self,
        views: Vec<(RecordId, Kind, serde_json::Value, bool)>,
        before: &BTreeMap<String, Sent>,
        map: &IdMap,
        device: &str,
        at: &str,
    ) -> Result<()> {
        for (id, kind, data, anon) in views {
            let out_id = map[&id].0;
            let digest = hex::encode(Sha256::digest(revision::canonical_json(&data)?));
            let blobs: Vec<String> = model::attachment_blobs(&data).map(str::to_owned).collect();
            let sent_before = before.get(&id.to_string()).filter(|s| !s.withdrawn);
            let prior = sent_before.filter(|s| s.out_record == out_id.to_string());
            if prior.is_some_and(|s| s.digest == digest) {
                self.going
                    .push(line(id, kind, Some(Going::Unchanged), None));
                continue;
            }
            if let (Some(old), None) = (sent_before, prior) {
                // Sent under another id (not expected: a person's form is kept, rule 4, and a
                // new id follows a withdrawal): withdrawn first all the same.
                self.outgoing.push(withdrawal(id, old, device, at)?);
            }
            self.attachments.extend(blobs.iter().cloned());
            let parents: Vec<RevisionId> = prior
                .and_then(|s| s.revisions.last())
                .map(|h| h.parse())
                .transpose()?
                .into_iter()
                .collect();
            let rev = Revision::new(
                out_id,
                kind,
                parents,
                device.to_owned(),
                at.to_owned(),
                data,
            )?;
            let mut sent = prior.cloned().unwrap_or(Sent {
                out_record: out_id.to_string(),
                kind: kind.as_str().to_owned(),
                revisions: vec![],
                blobs: vec![],
                digest: String::new(),
                withdrawn: false,
                generation: generation(before, id),
                pseudonym: false,
            });
            sent.pseudonym |= anon;
            sent.revisions.push(rev.id.to_string());
            for b in blobs {
                if !sent.blobs.contains(&b) {
                    sent.blobs.push(b);
                }
            }
            sent.digest = digest;
            let how = if anon { Going::Pseudonym } else { Going::Named };
            self.going.push(line(id, kind, Some(how), None));
            self.outgoing.push(Outgoing {
                ours: id,
                rev,
                sent,
            });
        }
        Ok(())
    }

    /// A withdrawal of each record sent before that does not go now.
    pub fn withdrawals(
        &mut self,
        before: &BTreeMap<String, Sent>,
        map: &IdMap,
        withheld: &BTreeMap<RecordId, Withheld>,
        device: &str,
        at: &str,
    ) -> Result<()> {
        for (id, s) in before.iter().filter(|(_, s)| !s.withdrawn) {
            let ours = parse_id(id)?;
            if map.contains_key(&ours) {
                continue;
            }
            let reason = withheld
                .get(&ours)
                .copied()
                .unwrap_or(Withheld::NoConsentingTestimony);
            self.withdrawn
                .push(line(ours, s.kind.parse()?, None, Some(reason)));
            self.outgoing.push(withdrawal(ours, s, device, at)?);
        }
        Ok(())
    }
}
