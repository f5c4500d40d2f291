//! Destroying content (consent withdrawn, a court order): a purge nulls the data of the
//! revisions it names, removes drafts of the record, and deletes attachments nothing else refers
//! to. The purge marker itself is an ordinary revision (`crate::revision::PURGE_KEY`).
//!
//! A purge wins: once a record has a marker, every revision of it that is not a marker — the
//! ones the marker names, and any other, present or arriving later from another caseworker who
//! edited before the purge reached them — is kept without content ([`apply_all`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use super::blobs;
use crate::error::Result;
use crate::model::RecordId;

/// Destroys the content of `revisions` of `record` and the attachments `blobs` that nothing
/// else still refers to, inside `tx`. Their files are listed as doomed, to be removed once
/// `tx` commits ([`finish`]) or, failing that, at the next unlock ([`remove_doomed`]).
pub(crate) fn apply(
    tx: &Connection,
    record: RecordId,
    revisions: &[String],
    blobs: &BTreeSet<String>,
) -> Result<()> {
    let rid = record.to_string();
    // Copies kept before a schema update may hold what is purged: they go when this commits.
    super::backups::doom(tx, "main")?;
    super::drafts::remove_for_record(tx, &rid)?;
    super::recordings::remove_for_record(tx, &rid)?;
    for r in revisions {
        tx.prepare_cached(
            "UPDATE revisions SET data = NULL, purged = 1 WHERE id = ?1 AND record = ?2 \
             AND (data IS NULL OR json_extract(data, '$.kuager_purge') IS NULL)",
        )?
        .execute(params![r, rid])?;
    }
    for b in blobs {
        // Another record may hold the same file (attachments are stored once per content).
        let still_used: bool = tx
            .prepare_cached(
                "SELECT 1 FROM revisions WHERE purged = 0 AND instr(data, ?1) > 0 \
                 AND json_extract(data, '$.kuager_purge') IS NULL LIMIT 1",
            )?
            .query_row([b], |_| Ok(()))
            .optional()?
            .is_some();
        if still_used {
            continue;
        }
        if let Some(f) = blobs::file_of(tx, b)? {
            tx.prepare_cached("DELETE FROM blobs WHERE sha256 = ?1")?
                .execute([b])?;
            tx.prepare_cached("INSERT OR IGNORE INTO doomed_files(file) VALUES (?1)")?
                .execute([f])?;
        }
    }
    Ok(())
}

/// Whether record `id` has a purge marker among its revisions.
pub(crate) fn is_purged(c: &Connection, id: RecordId) -> Result<bool> {
    if super::kind_of(c, &id.to_string())?.is_none() {
        return Ok(false);
    }
    Ok(super::revisions::ancestry(c, id)?.iter().any(|r| {
        r.data
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .is_some_and(|d| crate::revision::is_purge_marker(&d))
    }))
}

/// Destroys the content of every revision of `record` but its purge markers, and the
/// attachments they name that nothing else refers to (as [`apply`]).
pub(crate) fn apply_all(tx: &Connection, record: RecordId) -> Result<()> {
    let mut revisions = Vec::new();
    let mut blobs = BTreeSet::new();
    for r in super::revisions::ancestry(tx, record)? {
        if let Some(d) = r.data.as_deref() {
            let v: serde_json::Value = serde_json::from_str(d).unwrap_or_default();
            if crate::revision::is_purge_marker(&v) {
                continue;
            }
            blobs.extend(crate::model::attachment_blobs(&v).map(str::to_owned));
        }
        revisions.push(r.id);
    }
    apply(tx, record, &revisions, &blobs)
}

