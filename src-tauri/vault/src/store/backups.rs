//! Copies of the database kept before a schema update (issue #15: an upgrade never costs a
//! record). When a newer Kuager opens a vault whose database has an older schema, the database
//! is copied whole into `backups/vault-schema-<N>.db` in the vault folder before anything in it
//! changes. The copy is the database file's own bytes: SQLCipher pages under the vault's key,
//! as encrypted as the vault itself, opened the same way (docs/recovery.md). The update then
//! runs in one transaction (`schema::migrate`): a failed update leaves the database as it was.
//!
//! A backup may hold what was later purged, and is encrypted under keys a rotation replaces:
//! a purge and a key rotation remove every backup ([`remove_all`]). Both note it inside the
//! transaction that commits them ([`doom`]: an entry of the doomed-files list), so that a crash
//! between their commit and the removal leaves the removal to the next unlock
//! (`purge::remove_doomed`), never a copy of what was purged.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::fsutil;

/// The folder of backups, in the vault folder.
pub(crate) const DIR: &str = "backups";

/// The doomed-files entry that stands for every backup (`purge::remove_doomed` removes them
/// with [`remove_all`]; no attachment file is named so).
pub(crate) const DOOMED: &str = "backups/";

/// Notes, inside `tx` (of `schema` `tx_schema`, `main` or an attached one), that every backup is
/// to be removed once it commits.
pub(crate) fn doom(tx: &Connection, tx_schema: &str) -> Result<()> {
    tx.execute(
        &format!("INSERT OR IGNORE INTO {tx_schema}.doomed_files(file) VALUES (?1)"),
        [DOOMED],
    )?;
    Ok(())
}

/// Removes the backups a purge or a rotation left to remove (a crash came before it could),
/// before an update makes a new one that the pending entry must not take with it.
pub(crate) fn settle(conn: &Connection, vault_dir: &Path) -> Result<()> {
    let pending: bool = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'doomed_files'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)?
        && conn
            .query_row(
                "SELECT count(*) FROM doomed_files WHERE file = ?1",
                [DOOMED],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)?;
    if pending {
        remove_all(vault_dir)?;
        conn.execute("DELETE FROM doomed_files WHERE file = ?1", [DOOMED])?;
    }
    Ok(())
}

/// The backup of a database at schema `from`.
pub fn path(vault_dir: &Path, from: i64) -> PathBuf {
    vault_dir.join(DIR).join(format!("vault-schema-{from}.db"))
}

/// Copies the database at `db` (open as `conn`, at schema `from`) to its backup, durably,
/// before an update. Its write-ahead log is folded in first; if a reader kept part of it out,
/// the log is copied beside the backup, where SQLite reads it as the backup's own.
pub(crate) fn before_upgrade(conn: &Connection, db: &Path, from: i64) -> Result<PathBuf> {
    let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
    let vault_dir = db.parent().expect("the database is in the vault folder");
    let dest = path(vault_dir, from);
    let dir = dest.parent().expect("a backup is in the backups folder");
    refuse_link(dir)?;
    fsutil::private_dir(dir)?;
    // The folder's own entry, durable before anything in it is counted on.
    fsutil::sync_dir(vault_dir)?;
    copy_durably(db, &dest)?;
    let wal = wal_of(db);
    let dest_wal = wal_of(&dest);
    let _ = fs::remove_file(&dest_wal);
    if busy != 0 && fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
        copy_durably(&wal, &dest_wal)?;
    }
    fsutil::sync_dir(dir)?;
    Ok(dest)
}

fn wal_of(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push("-wal");
    PathBuf::from(s)
}

/// `from` copied to `to` (private, synced), through a temporary name: `to` is whole or absent.
fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    let tmp = to.with_file_name(format!(".tmp-{}", fsutil::random_name()));
    let res = (|| {
        let mut src = fs::File::open(from)?;
        let mut out = fsutil::private_file().open(&tmp)?;
        std::io::copy(&mut src, &mut out)?;
        out.flush()?;
        out.sync_all()?;
        fs::rename(&tmp, to)
    })();
    res.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(format!(
            "keeping a copy of the vault before updating it, in {}",
            to.display()
        ))(e)
    })
}

/// `backups` must be a folder of its own, never a link to one elsewhere: a copy would be written
/// there, and a purge would empty it.
fn refuse_link(dir: &Path) -> Result<()> {
    match fs::symlink_metadata(dir) {
        Ok(m) if !m.is_dir() => Err(Error::Format {
            path: dir.to_owned(),
            reason: "is not a folder of this vault (a link or a file): move it away".into(),
        }),
        _ => Ok(()),
    }
}

/// Whether `name` is one of ours: a backup, its log, or a copy being written.
fn ours(name: &str) -> bool {
    let backup = name
        .strip_prefix("vault-schema-")
        .and_then(|r| r.strip_suffix(".db").or_else(|| r.strip_suffix(".db-wal")))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    backup || name.starts_with(".tmp-")
}

/// Removes every backup (after a purge, which they might contradict, and a key rotation,
/// whose old keys they are encrypted under): only the files this module writes, in a folder
/// that is not a link.
pub(crate) fn remove_all(vault_dir: &Path) -> Result<()> {
    let dir = vault_dir.join(DIR);
    refuse_link(&dir)?;
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("reading {}", dir.display()))(e)),
    };
    let mut others = false;
    for e in entries {
        let e = e.map_err(Error::io(format!("reading {}", dir.display())))?;
        let p = e.path();
        if ours(&e.file_name().to_string_lossy()) {
            fs::remove_file(&p).map_err(Error::io(format!("removing {}", p.display())))?;
        } else {
            others = true;
        }
    }
    if !others {
        fs::remove_dir(&dir).map_err(Error::io(format!("removing {}", dir.display())))?;
    }
    fsutil::sync_dir(vault_dir)
}
