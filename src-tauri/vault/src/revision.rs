//! Revisions: the unit of history (docs/architecture.md "Records and revisions").
//!
//! A revision's id is the SHA-256 of the RFC 8785 canonical JSON of
//! `{at, data, device, kind, parents, record}` — the revision without its id — so history is a
//! hash-linked DAG and any change to a stored revision is detectable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::{Kind, RecordId};

/// A revision id: 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RevisionId(String);

impl RevisionId {
    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 12 hex digits, for display.
    pub fn short(&self) -> &str {
        &self.0[..12]
    }
}

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RevisionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(RevisionId(s.to_owned()))
        } else {
            Err(Error::BadId(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<String> for RevisionId {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
            .map_err(|_| format!("{s:?} is not a revision id (64 hex digits)"))
    }
}

impl From<RevisionId> for String {
    fn from(r: RevisionId) -> String {
        r.0
    }
}

/// One revision of a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// SHA-256 of the canonical JSON of the other fields.
    pub id: RevisionId,
    /// The record it belongs to.
    pub record: RecordId,
    /// The record's kind.
    pub kind: Kind,
    /// The revisions it replaces (none for the first; two or more for a merge).
    pub parents: Vec<RevisionId>,
    /// The device (vault) that wrote it.
    pub device: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The record's data; `None` once purged.
    pub data: Option<serde_json::Value>,
}

/// Computes a revision id from its parts.
pub fn compute_id(
    record: &RecordId,
    kind: Kind,
    parents: &[RevisionId],
    device: &str,
    at: &str,
    data: &serde_json::Value,
) -> Result<RevisionId> {
    let body = serde_json::json!({
        "at": at,
        "data": data,
        "device": device,
        "kind": kind,
        "parents": parents,
        "record": record,
    });
    let canon = canonical_json(&body)?;
    Ok(RevisionId(hex::encode(Sha256::digest(&canon))))
}

/// RFC 8785 (JCS) canonical JSON of a value, as `serde_jcs` writes it.
///
/// For the common case — every object key ASCII, every number an integer — that is exactly
/// what `serde_json` writes for a `Value` (its maps are sorted, its escapes are JCS's, and
/// `serde_jcs` writes an integer digit for digit, as `serde_json` does), and several times faster
/// than the general JCS serializer; a revision is hashed on every save. Anything else (a
/// fraction, a non-ASCII key, whose order JCS takes from UTF-16) goes through `serde_jcs`.
/// docs/design-notes.md "Canonical JSON fast path" says how integers beyond 2^53 are written.
pub fn canonical_json(v: &serde_json::Value) -> Result<Vec<u8>> {
    fn simple(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => !n.is_f64(),
            serde_json::Value::Array(a) => a.iter().all(simple),
            serde_json::Value::Object(o) => o.iter().all(|(k, x)| k.is_ascii() && simple(x)),
            _ => true,
        }
    }
    if simple(v) {
        serde_json::to_vec(v).map_err(|e| Error::invalid("", e.to_string()))
    } else {
        serde_jcs::to_vec(v).map_err(|e| Error::invalid("", e.to_string()))
    }
}

impl Revision {
    /// Builds a revision and computes its id.
    pub fn new(
        record: RecordId,
        kind: Kind,
        parents: Vec<RevisionId>,
        device: String,
        at: String,
        data: serde_json::Value,
    ) -> Result<Self> {
        let id = compute_id(&record, kind, &parents, &device, &at, &data)?;
        Ok(Revision {
            id,
            record,
            kind,
            parents,
            device,
            at,
            data: Some(data),
        })
    }

    /// Whether the id matches the content (`None` when purged: nothing to check against).
    pub fn id_matches(&self) -> Option<bool> {
        let data = self.data.as_ref()?;
        Some(
            compute_id(
                &self.record,
                self.kind,
                &self.parents,
                &self.device,
                &self.at,
                data,
            )
            .is_ok_and(|id| id == self.id),
        )
    }
}

/// The key of a purge marker's data: `{"kuager_purge": {"revisions": [...], "blobs": [...]}}`.
/// No record kind has this field, so no ordinary save can write one.
pub const PURGE_KEY: &str = "kuager_purge";

/// Whether revision data is a purge marker (docs/architecture.md "Purge").
pub fn is_purge_marker(data: &serde_json::Value) -> bool {
    data.as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key(PURGE_KEY))
}

