//! Drafts of text being typed (a narrative), so that a crash, a lock or a closed window loses
//! nothing. Encrypted like everything else; never exported; not audited (one event per pause
//! in typing would drown the log); the vault's `secure_delete` overwrites old text.

use super::Vault;
use crate::error::{Error, Result};
use crate::model::{self, RecordId};
use crate::store::drafts;

/// Longest draft key (keys are chosen by the app, e.g. `testimony:<id>:narrative`).
const MAX_KEY_BYTES: usize = 200;

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return Err(Error::invalid("draft", "a draft key is one short line"));
    }
    Ok(())
}

impl Vault {
    /// Keeps a draft under `key`. `record` ties it to a record (a purge of that record removes
    /// it).
    pub fn save_draft(&mut self, key: &str, record: Option<RecordId>, body: &str) -> Result<()> {
        self.o()?;
        check_key(key)?;
        if body.len() > model::MAX_RECORD_BYTES {
            return Err(Error::invalid(
                "draft",
                "the text is too long to keep as a draft",
            ));
        }
        let record = record.map(|r| r.to_string());
        drafts::save(&self.o()?.conn, key, record.as_deref(), body)
    }

    /// A kept draft: its text and when it was saved.
    pub fn draft(&self, key: &str) -> Result<Option<(String, String)>> {
        self.o()?;
        check_key(key)?;
        drafts::get(&self.o()?.conn, key)
    }

    /// Removes a draft (after a save, or when the user discards it).
    pub fn discard_draft(&mut self, key: &str) -> Result<()> {
        self.o()?;
        check_key(key)?;
        drafts::remove(&self.o()?.conn, key)
    }
}
