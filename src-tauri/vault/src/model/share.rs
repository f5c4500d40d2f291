//! What a record becomes in a bundle to a partner organisation (docs/design-notes.md "Partner
//! bundles"): pure functions from one typed record to another, with no database and no I/O.
//!
//! Every view is built field by field, never with `..rest`: a field added to a record later
//! does not compile here until someone decides whether it may leave for partners. What never
//! goes: contact blocks, merge bookkeeping, the names of our own staff (interviewer,
//! interpreter, translator). A person flagged `anonymise_in_exports_to_partners` (or the
//! witness of a testimony whose consent is `publish-anonymised`) travels as a pseudonym: no
//! names, documents, contact, photo, attachments, relatives, notes, cross-references or
//! sources; a birth date as its year; a birthplace as its region and country. What such a
//! person told, and their attempts, keep only what describes without finding them: years, not
//! dates; closed sets, not free text beside the narrative itself. Attachments never carry their
//! original file name or caption (a file is often named after the person in it).
//!
//! Record ids are rewritten by the caller's [`Ids`]: a reference to a record that does not
//! travel is dropped, never left pointing at one of our ids.

use super::{
    Attachment, Attempt, Consent, ConsentScope, Event, PartialDate, Person, PersonStatus, Place,
    RecordId, Relationship, Testimony, Transcript, Translation,
};

/// Attachments as they go: the file (whose SHA-256 is its fingerprint) and its type, never its
/// original name, caption or custody facts (our device, the exact time, a microphone's name,
/// markers' notes).
fn unnamed(list: Vec<Attachment>) -> Vec<Attachment> {
    list.into_iter()
        .map(|a| Attachment {
            blob: a.blob,
            size: a.size,
            media_type: a.media_type,
            name: None,
            caption: None,
            custody: None,
        })
        .collect()
}

/// Translations as they go: without who translated (our staff or volunteers).
fn translations_out(list: Vec<Translation>) -> Vec<Translation> {
    list.into_iter()
        .map(|x| Translation {
            language: x.language,
            text: x.text,
            translated_by: None,
        })
        .collect()
}

/// How ids read in one partner bundle.
pub trait Ids {
    /// The id a record of ours has in the bundle, or `None` when it does not travel.
    fn out(&self, ours: RecordId) -> Option<RecordId>;
    /// Whether a person travels as a pseudonym.
    fn anonymised(&self, person: RecordId) -> bool;
}

/// Whether a testimony's consent lets it go to partners: given, not withdrawn, and wider than
/// the organisation itself.
pub fn consent_allows_partners(consent: Option<&Consent>) -> Result<(), &'static str> {
    let Some(c) = consent else {
        return Err("no consent recorded");
    };
    if c.withdrawn_at.is_some() {
        return Err("consent withdrawn");
    }
    if !c.given {
        return Err("consent not given");
    }
    match c.scope {
        None => Err("consent has no scope"),
        Some(ConsentScope::Internal) => Err("consent is for this organisation only"),
        Some(_) => Ok(()),
    }
}

/// Whether the witness of a testimony with this consent travels as a pseudonym.
pub fn consent_anonymises_witness(consent: Option<&Consent>) -> bool {
    consent.and_then(|c| c.scope) == Some(ConsentScope::PublishAnonymised)
}

/// A person as a partner sees them, named: everything but contact, merge bookkeeping and
/// relationships to people who do not travel or travel as pseudonyms. `attachments_go` says
/// whether the photo and other attachments go.
pub fn person_named(p: &Person, ids: &dyn Ids, attachments_go: bool) -> Person {
    let Person {
        names,
        gender,
        date_of_birth,
        place_of_birth,
        ethnicity,
        citizenships,
        documents,
        contact: _,
        photo,
        relationships,
        status,
        cross_references,
        anonymise_in_exports_to_partners,
        do_not_contact,
        notes,
        attachments,
        merged: _,
        merged_into: _,
    } = p.clone();
    Person {
        names,
        gender,
        date_of_birth,
        place_of_birth,
        ethnicity,
        citizenships,
        documents,
        contact: None,
        photo: photo.filter(|_| attachments_go),
        relationships: relationships
            .into_iter()
            .filter(|r| !ids.anonymised(r.person))
            .filter_map(|r| {
                Some(Relationship {
                    person: ids.out(r.person)?,
                    relation: r.relation,
                    note: r.note,
                })
            })
            .collect(),
        status,
        cross_references,
        anonymise_in_exports_to_partners,
        do_not_contact,
        notes,
        attachments: if attachments_go {
            unnamed(attachments)
        } else {
            vec![]
        },
        merged: vec![],
        merged_into: None,
    }
}

