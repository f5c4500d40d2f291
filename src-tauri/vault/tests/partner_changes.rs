//! What a partner already has, when things change here (docs/design-notes.md "Partner
//! bundles"): a person named to a partner and then to be anonymised goes no more (a
//! pseudonym beside the withdrawn name would tie the two); a pseudonym stays one; a
//! testimony told anonymously by someone this partner knows by name stays here; the people
//! only a withheld testimony names stay too; a conflict stops the bundle; a partner removed and
//! added again keeps its ids, so a withdrawal still reaches it.

use testkit::bundles::*;
use testkit::fixture::*;
use testkit::partners::*;
use vault::{Going, Kind, RecordId, Vault, Withheld};

fn add(v: &mut Vault, kind: Kind, json: serde_json::Value) -> RecordId {
    v.add(kind, json.to_string().as_bytes()).unwrap().record
}

fn told(v: &mut Vault, witness: RecordId, scope: &str, narrative: &str) -> RecordId {
    add(
        v,
        Kind::Testimony,
        serde_json::json!({"witness": witness, "narrative": narrative, "consent": {"given": true, "scope": scope}}),
    )
}

/// A coordinator with a partner "P" (whose own vault imports what it is sent).
struct Setup {
    org: Org,
    partner: Vault,
    _keys: tempfile::TempDir,
    n: usize,
}

impl Setup {
    fn new() -> Setup {
        let mut org = coordinator();
        let keys = tempfile::tempdir().unwrap();
        let (key, public) = partner_key(keys.path(), "p");
        add_partner(&mut org.v, &public, "P");
        let partner = partner_vault(&keys.path().join("partner"), &key, &org.v);
        Setup {
            org,
            partner,
            _keys: keys,
            n: 0,
        }
    }

    /// Sends `records` (everything, when `None`) and the partner imports it.
    fn send(&mut self, records: Option<Vec<RecordId>>) {
        self.n += 1;
        let dest = self._keys.path().join(format!("b{}", self.n));
        let b = send(&mut self.org.v, "P", records, &dest);
        self.partner.import(&b, &Default::default()).unwrap();
        assert!(self.partner.verify().unwrap().problems.is_empty());
    }

    fn partner_finds(&self, q: &str) -> bool {
        !self.partner.search(q, 10).unwrap().is_empty()
    }
}

#[test]
fn a_person_named_to_a_partner_and_then_to_be_anonymised_goes_no_more() {
    let mut s = Setup::new();
    let p = add_person(&mut s.org.v, "Zhanar Named");
    let t = told(&mut s.org.v, p, "partner-orgs", "Told with consent");
    let a = add_attempt(
        &mut s.org.v,
        p,
        serde_json::json!({"submitted_on": "2024-02-03"}),
    );
    s.send(Some(vec![t, a]));
    assert!(s.partner_finds("Zhanar"));
    s.org
        .v
        .edit(
            p,
            br#"{"anonymise_in_exports_to_partners": true}"#,
            None,
            false,
        )
        .unwrap();
    let preview = s.org.v.partner_preview("P", None).unwrap();
    let withdrawn: Vec<(RecordId, Option<Withheld>)> = preview
        .withdrawn
        .iter()
        .map(|l| (l.record, l.reason))
        .collect();
    for id in [p, t, a] {
        assert!(
            withdrawn.contains(&(id, Some(Withheld::AnonymisedAfterNamed))),
            "{id} withdrawn: {withdrawn:?}"
        );
    }
    assert!(
        preview.going.is_empty(),
        "no pseudonym appears beside the withdrawn name"
    );
    s.send(None);
    assert!(!s.partner_finds("Zhanar") && !s.partner_finds("consent"));
    let people = s.partner.list(Some(Kind::Person)).unwrap();
    assert!(
        people.iter().all(|p| p.facts == vault::Facts::Purged),
        "only the purged name is left: {people:?}"
    );
    // Cleared again: the person may go by name again, under a new id; the partner imports it.
    s.org
        .v
        .edit(
            p,
            br#"{"anonymise_in_exports_to_partners": false}"#,
            None,
            false,
        )
        .unwrap();
    s.send(None);
    assert!(s.partner_finds("Zhanar"));
}

#[test]
fn a_pseudonym_stays_one_and_a_testimony_told_anonymously_stays_from_who_knows_the_name() {
    let mut s = Setup::new();
    let hidden = add(
        &mut s.org.v,
        Kind::Person,
        serde_json::json!({"names": [{"value": "Erlan Hidden"}], "anonymise_in_exports_to_partners": true}),
    );
    told(&mut s.org.v, hidden, "partner-orgs", "First account");
    s.send(None);
    assert!(!s.partner_finds("Erlan"));
    // The flag cleared: still a pseudonym for this partner, and its bundles still import.
    s.org
        .v
        .edit(
            hidden,
            br#"{"anonymise_in_exports_to_partners": false}"#,
            None,
            false,
        )
        .unwrap();
    told(&mut s.org.v, hidden, "partner-orgs", "Second account");
    let preview = s.org.v.partner_preview("P", None).unwrap();
    let how = preview
        .going
        .iter()
        .find(|l| l.record == hidden)
        .and_then(|l| l.going);
    assert_eq!(how, Some(Going::Unchanged), "{preview:?}");
    s.send(None);
    assert!(!s.partner_finds("Erlan") && s.partner_finds("Second"));

    // Someone this partner knows by name tells a story to be published anonymised: it stays.
    let named = add_person(&mut s.org.v, "Aliya Known");
    told(&mut s.org.v, named, "publish-named", "Told by name");
    s.send(None);
    let anon = told(
        &mut s.org.v,
        named,
        "publish-anonymised",
        "Told without a name",
    );
    let preview = s.org.v.partner_preview("P", None).unwrap();
    let why = preview
        .withheld
        .iter()
        .find(|l| l.record == anon)
        .and_then(|l| l.reason);
    assert_eq!(why, Some(Withheld::ToldAnonymouslyNamedHere));
    assert!(!preview.has_news());
}

