//! Duplicate people made one, and apart again (docs/design-notes.md "Duplicate people"): a
//! merge is two revisions in one transaction (the survivor takes in the other's data and lists
//! its id in `merged`; the absorbed person keeps its data and says `merged_into`), an undo two
//! more. Nothing that refers to either person is rewritten: reading follows the merge
//! (`crate::store::merges`).

use rusqlite::Connection;

use super::records::{edit_base, insert_revision_of, live_data};
use super::{MergeGroup, MergeSaved, MergedPerson, Saved, Vault};
use crate::error::{Error, Result};
use crate::model::{self, merge, Kind, RecordId};
use crate::revision::Revision;
use crate::store::{self, audit, merges, revisions};
use crate::summary::Summarizer;

/// The one current version of a person, or why it cannot take part in a merge.
fn person_head(c: &Connection, id: RecordId, role: &str) -> Result<(Revision, serde_json::Value)> {
    if store::record_kind(c, id)? != Kind::Person {
        return Err(Error::invalid(role, format!("{id} is not a person")));
    }
    let (_, head) = edit_base(c, id, None)?;
    let data = live_data(&head, "this person was purged")?;
    Ok((head, data))
}

/// Saves `data` as the next version of person `id` after `base`, validated like any save.
fn save(
    c: &Connection,
    device: &str,
    id: RecordId,
    base: Revision,
    data: &serde_json::Value,
) -> Result<Saved> {
    let v = model::validate(Kind::Person, data.to_string().as_bytes())?;
    insert_revision_of(c, device, id, base, v)
}

/// The audit event of a merge or an undo: both people and the versions written.
fn audit_pair(c: &Connection, device: &str, event: &str, saved: &MergeSaved) -> Result<()> {
    audit::append(
        c,
        device,
        &crate::revision::now(),
        event,
        serde_json::json!({
            "survivor": saved.survivor.record,
            "absorbed": saved.absorbed.record,
            "revisions": [saved.survivor.revision, saved.absorbed.revision],
        }),
    )
}

/// The survivor's version the merge of `absorbed` wrote, and the one it was written after:
/// back from `head` through versions that list `absorbed` (preferring, where versions were
/// reconciled, the parent that lists it too), to the first whose parents do not.
fn merge_point(
    c: &Connection,
    head: Revision,
    absorbed: &str,
) -> Result<(serde_json::Value, serde_json::Value)> {
    let mut at = head;
    // Each step goes one version back; a record has fewer versions than this.
    for _ in 0..100_000 {
        let data = live_data(&at, "this person was purged")?;
        let mut holding = None;
        let mut other = None;
        for p in &at.parents {
            let parent = revisions::by_id(c, p)?;
            match parent.data.as_ref() {
                Some(d) if merge::holds(d, absorbed) => holding = holding.or(Some(parent)),
                Some(d) => other = other.or(Some(d.clone())),
                None => {}
            }
        }
        match (holding, other) {
            (Some(p), _) => at = p,
            (None, Some(before)) => return Ok((data, before)),
            // Written elsewhere with the merge already in it: nothing to take back out.
            (None, None) => {
                let mut before = data.clone();
                if let Some(o) = before.as_object_mut() {
                    o.remove("merged");
                }
                return Ok((data, before));
            }
        }
    }
    Err(Error::Verify(format!(
        "the history of {} does not end",
        at.record
    )))
}

/// `data` with the current data of everyone still merged into `survivor` (but `leaving`)
/// merged in again: an undo takes out what one merge brought, and a spelling or a protection
/// flag that another merged person also brought stays.
fn with_remaining(
    c: &Connection,
    survivor: &str,
    leaving: &str,
    mut data: serde_json::Value,
) -> Result<serde_json::Value> {
    for m in merges::group(c, survivor)?.into_iter().skip(1) {
        if m == leaving || merges::into(c, &m)?.as_deref() != Some(survivor) {
            continue;
        }
        if let Some(d) = store::heads::of(c, m.parse()?)?
            .pop()
            .and_then(|h| h.data)
            .filter(|d| !crate::revision::is_purge_marker(d))
        {
            data = merge::merged_person(&data, &d, survivor, &m);
        }
    }
    Ok(data)
}

