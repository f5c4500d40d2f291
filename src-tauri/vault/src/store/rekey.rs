//! The database under a new key, for key rotation (`crate::vault` `rotate_keys`): a full copy
//! made by SQLCipher's `sqlcipher_export` into a new file encrypted with the new key, in which
//! the attachments already point at their re-encrypted files. The copy replaces the old file
//! only once the new keyslot is in place; until then the old database and keyslot stand.

use std::path::Path;

use crate::crypto::keys::VaultSecrets;
use crate::error::Result;

/// Writes the database at `db` (under `old`'s key) into `path` (which must not exist) under
/// `fresh`'s key, with each attachment row moved from its old file to its new one (`moved`:
/// old, new, the new file's payload SHA-256), the new files no longer listed as pending and the old ones listed as doomed
/// (removed once the copy is the vault's database).
///
/// On a connection of its own, opened now: SQLCipher adds `sqlcipher_export` to connections
/// opened after SQLite's initialisation has finished, and one opened while another thread was
/// still initialising (the first vault a process opens) can lack it.
pub(crate) fn export_rekeyed(
    db: &Path,
    old: &VaultSecrets,
    path: &Path,
    fresh: &VaultSecrets,
    moved: &[(String, String, String)],
) -> Result<()> {
    let conn = super::open_file(db)?;
    let key = old.sqlcipher_key_statement();
    conn.execute_batch(key.as_str())?;
    drop(key);
    let key = fresh.sqlcipher_raw_key();
    conn.execute(
        "ATTACH DATABASE ?1 AS rotating KEY ?2",
        rusqlite::params![path.to_string_lossy(), key.as_str()],
    )?;
    drop(key);
    let result = (|| -> Result<()> {
        conn.query_row("SELECT sqlcipher_export('rotating')", [], |_| Ok(()))?;
        let tx = conn.unchecked_transaction()?;
        for (old, new, payload) in moved {
            tx.prepare_cached(
                "UPDATE rotating.blobs SET file = ?2, payload_sha256 = ?3 WHERE file = ?1",
            )?
            .execute([old, new, payload])?;
            tx.prepare_cached("DELETE FROM rotating.doomed_files WHERE file = ?1")?
                .execute([new])?;
            tx.prepare_cached("INSERT OR IGNORE INTO rotating.doomed_files(file) VALUES (?1)")?
                .execute([old])?;
        }
        // Backups are under the old keys: the new database removes them as it first opens,
        // if the rotation's own removal does not come first.
        super::backups::doom(&tx, "rotating")?;
        tx.commit()?;
        Ok(())
    })();
    conn.execute("DETACH DATABASE rotating", [])?;
    result?;
    crate::fsutil::seal_file(path)
}

/// Whether the database at `path` is this vault's, whole, under `secrets`' key: it opens with
/// the key and holds the vault's id. (An empty or unfinished file opens with any key: SQLite
/// reads a file of no pages as an empty database, so opening alone proves nothing.)
pub(crate) fn holds_vault(path: &Path, secrets: &VaultSecrets) -> bool {
    if !path.is_file() {
        return false;
    }
    let Ok(conn) = super::open_file(path) else {
        return false;
    };
    let key = secrets.sqlcipher_key_statement();
    if conn.execute_batch(key.as_str()).is_err() {
        return false;
    }
    drop(key);
    super::meta::get(&conn, super::meta::VAULT_ID)
        .ok()
        .flatten()
        .is_some_and(|id| id == secrets.vault_id().to_string())
}
