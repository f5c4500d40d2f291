//! The schema and its migrations, in version order: version 1 first, each later version as the
//! statements that take a vault from the one before to it. A vault is migrated on unlock, in
//! one transaction with the version bump.

use std::path::Path;

use rusqlite::Connection;

use crate::crypto::keys::VaultSecrets;
use crate::error::{Error, Result};

/// Schema version this build writes.
pub const SCHEMA_VERSION: i64 = 13;

/// Version 1: records with their current heads, revisions, attachment files, the audit chain,
/// and the search keys and full-text index (see `crate::index`).
const SCHEMA_V1: &str = r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('person','testimony','attempt','case')),
    created_at TEXT NOT NULL,
    heads TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE revisions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    record TEXT NOT NULL REFERENCES records(id),
    parents TEXT NOT NULL,
    device TEXT NOT NULL,
    at TEXT NOT NULL,
    data TEXT,
    purged INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    file TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    added_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE name_keys (key TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (key, record)) WITHOUT ROWID;
CREATE INDEX name_keys_record ON name_keys(record);
CREATE TABLE number_keys (key TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (key, record)) WITHOUT ROWID;
CREATE INDEX number_keys_record ON number_keys(record);
CREATE TABLE fts_rows (rowid INTEGER PRIMARY KEY, record TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE fts USING fts5(body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
"#;

/// Version 2: the organisation's recipients and what was already exported to them
/// (docs/bundle-format.md "Incremental export").
const SCHEMA_V2: &str = r#"
CREATE TABLE recipients (recipient TEXT PRIMARY KEY, label TEXT, added_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE export_cursors (
    recipients_key TEXT PRIMARY KEY,
    revision_seq INTEGER NOT NULL,
    audit_seq INTEGER NOT NULL,
    at TEXT NOT NULL
) WITHOUT ROWID;
"#;

/// Version 3: the coordinator side — organisation identities (their secret keys live only inside
/// this encrypted database), trusted caseworker device keys, and the bundles imported.
const SCHEMA_V3: &str = r#"
CREATE TABLE identities (recipient TEXT PRIMARY KEY, secret TEXT NOT NULL, label TEXT, added_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE trusted_devices (public_key TEXT PRIMARY KEY, label TEXT NOT NULL, added_at TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE imports (bundle_id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, signer TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;
"#;

/// Version 4: the size of each imported file, so a re-import is recognised without hashing
/// every new bundle twice (older rows have none and are always compared by hash).
const SCHEMA_V4: &str = "ALTER TABLE imports ADD COLUMN size INTEGER;";

/// Version 5: drafts of text being typed (the app saves them as the user types, so a crash or a
/// lock loses nothing). Not revisions: never exported, removed on save, discard or purge.
const SCHEMA_V5: &str = "CREATE TABLE drafts (key TEXT PRIMARY KEY, record TEXT, body TEXT NOT NULL, at TEXT NOT NULL) WITHOUT ROWID;";

/// Version 6: records by kind, newest first — the app's lists page through one kind at a time
/// (at 100,000 records a page no longer scans the whole table, nor does its count).
const SCHEMA_V6: &str = "CREATE INDEX records_kind ON records(kind, id);";

/// Version 7: which record refers to which (a person's testimonies, attempts, relatives and
/// cases are found without reading every record), kept with the name and number keys on every
/// save; filled by [`backfill_refs`] from the current versions of the records already stored.
const SCHEMA_V7: &str = r#"
CREATE TABLE refs (target TEXT NOT NULL, record TEXT NOT NULL, PRIMARY KEY (target, record)) WITHOUT ROWID;
CREATE INDEX refs_record ON refs(record);
"#;

/// Version 8: attachment files whose content a purge destroyed, listed in the purge's own
/// transaction and removed after it commits; what could not be removed then (the process
/// died, another program held the file open) is removed at the next unlock.
const SCHEMA_V8: &str = "CREATE TABLE doomed_files (file TEXT PRIMARY KEY) WITHOUT ROWID;";

/// Version 10: a revoked device stays known as revoked (its later bundles are refused, even when
/// asked to trust their signer), and each import counts the records it brought, for the
/// coordinator's list of devices.
const SCHEMA_V10: &str = "ALTER TABLE trusted_devices ADD COLUMN revoked_at TEXT;
ALTER TABLE imports ADD COLUMN records INTEGER;";

/// Version 11: the person a person was merged into (docs/design-notes.md "Duplicate people"),
/// read from its current version by every save and import (`crate::index`), so lists can leave
/// merged people out and an id can be followed to the person it now is; and every merge any
/// revision ever stated (`merge_links`), so a purge finds every copy a merge made, even one
/// undone since. Nothing before this version could be merged, so there is nothing to fill in.
fn add_merged_into(tx: &Connection) -> Result<()> {
    let has: bool = tx.query_row(
        "SELECT count(*) FROM pragma_table_info('records') WHERE name = 'merged_into'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        tx.execute_batch("ALTER TABLE records ADD COLUMN merged_into TEXT;")?;
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS records_merged_into ON records(merged_into) WHERE merged_into IS NOT NULL;
         CREATE TABLE IF NOT EXISTS merge_links (absorbed TEXT NOT NULL, survivor TEXT NOT NULL, via TEXT NOT NULL,
             PRIMARY KEY (absorbed, survivor, via)) WITHOUT ROWID;
         CREATE INDEX IF NOT EXISTS merge_links_survivor ON merge_links(survivor);",
    )?;
    Ok(())
}

/// Version 12 (with `super::partners::SCHEMA_V12`): the facts dashboards count, kept by every
/// save (`crate::index`, `facts.rs`), and the revisions each device wrote, per month, for
/// caseworker activity (kept by `super::revisions::insert`).
/// `IF NOT EXISTS`, run at every open: a development vault at 12 without them gets them.
const FACTS_V12: &str = r#"
CREATE TABLE IF NOT EXISTS attempt_facts (
    record TEXT PRIMARY KEY,
    person TEXT NOT NULL,
    submitted TEXT NOT NULL,
    channel TEXT,
    request TEXT,
    outcome TEXT,
    waiting INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attempt_facts_person ON attempt_facts(person, submitted);
CREATE TABLE IF NOT EXISTS event_facts (
    record TEXT NOT NULL,
    n INTEGER NOT NULL,
    type TEXT NOT NULL,
    year INTEGER,
    region TEXT NOT NULL,
    facility TEXT,
    PRIMARY KEY (record, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_facts_type ON event_facts(type, record);
CREATE TABLE IF NOT EXISTS activity (
    device TEXT NOT NULL,
    month TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (device, month)
) WITHOUT ROWID;
DROP INDEX IF EXISTS revisions_device_at;
"#;

/// Devices untrusted before schema 10 lost their row; the audit log kept each trust and
/// untrust. A device whose last such event is an untrust comes back as revoked (at that
/// event's time), so that the upgrade does not make it trustable again.
fn remember_untrusted(tx: &Connection) -> Result<()> {
    let events: Vec<(String, String, String, Option<String>)> = super::collect(
        tx.prepare(
            "SELECT json_extract(event, '$.type'), json_extract(event, '$.key'), \
                    json_extract(event, '$.at'), json_extract(event, '$.label') \
             FROM audit WHERE json_extract(event, '$.type') IN ('device_trusted', 'device_untrusted') \
             ORDER BY seq",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?,
    )?;
    let mut last: std::collections::BTreeMap<String, (bool, String, Option<String>)> =
        Default::default();
    for (kind, key, at, label) in events {
        let label = label.or_else(|| last.get(&key).and_then(|(_, _, l)| l.clone()));
        last.insert(key, (kind == "device_untrusted", at, label));
    }
    for (key, (untrusted, at, label)) in last {
        if untrusted {
            tx.execute(
                "INSERT OR IGNORE INTO trusted_devices(public_key, label, added_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?3)",
                rusqlite::params![key, label.unwrap_or_else(|| "revoked device".into()), at],
            )?;
        }
    }
    Ok(())
}

/// Opens (and on first use creates) the database with the vault key and our settings.
/// `alone` is called before an older database is copied and updated: it must make sure no
/// other program uses the vault meanwhile (a write between the copy and the update would tear
/// the copy, and an older program would go on writing a schema it does not know).
pub(crate) fn open(
    path: &Path,
    secrets: &VaultSecrets,
    alone: impl FnOnce() -> Result<()>,
) -> Result<Connection> {
    let conn = super::open_file(path)?;
    // SQLCipher's `cipher_memory_security` (wipe and lock every allocation SQLite frees) stays
    // off: measured, it made full-text search 250 times slower at 100,000 testimonies
    // (docs/benchmarks.md, "Memory security"). Keys live in locked, wiped memory of our own.
    let key = secrets.sqlcipher_key_statement();
    conn.execute_batch(key.as_str()).map_err(Error::Db)?;
    drop(key);
    // Any read proves the key; a wrong key reports "file is not a database".
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
        .map_err(|_| Error::Format {
            path: path.to_owned(),
            reason: "the database does not open with the key in the keyslot: it is damaged or belongs to another vault".into(),
        })?;
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA secure_delete = ON;
         PRAGMA foreign_keys = ON;
         PRAGMA cache_size = -16384;",
    )?;
    // Every statement a save runs stays prepared (rusqlite keeps 16 by default; we use more)…
    conn.set_prepared_statement_cache_capacity(64);
    // …and stays valid: without the query-planner stability guarantee SQLite marks statements
    // whose plan could depend on a bound value for re-preparation whenever their bindings are
    // cleared, so every cached statement was re-parsed on each use (a third of a save's CPU).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // An older database is copied whole (encrypted as it is) before its update; the update is
    // one transaction, so a failure leaves it as it was (`super::backups`).
    let from = stored_version(&conn)?;
    let backup = if from > 0 && from < SCHEMA_VERSION {
        alone()?;
        // Backups a purge or a rotation left to remove go first: they, not this one, are meant.
        super::backups::settle(
            &conn,
            path.parent().expect("the database is in the vault folder"),
        )?;
        Some(super::backups::before_upgrade(&conn, path, from)?)
    } else {
        None
    };
    migrate(&conn).map_err(|e| match backup {
        Some(backup) => Error::Upgrade {
            from,
            to: SCHEMA_VERSION,
            backup,
            reason: e.to_string(),
        },
        None => e,
    })?;
    Ok(conn)
}

/// The schema the database is at (0: a new, empty database).
fn stored_version(conn: &Connection) -> Result<i64> {
    let has_meta: bool = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has_meta {
        return Ok(0);
    }
    Ok(conn
        .query_row(
            "SELECT value FROM meta WHERE key='schema_version'",
            [],
            |r| r.get::<_, String>(0),
        )?
        .parse()
        .unwrap_or(0))
}

/// Creates or updates the tables (`pub(super)`: the store's unit tests build a database with it).
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version = stored_version(conn)?;
    if version > SCHEMA_VERSION {
        return Err(Error::Format {
            path: "vault.db".into(),
            reason: format!(
                "written by a newer Kuager (schema {version}): update Kuager to open it"
            ),
        });
    }
    if version < SCHEMA_VERSION {
        // Each step in one transaction with the version bump: a crash leaves the old or new.
        let tx = conn.unchecked_transaction()?;
        if version < 1 {
            tx.execute_batch(SCHEMA_V1)?;
            tx.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', '1'), ('fts_seq', '0')",
                [],
            )?;
        }
        if version < 2 {
            tx.execute_batch(SCHEMA_V2)?;
        }
        if version < 3 {
            tx.execute_batch(SCHEMA_V3)?;
        }
        if version < 4 {
            tx.execute_batch(SCHEMA_V4)?;
        }
        if version < 5 {
            tx.execute_batch(SCHEMA_V5)?;
        }
        if version < 6 {
            tx.execute_batch(SCHEMA_V6)?;
        }
        if version < 7 {
            tx.execute_batch(SCHEMA_V7)?;
            backfill_refs(&tx)?;
        }
        if version < 8 {
            tx.execute_batch(SCHEMA_V8)?;
        }
        if version < 9 {
            add_payload_hashes(&tx)?;
        }
        if version < 10 {
            tx.execute_batch(SCHEMA_V10)?;
            remember_untrusted(&tx)?;
        }
        if version < 11 {
            add_merged_into(&tx)?;
        }
        if version < 12 {
            // Partner organisations and what was sent to each (`super::partners`), and the
            // device id of each bundle imported (whose work the dashboards count).
            tx.execute_batch(super::partners::SCHEMA_V12)?;
            let has: bool = tx.query_row(
                "SELECT count(*) FROM pragma_table_info('imports') WHERE name = 'device_id'",
                [],
                |r| r.get::<_, i64>(0).map(|n| n > 0),
            )?;
            if !has {
                tx.execute_batch("ALTER TABLE imports ADD COLUMN device_id TEXT;")?;
            }
        }
        if version < 13 {
            // Recordings in progress (`super::recordings`).
            tx.execute_batch(super::recordings::SCHEMA_V13)?;
        }
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
            [SCHEMA_VERSION.to_string()],
        )?;
        tx.commit()?;
    }
    // Idempotent: a vault written by a development build at version 11 before its last table.
    add_merged_into(conn)?;
    conn.execute_batch(FACTS_V12)?;
    Ok(())
}

/// Version 9: each attachment file's payload SHA-256 (what a format-2 bundle binds it by,
/// docs/bundle-format.md). Empty for files stored before: computed once, at their first export
/// (`crate::store::blobs::payload_of`'s callers).
fn add_payload_hashes(tx: &Connection) -> Result<()> {
    let has: bool = tx.query_row(
        "SELECT count(*) FROM pragma_table_info('blobs') WHERE name = 'payload_sha256'",
        [],
        |r| r.get::<_, i64>(0).map(|n| n > 0),
    )?;
    if !has {
        tx.execute_batch("ALTER TABLE blobs ADD COLUMN payload_sha256 TEXT;")?;
    }
    Ok(())
}

/// One pass over the current version(s) of every record, with the same reading of references
/// as every save ([`crate::model::references_in`]). 220,000 records: 4.8 s, once, inside the
/// first unlock after the upgrade.
fn backfill_refs(tx: &Connection) -> Result<()> {
    let mut read = tx.prepare(
        "SELECT r.id, r.kind, v.data FROM records r \
         JOIN json_each(r.heads) h JOIN revisions v ON v.id = h.value \
         WHERE v.data IS NOT NULL",
    )?;
    let mut write = tx.prepare("INSERT OR IGNORE INTO refs(target, record) VALUES (?1, ?2)")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let kind: crate::model::Kind = row.get::<_, String>(1)?.parse()?;
        // A version that does not parse is damage `verify` reports; it must not keep the vault
        // from opening, and it refers to nothing we can read.
        let text: String = row.get(2)?;
        let Ok(data) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        if crate::revision::is_purge_marker(&data) {
            continue;
        }
        for target in crate::model::references_in(kind, &data) {
            write.execute([&target, &id])?;
        }
    }
    Ok(())
}
