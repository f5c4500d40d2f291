//! Step 5 of the rules (`super`): the partner's ids and pseudonyms.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use rusqlite::Connection;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::select::{person_now, Selection};
use crate::model::share::Ids;
use crate::model::RecordId;
use crate::store::partners::Sent;

/// Our ids → (the partner's, whether a pseudonym).
pub(super) type IdMap = BTreeMap<RecordId, (RecordId, bool)>;

/// How many times a record was withdrawn from the partner and may go again.
pub(super) fn generation(before: &BTreeMap<String, Sent>, id: RecordId) -> i64 {
    before
        .get(&id.to_string())
        .map_or(0, |s| s.generation + i64::from(s.withdrawn))
}

/// The partner's ids: `HMAC-SHA-256(secret, tag ‖ our id ‖ generation)`, shaped as a random
/// UUID. `tag` keeps a person's pseudonymous id apart from their named one.
pub(super) struct Derive {
    /// The partner's secret (`crate::store::partners`).
    pub secret: Zeroizing<Vec<u8>>,
}

impl Derive {
    fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("any key length");
        for p in parts {
            m.update(&(p.len() as u32).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }

    /// The partner's ids of everything that goes. A record withdrawn before comes back
    /// under a new id (its generation counts the withdrawals).
    pub fn map(&self, sel: &Selection, before: &BTreeMap<String, Sent>) -> IdMap {
        let mut map = BTreeMap::new();
        for (&id, &anon) in &sel.pseudonym {
            map.insert(id, (self.id(id, anon, generation(before, id)), anon));
        }
        for &id in sel.testimonies.keys().chain(sel.attempts.keys()) {
            map.insert(id, (self.id(id, false, generation(before, id)), false));
        }
        map
    }

    fn id(&self, ours: RecordId, pseudonym: bool, generation: i64) -> RecordId {
        let tag: &[u8] = if pseudonym { b"pseudonym" } else { b"record" };
        let h = self.mac(&[tag, ours.to_string().as_bytes(), &generation.to_be_bytes()]);
        let mut b = [0u8; 16];
        b.copy_from_slice(&h[..16]);
        RecordId::from_random_bytes(b)
    }

    /// A pseudonym's name: `ANON-` and eight letters and digits (no 0/O, 1/I).
    /// Its generation (withdrawals before) makes a person sent again a new pseudonym.
    pub fn name(&self, ours: RecordId, generation: i64) -> String {
        const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
        let h = self.mac(&[
            b"name",
            ours.to_string().as_bytes(),
            &generation.to_be_bytes(),
        ]);
        let s: String = h[..8]
            .iter()
            .map(|b| ALPHABET[usize::from(b % 32)] as char)
            .collect();
        format!("ANON-{s}")
    }
}

/// The ids of one bundle: ours → (theirs, pseudonym); an id merged into a person who goes
/// leads to that person.
pub(super) struct Resolving<'c> {
    pub conn: &'c Connection,
    pub map: &'c IdMap,
}

impl Resolving<'_> {
    fn get(&self, id: RecordId) -> Option<(RecordId, bool)> {
        self.map.get(&id).copied().or_else(|| {
            let now = person_now(self.conn, id).ok()?;
            self.map.get(&now).copied()
        })
    }
}

impl Ids for Resolving<'_> {
    fn out(&self, ours: RecordId) -> Option<RecordId> {
        self.get(ours).map(|x| x.0)
    }
    fn anonymised(&self, person: RecordId) -> bool {
        self.get(person).is_some_and(|x| x.1)
    }
}