impl Vault {
    /// Merges person `absorbed` into person `survivor` (two caseworkers entered one witness
    /// twice): the survivor's next version holds every name, document, citizenship, contact
    /// and attachment of both, and lists `absorbed` in `merged`; the absorbed person's next
    /// version keeps its data and says `merged_into`. From then on, lists and search show the
    /// survivor only, opening the absorbed id opens the survivor, and whatever referred to
    /// either belongs to the survivor. [`Vault::unmerge_people`] undoes it.
    pub fn merge_people(&mut self, survivor: RecordId, absorbed: RecordId) -> Result<MergeSaved> {
        if survivor == absorbed {
            return Err(Error::invalid(
                "",
                "a person cannot be merged with themselves",
            ));
        }
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let (s_head, s_data) = person_head(&tx, survivor, "survivor")?;
        let (a_head, a_data) = person_head(&tx, absorbed, "absorbed")?;
        let (s_id, a_id) = (survivor.to_string(), absorbed.to_string());
        if let Some(into) = merges::into(&tx, &s_id)? {
            return Err(Error::invalid(
                "survivor",
                format!("{survivor} was itself merged into {into}: merge into that person instead"),
            ));
        }
        if let Some(into) = merges::into(&tx, &a_id)? {
            return Err(Error::invalid(
                "absorbed",
                format!("{absorbed} is already merged into {into}"),
            ));
        }
        let s_next = merge::merged_person(&s_data, &a_data, &s_id, &a_id);
        let a_next = merge::absorbed_person(&a_data, &s_id);
        let saved = MergeSaved {
            survivor: save(&tx, &o.device, survivor, s_head, &s_next)?,
            absorbed: save(&tx, &o.device, absorbed, a_head, &a_next)?,
        };
        audit_pair(&tx, &o.device, "people_merged", &saved)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// Undoes the merge of `absorbed` into `survivor`: the survivor's next version loses what
    /// the merge brought in (names, documents, contacts … that only the absorbed person had)
    /// but keeps what was added or changed since; the absorbed person's next version no longer
    /// says `merged_into`. Records that refer to either id keep pointing where they point.
    pub fn unmerge_people(&mut self, survivor: RecordId, absorbed: RecordId) -> Result<MergeSaved> {
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let (s_id, a_id) = (survivor.to_string(), absorbed.to_string());
        if merges::into(&tx, &a_id)?.as_deref() != Some(s_id.as_str()) {
            return Err(Error::invalid(
                "absorbed",
                format!("{absorbed} is not merged into {survivor}"),
            ));
        }
        let (s_head, s_data) = person_head(&tx, survivor, "survivor")?;
        let (a_head, a_data) = person_head(&tx, absorbed, "absorbed")?;
        let (merge_version, before) = merge_point(&tx, s_head.clone(), &a_id)?;
        let s_next = merge::unmerged_person(&s_data, &merge_version, &before, &a_id);
        let s_next = with_remaining(&tx, &s_id, &a_id, s_next)?;
        let a_next = merge::released_person(&a_data);
        let saved = MergeSaved {
            survivor: save(&tx, &o.device, survivor, s_head, &s_next)?,
            absorbed: save(&tx, &o.device, absorbed, a_head, &a_next)?,
        };
        audit_pair(&tx, &o.device, "people_unmerged", &saved)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// The person `id` now is (itself, or the person it was merged into, followed to the end).
    pub fn survivor_of(&self, id: RecordId) -> Result<RecordId> {
        let o = self.o()?;
        store::record_kind(&o.conn, id)?;
        merges::survivor(&o.conn, &id.to_string())?.parse()
    }

    /// The person `id` now is, and everyone merged into them (directly, or into someone merged
    /// into them), as the lists show them.
    pub fn merge_group(&self, id: RecordId) -> Result<MergeGroup> {
        let o = self.o()?;
        store::record_kind(&o.conn, id)?;
        let person = merges::survivor(&o.conn, &id.to_string())?;
        let group = merges::group(&o.conn, &person)?;
        // A flag set on any current version of anyone in the group (a caseworker who had not
        // heard of the merge may set it on the other id) protects the one person.
        let (mut do_not_contact, mut anonymise) = (false, false);
        for m in &group {
            for h in store::heads::of(&o.conn, m.parse()?)? {
                let flag = |k: &str| {
                    h.data.as_ref().and_then(|d| d.get(k)) == Some(&serde_json::Value::Bool(true))
                };
                do_not_contact |= flag("do_not_contact");
                anonymise |= flag("anonymise_in_exports_to_partners");
            }
        }
        let mut s = Summarizer::new(&o.conn);
        let mut members = Vec::new();
        for m in group.into_iter().skip(1) {
            let into: Option<RecordId> =
                merges::into(&o.conn, &m)?.map(|i| i.parse()).transpose()?;
            members.push(MergedPerson {
                summary: s.summary(&m)?,
                into: into.unwrap_or(person.parse()?),
            });
        }
        Ok(MergeGroup {
            person: person.parse()?,
            members,
            do_not_contact,
            anonymise,
        })
    }
}