/// A person as a pseudonym: the name given (stable per partner, made by the caller), and only
/// what describes without identifying.
pub fn person_pseudonym(p: &Person, pseudonym: &str) -> Person {
    Person {
        names: vec![super::Name {
            value: pseudonym.to_owned(),
            script: Some(super::Script::Latn),
            kind: Some(super::NameKind::Alias),
            parts: None,
        }],
        gender: p.gender,
        date_of_birth: p.date_of_birth.as_ref().map(year_only),
        place_of_birth: p.place_of_birth.as_ref().and_then(region_only),
        ethnicity: p.ethnicity.clone(),
        citizenships: p
            .citizenships
            .iter()
            .map(|c| super::Citizenship {
                country: c.country.clone(),
                acquired_on: None,
                lost_on: None,
            })
            .collect(),
        documents: vec![],
        contact: None,
        photo: None,
        relationships: vec![],
        status: p.status.as_ref().map(|s| PersonStatus {
            value: s.value,
            on: s.on.as_ref().map(year_only),
            source: None,
        }),
        cross_references: vec![],
        anonymise_in_exports_to_partners: true,
        do_not_contact: p.do_not_contact,
        notes: None,
        attachments: vec![],
        merged: vec![],
        merged_into: None,
    }
}

fn year_only(d: &PartialDate) -> PartialDate {
    PartialDate {
        year: d.year,
        month: None,
        day: None,
        approximate: d.approximate,
    }
}