/// After a purge commits: remove the doomed attachment files and the backups (doomed too; the
/// second call says why if they could not be removed), merge the full-text index so
/// deleted terms leave its segments, and checkpoint the WAL so old page images leave it too.
pub(crate) fn finish(conn: &Connection, dir: &Path) -> Result<()> {
    remove_doomed(conn, dir)?;
    // Copies kept before a schema update may hold what was just purged.
    super::backups::remove_all(dir)?;
    conn.execute("INSERT INTO fts(fts) VALUES ('optimize')", [])?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Removes every doomed attachment file that can be removed now, and forgets it; the others
/// stay listed for the next unlock. Under the database's write lock, so that another program
/// on the same vault adopting a file it just wrote ([`adopt`]) sees either the file or its
/// absence, never a file removed behind its back.
pub(crate) fn remove_doomed(conn: &Connection, dir: &Path) -> Result<()> {
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let doomed: Vec<String> = super::collect(
        tx.prepare_cached("SELECT file FROM doomed_files")?
            .query_map([], |r| r.get(0))?,
    )?;
    for f in doomed {
        let gone = if f == super::backups::DOOMED {
            super::backups::remove_all(dir).is_ok()
        } else {
            match fs::remove_file(dir.join(&f)) {
                Ok(()) => true,
                Err(e) => e.kind() == std::io::ErrorKind::NotFound,
            }
        };
        if gone {
            tx.prepare_cached("DELETE FROM doomed_files WHERE file = ?1")?
                .execute([&f])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Notes a new attachment file as not yet part of the vault, before it takes its name: if the
/// save that writes it never commits (a crash, a kill), the next unlock removes it.
pub(crate) fn expect_file(conn: &Connection, file: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO doomed_files(file) VALUES (?1)")?
        .execute([file])?;
    Ok(())
}

/// Forgets a file noted by [`expect_file`] that its save removed itself (it did not become part
/// of the vault).
pub(crate) fn forget_file(conn: &Connection, file: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM doomed_files WHERE file = ?1")?
        .execute([file])?;
    Ok(())
}

/// Makes a file noted by [`expect_file`] part of the vault, inside the transaction that refers
/// to it. Fails if the file is gone (another program's unlock removed it meanwhile): the save
/// then fails whole, rather than referring to nothing.
pub(crate) fn adopt(tx: &Connection, dir: &Path, file: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM doomed_files WHERE file = ?1")?
        .execute([file])?;
    if !dir.join(file).is_file() {
        return Err(crate::error::Error::Io {
            context:
                "keeping an attachment (its file was removed while it was saved: add it again)"
                    .into(),
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The list of attachment files not (yet) part of the vault, on a database of its own.
    use super::*;

    const FILE: &str = "blobs/ab/new-file";

    fn vault_like() -> (tempfile::TempDir, Connection) {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("blobs/ab")).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&conn).unwrap();
        (t, conn)
    }

    fn listed(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM doomed_files", [], |r| r.get(0))
            .unwrap()
    }

    /// A save that wrote its file and died before its commit leaves a file the next unlock
    /// removes.
    #[test]
    fn an_expected_file_never_adopted_is_removed_at_the_next_unlock() {
        let (t, conn) = vault_like();
        expect_file(&conn, FILE).unwrap();
        fs::write(t.path().join(FILE), b"ciphertext").unwrap();
        // (the process dies here)
        remove_doomed(&conn, t.path()).unwrap();
        assert!(!t.path().join(FILE).exists(), "the stray file stayed");
        assert_eq!(listed(&conn), 0);
    }

    /// A file its save made part of the vault is never removed.
    #[test]
    fn an_adopted_file_stays() {
        let (t, conn) = vault_like();
        expect_file(&conn, FILE).unwrap();
        fs::write(t.path().join(FILE), b"ciphertext").unwrap();
        adopt(&conn, t.path(), FILE).unwrap();
        remove_doomed(&conn, t.path()).unwrap();
        assert!(
            t.path().join(FILE).exists(),
            "an attachment of the vault was removed"
        );
        assert_eq!(listed(&conn), 0);
    }

    /// A save whose file was removed meanwhile fails rather than refer to nothing.
    #[test]
    fn adopting_a_file_that_is_gone_fails() {
        let (t, conn) = vault_like();
        expect_file(&conn, FILE).unwrap();
        assert!(adopt(&conn, t.path(), FILE).is_err());
    }

    /// A purge that committed and died before removing the backups leaves them to the next
    /// unlock; a `backups` that is a link is never emptied, and stays listed.
    #[test]
    fn backups_doomed_by_a_purge_are_removed_at_the_next_unlock_never_through_a_link() {
        let (t, conn) = vault_like();
        let backup = crate::store::backups::path(t.path(), 12);
        fs::create_dir_all(backup.parent().unwrap()).unwrap();
        fs::write(&backup, b"old pages").unwrap();
        let tx = Transaction::new_unchecked(&conn, TransactionBehavior::Immediate).unwrap();
        apply(&tx, RecordId::new(), &[], &BTreeSet::new()).unwrap();
        tx.commit().unwrap();
        // (the process dies here, before `finish`)
        assert_eq!(listed(&conn), 1);
        remove_doomed(&conn, t.path()).unwrap();
        assert!(
            !backup.exists(),
            "a copy that may hold the purged record stayed"
        );
        assert_eq!(listed(&conn), 0);

        let elsewhere = tempfile::tempdir().unwrap();
        let theirs = elsewhere.path().join("vault-schema-12.db");
        fs::write(&theirs, b"someone else's").unwrap();
        fs::remove_dir_all(t.path().join("backups")).ok();
        std::os::unix::fs::symlink(elsewhere.path(), t.path().join("backups")).unwrap();
        crate::store::backups::doom(&conn, "main").unwrap();
        remove_doomed(&conn, t.path()).unwrap();
        assert!(
            theirs.exists(),
            "a purge emptied a folder a link pointed to"
        );
        assert_eq!(listed(&conn), 1);
    }

    /// A file its save removed itself leaves the list (which would otherwise only grow).
    #[test]
    fn a_file_removed_by_its_save_is_forgotten() {
        let (_t, conn) = vault_like();
        expect_file(&conn, FILE).unwrap();
        expect_file(&conn, "blobs/ab/other").unwrap();
        assert_eq!(listed(&conn), 2);
        forget_file(&conn, FILE).unwrap();
        assert_eq!(listed(&conn), 1);
    }
}
