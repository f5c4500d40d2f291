//! Steps 1–4 of the rules (`super`): the records considered, and which of them may go.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;

use super::{line, PreviewLine, Withheld};
use crate::error::{Error, Result};
use crate::model::share;
use crate::model::{self, Attempt, Kind, Person, RecordId, Testimony};
use crate::revision;
use crate::store::partners::Sent;
use crate::store::{self, heads, merges};

/// A record's one current version, or why there is none to send.
pub(super) fn current(
    conn: &Connection,
    id: RecordId,
) -> Result<std::result::Result<serde_json::Value, Withheld>> {
    let heads = heads::of(conn, id)?;
    if heads.len() > 1 {
        return Ok(Err(Withheld::Conflict));
    }
    match heads.into_iter().next().and_then(|h| h.data) {
        Some(d) if !revision::is_purge_marker(&d) => Ok(Ok(d)),
        _ => Ok(Err(Withheld::Purged)),
    }
}

fn typed<T: serde::de::DeserializeOwned>(id: RecordId, d: serde_json::Value) -> Result<T> {
    serde_json::from_value(d)
        .map_err(|e| Error::Verify(format!("record {id} does not read as its kind: {e}")))
}

/// Records that refer to any of `targets`, with their kinds.
fn referring(conn: &Connection, targets: &[String]) -> Result<Vec<(String, Kind)>> {
    let mut out = Vec::new();
    let mut q = conn.prepare_cached(
        "SELECT r.id, r.kind FROM refs f JOIN records r ON r.id = f.record WHERE f.target = ?1",
    )?;
    for t in targets {
        let rows: Vec<(String, String)> =
            store::collect(q.query_map([t], |r| Ok((r.get(0)?, r.get(1)?)))?)?;
        for (id, kind) in rows {
            out.push((id, kind.parse()?));
        }
    }
    Ok(out)
}

pub(super) fn parse_id(s: &str) -> Result<RecordId> {
    s.parse()
}

/// The person an id now is (a merged person's survivor).
pub(super) fn person_now(conn: &Connection, id: RecordId) -> Result<RecordId> {
    parse_id(&merges::survivor(conn, &id.to_string())?)
}

/// Every testimony of the vault (a bundle of "everything that may go").
pub(super) fn all_testimonies(conn: &Connection) -> Result<Vec<RecordId>> {
    store::collect(
        conn.prepare("SELECT id FROM records WHERE kind = 'testimony'")?
            .query_map([], |r| r.get::<_, String>(0))?,
    )?
    .iter()
    .map(|s| parse_id(s))
    .collect()
}

/// How a person goes to a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Named,
    Pseudonym,
    /// Went by name before and is now to be anonymised: goes no more.
    Burned,
}