/// A place no finer than its region: `None` when it names no region or country.
fn region_only(p: &Place) -> Option<Place> {
    let text = [p.region.as_deref(), p.country.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    (!text.trim().is_empty()).then(|| Place {
        text,
        county: None,
        prefecture: None,
        region: p.region.clone(),
        country: p.country.clone(),
    })
}

/// A testimony as a partner sees it: our staff's names left out, ids rewritten, attachments
/// only when `attachments_go`. Told by a pseudonym: the narrative and its translations as
/// consented, and otherwise only years and closed sets (no place, tags, summary or reliability
/// note; events by type and year, without place, facility, perpetrators or description).
/// `None` when its witness does not travel.
pub fn testimony(t: &Testimony, ids: &dyn Ids, attachments_go: bool) -> Option<Testimony> {
    let anonymised = ids.anonymised(t.witness);
    let Testimony {
        witness,
        interviewer: _,
        interpreter: _,
        recorded_at,
        place,
        languages,
        consent,
        narrative,
        translations,
        transcripts,
        summary,
        connection,
        reliability_note,
        events,
        attachments,
        tags,
        sensitivity,
        status,
    } = t.clone();
    Some(Testimony {
        witness: ids.out(witness)?,
        interviewer: None,
        interpreter: None,
        recorded_at: if anonymised {
            recorded_at.as_ref().map(year_only)
        } else {
            recorded_at
        },
        place: place.filter(|_| !anonymised),
        languages,
        consent,
        narrative,
        translations: translations_out(translations),
        // A transcript is what the recording says, as the narrative is what the witness said:
        // it goes with its recording, as told.
        transcripts: if attachments_go {
            transcripts
                .into_iter()
                .map(|x| Transcript {
                    recording: x.recording,
                    text: x.text,
                    translations: translations_out(x.translations),
                })
                .collect()
        } else {
            vec![]
        },
        summary: summary.filter(|_| !anonymised),
        connection,
        reliability_note: reliability_note.filter(|_| !anonymised),
        events: events
            .into_iter()
            .map(|e| {
                let Event {
                    event_type,
                    from,
                    to,
                    place,
                    facility,
                    victims,
                    perpetrators,
                    description,
                } = e;
                let year = |d: Option<PartialDate>| {
                    if anonymised {
                        d.as_ref().map(year_only)
                    } else {
                        d
                    }
                };
                Event {
                    event_type,
                    from: year(from),
                    to: year(to),
                    place: place.filter(|_| !anonymised),
                    facility: facility.filter(|_| !anonymised),
                    victims: victims.into_iter().filter_map(|v| ids.out(v)).collect(),
                    perpetrators: if anonymised { vec![] } else { perpetrators },
                    description: description.filter(|_| !anonymised),
                }
            })
            .collect(),
        attachments: if attachments_go {
            unnamed(attachments)
        } else {
            vec![]
        },
        tags: if anonymised { vec![] } else { tags },
        sensitivity,
        status,
    })
}

/// A renunciation attempt as a partner sees it. Of a pseudonymous person only the years and
/// the closed sets go (where, what was asked, the outcome and how it was given): a date, a
/// receipt number or an official's name finds an applicant in a consulate's own records.
/// `None` when its person does not travel.
pub fn attempt(a: &Attempt, ids: &dyn Ids) -> Option<Attempt> {
    let anonymised = ids.anonymised(a.person);
    let Attempt {
        person,
        submitted_on,
        channel,
        request,
        documents_submitted,
        documents_demanded,
        official_seen,
        language_used,
        receipt_number,
        outcome,
        outcome_on,
        outcome_given,
        outcome_statement,
        outcome_by,
        pressure,
        follows_up,
        consequences,
        notes,
        attachments,
    } = a.clone();
    let keep = |v: Option<String>| v.filter(|_| !anonymised);
    let list = |v: Vec<String>| if anonymised { vec![] } else { v };
    let year = |d: PartialDate| if anonymised { year_only(&d) } else { d };
    Some(Attempt {
        person: ids.out(person)?,
        submitted_on: year(submitted_on),
        channel,
        request,
        documents_submitted: list(documents_submitted),
        documents_demanded: list(documents_demanded),
        official_seen: keep(official_seen),
        language_used: keep(language_used),
        receipt_number: keep(receipt_number),
        outcome,
        outcome_on: outcome_on.map(year),
        outcome_given,
        outcome_statement: keep(outcome_statement),
        outcome_by: keep(outcome_by),
        pressure: keep(pressure),
        follows_up: follows_up.and_then(|f| ids.out(f)),
        consequences: list(consequences),
        notes: keep(notes),
        attachments: if anonymised {
            vec![]
        } else {
            unnamed(attachments)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct Map(BTreeMap<RecordId, (RecordId, bool)>);
    impl Ids for Map {
        fn out(&self, ours: RecordId) -> Option<RecordId> {
            self.0.get(&ours).map(|x| x.0)
        }
        fn anonymised(&self, person: RecordId) -> bool {
            self.0.get(&person).is_some_and(|x| x.1)
        }
    }

    fn id() -> RecordId {
        RecordId::new()
    }

    fn person(json: serde_json::Value) -> Person {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_partner_gets_the_fingerprint_and_the_transcript_never_the_custody_facts() {
        let (w, w2) = (id(), id());
        let blob = "ab".repeat(32);
        let t: Testimony = serde_json::from_value(serde_json::json!({
            "witness": w, "narrative": "told",
            "attachments": [{ "blob": blob, "size": 9, "media_type": "audio/ogg",
                "name": "recording.opus",
                "custody": { "how": "recorded", "at": "2026-12-02T09:00:00Z",
                    "device": "DEVICE-CANARY", "input": "MIC-CANARY",
                    "markers": [{ "at_ms": 5, "note": "NOTE-CANARY" }] } }],
            "transcripts": [{ "recording": blob, "text": "what was said",
                "translations": [{ "language": "ru", "text": "т", "translated_by": "STAFF-CANARY" }] }]
        }))
        .unwrap();
        let ids = Map([(w, (w2, false))].into_iter().collect());
        let out = testimony(&t, &ids, true).unwrap();
        let json = serde_json::to_string(&out).unwrap();
        for canary in [
            "DEVICE-CANARY",
            "MIC-CANARY",
            "NOTE-CANARY",
            "STAFF-CANARY",
            "recording.opus",
        ] {
            assert!(!json.contains(canary), "{canary} in {json}");
        }
        assert_eq!(out.attachments[0].blob, blob);
        assert_eq!(out.transcripts[0].text, "what was said");
        // Without its attachments, a testimony goes without its transcripts.
        assert!(testimony(&t, &ids, false).unwrap().transcripts.is_empty());
    }

    #[test]
    fn consent_scopes() {
        let c = |v: serde_json::Value| serde_json::from_value::<Consent>(v).unwrap();
        assert!(consent_allows_partners(None).is_err());
        assert!(consent_allows_partners(Some(&c(serde_json::json!({"given": true})))).is_err());
        for s in ["partner-orgs", "publish-anonymised", "publish-named"] {
            assert!(consent_allows_partners(Some(&c(
                serde_json::json!({"given": true, "scope": s})
            )))
            .is_ok());
            assert!(consent_allows_partners(Some(&c(
                serde_json::json!({"given": true, "scope": s, "withdrawn_at": "2026"})
            )))
            .is_err());
            assert!(consent_allows_partners(Some(&c(
                serde_json::json!({"given": false, "scope": s})
            )))
            .is_err());
        }
        assert!(consent_allows_partners(Some(&c(
            serde_json::json!({"given": true, "scope": "internal"})
        )))
        .is_err());
    }

    #[test]
    fn a_pseudonym_keeps_nothing_that_names() {
        let p = person(serde_json::json!({
            "names": [{"value": "CANARY-NAME"}],
            "gender": "female",
            "date_of_birth": "1980-03-04",
            "place_of_birth": {"text": "CANARY-VILLAGE", "county": "CANARY-COUNTY", "region": "Ili", "country": "CN"},
            "citizenships": [{"country": "CN", "acquired_on": "1980-03-04"}],
            "documents": [{"type": "prc-passport", "number": "CANARY-DOC"}],
            "contact": {"phones": ["CANARY-PHONE"]},
            "status": {"value": "camp", "on": "2018-05-06", "source": "CANARY-SOURCE"},
            "cross_references": [{"system": "xinjiang-victims-db", "id": "CANARY-XREF"}],
            "notes": "CANARY-NOTES",
            "relationships": [{"person": id(), "relation": "child", "note": "CANARY-REL"}],
            "anonymise_in_exports_to_partners": true,
        }));
        let out = serde_json::to_string(&person_pseudonym(&p, "P-7Q4K2M9X")).unwrap();
        assert!(!out.contains("CANARY"), "{out}");
        assert!(out.contains("P-7Q4K2M9X") && out.contains("\"1980\"") && out.contains("Ili"));
    }

    #[test]
    fn references_to_what_does_not_travel_are_dropped() {
        let (w, v, gone, anon) = (id(), id(), id(), id());
        let mut m = BTreeMap::new();
        m.insert(w, (id(), false));
        m.insert(v, (id(), false));
        m.insert(anon, (id(), true));
        let ids = Map(m);
        let t: Testimony = serde_json::from_value(serde_json::json!({
            "witness": w, "narrative": "told", "interviewer": "CANARY-STAFF",
            "translations": [{"language": "en", "text": "t", "translated_by": "CANARY-TR"}],
            "events": [{"type": "camp", "victims": [v, gone, anon]}],
        }))
        .unwrap();
        let out = testimony(&t, &ids, false).unwrap();
        assert_eq!(out.witness, ids.out(w).unwrap());
        assert_eq!(
            out.events[0].victims,
            vec![ids.out(v).unwrap(), ids.out(anon).unwrap()]
        );
        assert!(!serde_json::to_string(&out).unwrap().contains("CANARY"));
        let p = person(serde_json::json!({
            "names": [{"value": "N"}], "contact": {"phones": ["CANARY-PHONE"]},
            "relationships": [{"person": v, "relation": "child"}, {"person": anon, "relation": "spouse"}, {"person": gone, "relation": "parent"}],
        }));
        let named = person_named(&p, &ids, false);
        assert!(named.contact.is_none());
        assert_eq!(named.relationships.len(), 1);
        assert_eq!(named.relationships[0].person, ids.out(v).unwrap());
        let a: Attempt = serde_json::from_value(serde_json::json!({
            "person": anon, "submitted_on": "2024", "receipt_number": "CANARY-RECEIPT",
            "notes": "CANARY-NOTES", "pressure": "CANARY-PRESSURE", "follows_up": gone,
        }))
        .unwrap();
        let out = attempt(&a, &ids).unwrap();
        assert!(!serde_json::to_string(&out).unwrap().contains("CANARY"));
        assert!(out.follows_up.is_none());
        let orphan: Testimony =
            serde_json::from_value(serde_json::json!({"witness": gone, "narrative": "x"})).unwrap();
        assert!(testimony(&orphan, &ids, true).is_none());
    }
}
