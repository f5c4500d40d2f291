//! The `meta` table: the vault's id and creation time, its schema version, the full-text
//! index's mark, and its settings (label, policy).

use rusqlite::{Connection, OptionalExtension};

use crate::error::Result;

/// The vault's label (shown to coordinators inside bundles).
pub(crate) const LABEL: &str = "label";
/// Whether bundles encrypted to a passphrase are allowed: `allow` or `deny` (the default).
pub(crate) const PASSPHRASE_BUNDLES: &str = "policy.passphrase_bundles";
/// The longest idle time before the vault locks itself, in minutes, set by an organisation
/// profile (`crate::vault` only ever lowers it).
pub(crate) const MAX_AUTOLOCK: &str = "policy.max_autolock_minutes";
/// The organisation profile this vault loaded (its signed JSON text).
pub(crate) const PROFILE: &str = "profile";
/// When it was loaded.
pub(crate) const PROFILE_LOADED_AT: &str = "profile.loaded_at";
/// The vault's id, as the keyslot also holds it.
pub(crate) const VAULT_ID: &str = "vault_id";

/// The value under `key`.
pub(crate) fn get(c: &Connection, key: &str) -> Result<Option<String>> {
    Ok(c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// Sets `key` to `value`.
pub(crate) fn set(c: &Connection, key: &str, value: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
    )?
    .execute([key, value])?;
    Ok(())
}

/// Removes `key`.
pub(crate) fn remove(c: &Connection, key: &str) -> Result<()> {
    c.prepare_cached("DELETE FROM meta WHERE key = ?1")?
        .execute([key])?;
    Ok(())
}

/// Every key starting with `prefix`, with its value.
pub(crate) fn with_prefix(c: &Connection, prefix: &str) -> Result<Vec<(String, String)>> {
    super::collect(
        c.prepare_cached("SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1")?
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?,
    )
}