/// Whether any testimony of `person` in this vault was told to be published anonymised.
fn told_anonymously(conn: &Connection, person: RecordId) -> Result<bool> {
    for (id, kind) in referring(conn, &merges::group(conn, &person.to_string())?)? {
        if kind != Kind::Testimony {
            continue;
        }
        let id = parse_id(&id)?;
        // Every current version: one of two conflicting versions may be the anonymous one.
        for h in heads::of(conn, id)? {
            let Some(d) = h.data.filter(|d| !revision::is_purge_marker(d)) else {
                continue;
            };
            let t: Testimony = typed(id, d)?;
            if person_now(conn, t.witness)? == person
                && share::consent_anonymises_witness(t.consent.as_ref())
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The records considered (step 1) and what of them may go (steps 2–4).
#[derive(Default)]
pub(super) struct Selection {
    /// Every record considered, with its kind.
    pub candidates: BTreeMap<RecordId, Kind>,
    /// Cases chosen (never sent).
    pub cases: Vec<RecordId>,
    /// Records chosen by their own id (a person chosen, not one a testimony names).
    pub asked: BTreeSet<RecordId>,
    /// What does not go, and why.
    pub withheld: BTreeMap<RecordId, Withheld>,
    /// What goes.
    pub testimonies: BTreeMap<RecordId, Testimony>,
    pub persons: BTreeMap<RecordId, Person>,
    pub attempts: BTreeMap<RecordId, Attempt>,
    /// Of the persons that go, who goes as a pseudonym.
    pub pseudonym: BTreeMap<RecordId, bool>,
}

/// Step 1: the records considered, by kind, each once; cases chosen are returned apart.
fn considered(
    conn: &Connection,
    chosen: &[RecordId],
    before: &BTreeMap<String, Sent>,
) -> Result<Selection> {
    let mut sel = Selection::default();
    let (out, cases, asked) = (&mut sel.candidates, &mut sel.cases, &mut sel.asked);
    let add_person = |conn: &Connection, out: &mut BTreeMap<RecordId, Kind>, p: RecordId| {
        let p = person_now(conn, p)?;
        out.insert(p, Kind::Person);
        // Their testimonies and attempts, under any id merged into them.
        for (id, kind) in referring(conn, &merges::group(conn, &p.to_string())?)? {
            if matches!(kind, Kind::Testimony | Kind::Attempt) {
                out.insert(parse_id(&id)?, kind);
            }
        }
        Ok::<RecordId, Error>(p)
    };
    for &id in chosen {
        match store::record_kind(conn, id)? {
            Kind::Case => {
                cases.push(id);
                if let Ok(d) = current(conn, id)? {
                    let c: model::Case = typed(id, d)?;
                    for p in c.persons {
                        add_person(conn, out, p)?;
                    }
                    out.extend(c.testimonies.into_iter().map(|t| (t, Kind::Testimony)));
                    out.extend(c.attempts.into_iter().map(|a| (a, Kind::Attempt)));
                }
            }
            Kind::Person => {
                asked.insert(add_person(conn, out, id)?);
            }
            kind => {
                asked.insert(id);
                out.insert(id, kind);
            }
        }
    }
    for (id, s) in before {
        if !s.withdrawn {
            let id = parse_id(id)?;
            out.insert(id, s.kind.parse()?);
        }
    }
    Ok(sel)
}

/// Steps 1–4 over `chosen`, and what `before` says was sent already.
pub(super) fn select(
    conn: &Connection,
    chosen: &[RecordId],
    before: &BTreeMap<String, Sent>,
) -> Result<Selection> {
    let mut sel = considered(conn, chosen, before)?;
    sel.testimonies(conn)?;
    sel.persons(conn, before)?;
    sel.attempts(conn)?;
    Ok(sel)
}

impl Selection {
    fn of_kind(&self, kind: Kind) -> Vec<RecordId> {
        self.candidates
            .iter()
            .filter(|(_, k)| **k == kind)
            .map(|(id, _)| *id)
            .collect()
    }

    /// A record's current version as its type, or why it does not go.
    fn read<T: serde::de::DeserializeOwned>(
        &mut self,
        conn: &Connection,
        id: RecordId,
    ) -> Result<Option<T>> {
        match current(conn, id)? {
            Ok(d) => Ok(Some(typed(id, d)?)),
            // A bundle would withdraw the partner's copy of a record only because two
            // caseworkers edited it at once: refused instead, until the conflict is resolved.
            Err(Withheld::Conflict) => Err(Error::invalid(
                "partner",
                format!("{id} has conflicting versions: resolve them first (Conflicts), then send"),
            )),
            Err(w) => {
                self.withheld.insert(id, w);
                Ok(None)
            }
        }
    }

    /// Step 2: the testimonies whose consent allows partners.
    fn testimonies(&mut self, conn: &Connection) -> Result<()> {
        for id in self.of_kind(Kind::Testimony) {
            let Some(t) = self.read::<Testimony>(conn, id)? else {
                continue;
            };
            match share::consent_allows_partners(t.consent.as_ref()) {
                Ok(()) => {
                    self.testimonies.insert(id, t);
                }
                Err(r) => {
                    self.withheld.insert(id, Withheld::from_consent(r));
                }
            }
        }
        Ok(())
    }

    /// How a person may go to this partner (rule 4): the first time, as a pseudonym when
    /// flagged or when any testimony of theirs in this vault was told to be published
    /// anonymised; after that, as they first went. A person who went by name and is now to
    /// be anonymised goes no more ([`Form::Burned`]): a pseudonym appearing beside the
    /// withdrawn name would tie the two together.
    ///
    /// People merged into one count as one: if any of them went as a pseudonym and any by
    /// name, the person is burned (the merge would tie the two).
    fn form(
        conn: &Connection,
        id: RecordId,
        p: &Person,
        before: &BTreeMap<String, Sent>,
    ) -> Result<Form> {
        let (mut pseudonym, mut named) = (false, false);
        for member in merges::group(conn, &id.to_string())? {
            if let Some(s) = before.get(&member) {
                pseudonym |= s.pseudonym;
                named |= !s.pseudonym;
            }
        }
        let anonymise = p.anonymise_in_exports_to_partners || told_anonymously(conn, id)?;
        Ok(match (pseudonym, named) {
            (true, true) => Form::Burned,
            (true, false) => Form::Pseudonym,
            (false, true) if p.anonymise_in_exports_to_partners => Form::Burned,
            (false, true) => Form::Named,
            (false, false) if anonymise => Form::Pseudonym,
            (false, false) => Form::Named,
        })
    }

    /// Steps 3–4 for people, to a fixed point: the people the testimonies name, how each
    /// goes; a testimony whose witness cannot go (purged, burned, or named here though the
    /// testimony was told anonymously) does not go, and then neither do the people only it
    /// named.
    fn persons(&mut self, conn: &Connection, before: &BTreeMap<String, Sent>) -> Result<()> {
        let mut forms: BTreeMap<RecordId, Option<Form>> = BTreeMap::new();
        loop {
            let mut named = BTreeSet::new();
            for t in self.testimonies.values() {
                named.insert(person_now(conn, t.witness)?);
                for e in &t.events {
                    for &v in &e.victims {
                        named.insert(person_now(conn, v)?);
                    }
                }
            }
            for &id in &named {
                if forms.contains_key(&id) {
                    continue;
                }
                let form = match self.read::<Person>(conn, id)? {
                    Some(p) => {
                        let f = Self::form(conn, id, &p, before)?;
                        if f == Form::Burned {
                            self.withheld.insert(id, Withheld::AnonymisedAfterNamed);
                        }
                        self.persons.insert(id, p);
                        Some(f)
                    }
                    None => None,
                };
                forms.insert(id, form);
            }
            let mut dropped = Vec::new();
            for (&id, t) in &self.testimonies {
                let mut victims = Vec::new();
                for e in &t.events {
                    for &v in &e.victims {
                        victims.push(forms.get(&person_now(conn, v)?).copied().flatten());
                    }
                }
                if victims.contains(&Some(Form::Burned)) {
                    // It names someone this partner knew by name and who is now anonymised.
                    dropped.push((id, Withheld::AnonymisedAfterNamed));
                    continue;
                }
                let reason = match forms.get(&person_now(conn, t.witness)?).copied().flatten() {
                    None => Some(Withheld::NoConsentingTestimony),
                    Some(Form::Burned) => Some(Withheld::AnonymisedAfterNamed),
                    Some(Form::Named) if share::consent_anonymises_witness(t.consent.as_ref()) => {
                        Some(Withheld::ToldAnonymouslyNamedHere)
                    }
                    _ => None,
                };
                if let Some(r) = reason {
                    dropped.push((id, r));
                }
            }
            if dropped.is_empty() {
                self.pseudonym.clear();
                for id in named {
                    match forms.get(&id).copied().flatten() {
                        Some(Form::Named) => {
                            self.pseudonym.insert(id, false);
                        }
                        Some(Form::Pseudonym) => {
                            self.pseudonym.insert(id, true);
                        }
                        Some(Form::Burned) | None => {}
                    }
                }
                break;
            }
            for (id, r) in dropped {
                self.testimonies.remove(&id);
                self.withheld.insert(id, r);
            }
        }
        self.persons.retain(|id, _| self.pseudonym.contains_key(id));
        for id in self.of_kind(Kind::Person) {
            if !self.persons.contains_key(&id) {
                self.withheld
                    .entry(id)
                    .or_insert(Withheld::NoConsentingTestimony);
            }
        }
        Ok(())
    }

    /// Step 3 for attempts: those whose person goes.
    fn attempts(&mut self, conn: &Connection) -> Result<()> {
        for id in self.of_kind(Kind::Attempt) {
            let Some(a) = self.read::<Attempt>(conn, id)? else {
                continue;
            };
            let person = person_now(conn, a.person)?;
            if self.persons.contains_key(&person) {
                self.attempts.insert(id, a);
            } else {
                let reason = match self.withheld.get(&person) {
                    Some(Withheld::AnonymisedAfterNamed) => Withheld::AnonymisedAfterNamed,
                    _ => Withheld::NoConsentingTestimony,
                };
                self.withheld.insert(id, reason);
            }
        }
        Ok(())
    }

    /// The preview's withheld lines: what was chosen (or came with a case or person chosen)
    /// and does not go; what was sent before and no longer goes is among `withdrawn` instead.
    pub fn withheld_lines(&self, withdrawn: &[PreviewLine]) -> Vec<PreviewLine> {
        let mut out: Vec<PreviewLine> = self
            .cases
            .iter()
            .map(|&c| line(c, Kind::Case, None, Some(Withheld::CaseStaysHere)))
            .collect();
        for (&id, &reason) in &self.withheld {
            let kind = self.candidates.get(&id).copied().unwrap_or(Kind::Person);
            let person_not_asked = reason == Withheld::NoConsentingTestimony
                && kind == Kind::Person
                && !self.asked.contains(&id);
            if !person_not_asked && !withdrawn.iter().any(|w| w.record == id) {
                out.push(line(id, kind, None, Some(reason)));
            }
        }
        out
    }
}