/// The revisions and attachments a purge marker names.
pub fn purge_targets(data: &serde_json::Value) -> Option<(Vec<String>, Vec<String>)> {
    let p = data.get(PURGE_KEY)?;
    let list = |k: &str| -> Option<Vec<String>> {
        p.get(k)?
            .as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    Some((list("revisions")?, list("blobs")?))
}

/// The current time as RFC 3339 UTC with milliseconds (`2026-11-28T09:01:02.345Z`).
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let ms = t.millisecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        ms
    )
}

/// Applies an RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match patch {
        serde_json::Value::Object(p) => {
            if !target.is_object() {
                *target = serde_json::Value::Object(Default::default());
            }
            let t = target.as_object_mut().expect("just made an object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_changes_with_any_field() {
        let r = RecordId::new();
        let d = serde_json::json!({"names":[{"value":"Сенбай"}]});
        let a = compute_id(&r, Kind::Person, &[], "dev", "2026-01-01T00:00:00.000Z", &d).unwrap();
        let b = compute_id(&r, Kind::Person, &[], "dev", "2026-01-01T00:00:00.001Z", &d).unwrap();
        let d2 = serde_json::json!({"names":[{"value":"Сенбаи"}]});
        let c = compute_id(
            &r,
            Kind::Person,
            &[],
            "dev",
            "2026-01-01T00:00:00.000Z",
            &d2,
        )
        .unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.as_str().len(), 64);
    }

    #[test]
    fn canonical_json_fast_path_equals_serde_jcs() {
        let samples = [
            serde_json::json!({"z":1,"a":[{"b":"Сенбай \u{1F600} \u{0007} \"q\" \\ / \t"},null,true,-5]}),
            serde_json::json!({"narrative":"line\nbreak\u{2028}","size":9007199254740992u64,"n":-9007199254740992i64}),
            serde_json::json!({"é":1,"e":2,"\u{10000}":3,"\u{FB33}":4}),
            serde_json::json!({"x":1.5,"y":1e21,"big":9007199254740993u64}),
            // The same, inside arrays: the fast path must look into them too.
            serde_json::json!({"list":[{"\u{10000}":3,"\u{FB33}":4}]}),
            serde_json::json!([[1e21], [9007199254740993u64], [18446744073709551615u64]]),
            serde_json::json!({"min": i64::MIN, "max": u64::MAX, "half": 0.5, "neg": -1e-7}),
        ];
        for v in samples {
            assert_eq!(
                canonical_json(&v).unwrap(),
                serde_jcs::to_vec(&v).unwrap(),
                "{v}"
            );
        }
        // serde_jcs writes integers digit for digit, not rounded through a double as RFC 8785
        // would: revision ids have always been computed so (docs/design-notes.md).
        assert_eq!(
            canonical_json(&serde_json::json!([9007199254740993u64])).unwrap(),
            b"[9007199254740993]"
        );
    }

    /// A revision id is 64 lowercase hex digits, nothing else: a parent named by anything
    /// else is refused when a bundle is read, before any lookup.
    #[test]
    fn a_revision_id_is_exactly_64_lowercase_hex_digits() {
        let good = "0123456789abcdef".repeat(4);
        let id: RevisionId = format!("  {good}\n").parse().unwrap();
        assert_eq!(id.as_str(), good);
        assert_eq!(id.short(), &good[..12]);
        for bad in [
            good[..63].to_owned(),
            format!("{good}0"),
            good.to_uppercase(),
            format!("{}g", &good[..63]),
            "z".repeat(64),
            String::new(),
        ] {
            assert!(bad.parse::<RevisionId>().is_err(), "{bad:?} was taken");
            assert!(RevisionId::try_from(bad.clone()).is_err());
        }
    }

    /// Revisions and audit events are stamped with the time now, in one fixed form.
    #[test]
    fn now_is_the_time_now_in_rfc3339_with_milliseconds() {
        let before = time::OffsetDateTime::now_utc();
        let stamp = now();
        let after = time::OffsetDateTime::now_utc();
        assert_eq!(stamp.len(), "2026-11-28T09:01:02.345Z".len(), "{stamp}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[19] == b'.',
            "{stamp}"
        );
        let t = time::OffsetDateTime::parse(&stamp, &time::format_description::well_known::Rfc3339)
            .unwrap();
        let ms = |t: time::OffsetDateTime| t.unix_timestamp_nanos() / 1_000_000;
        assert!(ms(before) <= ms(t) && ms(t) <= ms(after), "{stamp}");
    }

    #[test]
    fn merge_patch_follows_rfc7396() {
        let mut t = serde_json::json!({"a":"b","c":{"d":"e","f":"g"}});
        merge_patch(&mut t, &serde_json::json!({"a":"z","c":{"f":null}}));
        assert_eq!(t, serde_json::json!({"a":"z","c":{"d":"e"}}));
    }
}