#[test]
fn people_only_a_withheld_testimony_names_stay_and_a_conflict_stops_the_bundle() {
    let mut s = Setup::new();
    let witness = add_person(&mut s.org.v, "Witness Purged");
    let victim = add_person(&mut s.org.v, "Victim Onlyhere");
    let t = add(
        &mut s.org.v,
        Kind::Testimony,
        serde_json::json!({"witness": witness, "narrative": "n",
        "consent": {"given": true, "scope": "partner-orgs"}, "events": [{"type": "disappearance", "victims": [victim]}]}),
    );
    s.org.v.purge(witness, "asked").unwrap();
    let preview = s.org.v.partner_preview("P", Some(&[t])).unwrap();
    assert!(preview.going.is_empty(), "{preview:?}");
    assert!(!preview.has_news());

    let p = add_person(&mut s.org.v, "Two Versions");
    let base = s.org.v.get(p).unwrap().heads[0].id.clone();
    s.org
        .v
        .edit(p, br#"{"notes": "one"}"#, None, false)
        .unwrap();
    s.org
        .v
        .edit(p, br#"{"notes": "two"}"#, Some(base), false)
        .unwrap();
    let t2 = told(&mut s.org.v, p, "partner-orgs", "n");
    let e = s.org.v.partner_preview("P", Some(&[t2])).unwrap_err();
    assert!(e.to_string().contains("conflicting versions"), "{e}");
}

#[test]
fn a_partner_removed_and_added_again_keeps_its_ids_and_withdrawals_still_reach_it() {
    let mut s = Setup::new();
    let p = add_person(&mut s.org.v, "Dina Kept");
    let t = told(&mut s.org.v, p, "partner-orgs", "Kept account");
    s.send(None);
    let key = s.org.v.partners().unwrap()[0].recipient.clone();
    let ok = confirmed(&mut s.org.v);
    s.org.v.remove_partner("P", ok).unwrap();
    assert!(s.org.v.partners().unwrap().is_empty());
    assert!(s.org.v.partner_preview("P", None).is_err());
    add_partner(&mut s.org.v, &key, "P");
    let preview = s.org.v.partner_preview("P", None).unwrap();
    assert!(
        preview
            .going
            .iter()
            .all(|l| l.going == Some(Going::Unchanged)),
        "{preview:?}"
    );
    s.org
        .v
        .edit(
            t,
            br#"{"consent": {"given": true, "scope": "partner-orgs", "withdrawn_at": "2026"}}"#,
            None,
            false,
        )
        .unwrap();
    s.send(None);
    assert!(!s.partner_finds("Kept"));
}

#[test]
fn a_merge_of_a_named_person_and_a_pseudonym_or_a_burned_victim_withdraws_what_names_them() {
    let mut s = Setup::new();
    let named = add_person(&mut s.org.v, "Bolat Named");
    let hidden = add(
        &mut s.org.v,
        Kind::Person,
        serde_json::json!({"names": [{"value": "Bolat Hidden"}], "anonymise_in_exports_to_partners": true}),
    );
    let by_named = told(&mut s.org.v, named, "partner-orgs", "Told by name");
    let by_hidden = told(&mut s.org.v, hidden, "partner-orgs", "Told hidden");
    s.send(None);
    // Found to be one person: the pseudonym and the name must not meet in the partner's copy.
    s.org.v.merge_people(hidden, named).unwrap();
    let preview = s.org.v.partner_preview("P", None).unwrap();
    let withdrawn: Vec<RecordId> = preview.withdrawn.iter().map(|l| l.record).collect();
    for id in [by_named, by_hidden, named, hidden] {
        assert!(withdrawn.contains(&id), "{id} withdrawn: {preview:?}");
    }
    assert!(preview.going.is_empty(), "{preview:?}");
    s.send(None);
    assert!(!s.partner_finds("Bolat") && !s.partner_finds("Told"));

    // A victim named to this partner and then anonymised: the testimony naming them goes too.
    let victim = add_person(&mut s.org.v, "Murat Victim");
    let w = add_person(&mut s.org.v, "Witness Other");
    let about = add(
        &mut s.org.v,
        Kind::Testimony,
        serde_json::json!({"witness": w, "narrative": "About Murat",
        "consent": {"given": true, "scope": "partner-orgs"}, "events": [{"type": "detention", "victims": [victim]}]}),
    );
    s.send(None);
    s.org
        .v
        .edit(
            victim,
            br#"{"anonymise_in_exports_to_partners": true}"#,
            None,
            false,
        )
        .unwrap();
    let preview = s.org.v.partner_preview("P", None).unwrap();
    let why = preview
        .withdrawn
        .iter()
        .find(|l| l.record == about)
        .and_then(|l| l.reason);
    assert_eq!(why, Some(Withheld::AnonymisedAfterNamed), "{preview:?}");
    s.send(None);
    assert!(!s.partner_finds("Murat"));
}
