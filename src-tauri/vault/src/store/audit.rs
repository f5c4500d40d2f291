//! The append-only, hash-chained audit log (docs/architecture.md "The audit log").
//!
//! Each event is a JSON object `{seq, at, device, type, …}` with no record content (ids, kinds,
//! counts only). Its hash is `SHA-256(previous hash in hex ‖ RFC 8785 canonical JSON of the
//! event)`; the first event chains from 64 zeros. Removing, reordering or editing any event
//! breaks every hash after it, which `verify` reports.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The hash the first event chains from.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event as stored.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event object (`type`, `at`, `device`, details).
    pub event: serde_json::Value,
    /// Chain hash after this event.
    pub hash: String,
}

pub(crate) fn chain_hash(prev: &str, event: &serde_json::Value) -> Result<String> {
    let canon = crate::revision::canonical_json(event)?;
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(&canon);
    Ok(hex::encode(h.finalize()))
}

/// Appends an event of `kind` with `details` (an object) to the chain.
pub(crate) fn append(
    conn: &Connection,
    device: &str,
    at: &str,
    kind: &str,
    details: serde_json::Value,
) -> Result<()> {
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = match last {
        Some((s, h)) => (s + 1, h),
        None => (1, GENESIS.to_owned()),
    };
    let mut event = serde_json::json!({ "seq": seq, "at": at, "device": device, "type": kind });
    if let (Some(obj), serde_json::Value::Object(extra)) = (event.as_object_mut(), details) {
        for (k, v) in extra {
            obj.entry(k).or_insert(v);
        }
    }
    let hash = chain_hash(&prev, &event)?;
    let text = String::from_utf8(crate::revision::canonical_json(&event)?).expect("JSON is UTF-8");
    conn.prepare_cached("INSERT INTO audit(seq, event, hash) VALUES (?1, ?2, ?3)")?
        .execute(params![seq, text, hash])?;
    Ok(())
}

/// All events, oldest first.
pub(crate) fn all(conn: &Connection) -> Result<Vec<AuditEvent>> {
    let mut st = conn.prepare("SELECT seq, event, hash FROM audit ORDER BY seq")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, text, hash) = row?;
        let event = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        out.push(AuditEvent { seq, event, hash });
    }
    Ok(out)
}

/// Checks the chain; returns the number of events or a description of the first break.
pub(crate) fn verify(conn: &Connection) -> Result<std::result::Result<usize, String>> {
    let mut prev = GENESIS.to_owned();
    let mut n = 0usize;
    for (i, ev) in all(conn)?.into_iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if ev.seq != expected_seq || ev.event.get("seq").and_then(|s| s.as_i64()) != Some(ev.seq) {
            return Ok(Err(format!(
                "audit log: event {expected_seq} is missing or out of order"
            )));
        }
        let h = chain_hash(&prev, &ev.event)?;
        if h != ev.hash {
            return Ok(Err(format!(
                "audit log: event {} does not match its hash (edited or removed events)",
                ev.seq
            )));
        }
        prev = h;
        n += 1;
    }
    Ok(Ok(n))
}
