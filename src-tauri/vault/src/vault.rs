//! [`Vault`]: a vault folder, locked or unlocked, and every operation on it.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

use crate::blobs;
use crate::bundle;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::keys::{self, Passphrase, VaultSecrets};
use crate::model::{self, Attachment, Kind, RecordId, Validated, Warning};
use crate::revision::{self, Revision, RevisionId};
use crate::search;
use crate::store::{self, audit};

/// The only content of `vault.json` (R11: no names, counts or dates outside the encryption).
pub const VAULT_JSON: &str = "{\"format\":\"kuager-vault\",\"version\":1}\n";

/// Longest we make a caller wait after repeated wrong passphrases (R3).
pub const MAX_UNLOCK_DELAY: Duration = Duration::from_secs(30);

/// How many invalid lines a bulk add reports before it stops looking.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// Options for [`Vault::create`].
#[derive(Default)]
pub struct CreateOptions {
    /// Organisation recovery recipients: each gets a recovery keyslot.
    pub recovery: Vec<age::x25519::Recipient>,
    /// The scrypt work factor for the passphrase keyslot; `None` calibrates (≥ 18).
    /// Tests use small values; never set this below [`keys::MIN_WORK_FACTOR`] for real vaults.
    pub work_factor: Option<u8>,
}

/// The result of a save.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The record.
    pub record: RecordId,
    /// The new head revision.
    pub revision: RevisionId,
    /// `false` when the edit changed nothing (no revision was written).
    pub changed: bool,
    /// Non-blocking findings.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
}

/// A failed bulk add: which lines were wrong (nothing was written).
#[derive(Debug)]
pub struct BulkError {
    /// `(line number, error)`, in input order, at most [`MAX_REPORTED_ERRORS`].
    pub errors: Vec<(usize, Error)>,
    /// Records read before stopping.
    pub records_seen: usize,
}

/// A record with its current head revision(s).
#[derive(Debug, Clone, Serialize)]
pub struct RecordView {
    /// The record id.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// Heads, oldest first; more than one means a conflict.
    pub heads: Vec<Revision>,
}

/// One line of history.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The revision (without data).
    pub id: RevisionId,
    /// Its parents.
    pub parents: Vec<RevisionId>,
    /// Device that wrote it.
    pub device: String,
    /// When.
    pub at: String,
    /// Content destroyed by a purge.
    pub purged: bool,
    /// Whether it is a current head.
    pub head: bool,
}

/// A line in a list or search result.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The record id.
    pub id: RecordId,
    /// Its kind.
    pub kind: Kind,
    /// Main label: a name, a reference.
    pub title: String,
    /// Second column: dates, outcome, counts (in English, for the command line).
    pub detail: String,
    /// The same details as (key, value) pairs, for a UI to word in its own language: `names`,
    /// `born` (person); `recorded`, `status`, `attachments` (testimony); `number`, `submitted`,
    /// `waiting` (days), `outcome`, `outcome_on` (attempt); `title`, `status` (case); `purged`.
    pub facts: Vec<(&'static str, String)>,
    /// Last change.
    pub updated_at: String,
    /// More than one head.
    pub conflict: bool,
}

/// Why a search result matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchKind {
    /// Record id (or its prefix).
    Id,
    /// Document, receipt or reference number.
    Number,
    /// A name, in any script or spelling.
    Name,
    /// Full text.
    Text,
}

/// One search hit.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Why it matched.
    pub matched: MatchKind,
    /// The record.
    pub summary: Summary,
}

/// What `verify` checked.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Records.
    pub records: usize,
    /// Revisions whose id was recomputed.
    pub revisions: usize,
    /// Audit events whose chain was checked.
    pub audit_events: usize,
    /// Attachment files present.
    pub blobs: usize,
    /// Everything found wrong; empty when the vault is sound.
    pub problems: Vec<String>,
}

/// Metadata for a new attachment.
#[derive(Debug, Clone, Default)]
pub struct AttachMeta {
    /// Original file name (stored encrypted only).
    pub name: Option<String>,
    /// Caption.
    pub caption: Option<String>,
    /// Media type.
    pub media_type: Option<String>,
}

/// A vault's settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Settings {
    /// The vault's name, shown to coordinators inside bundles.
    pub label: Option<String>,
    /// Whether bundles encrypted to a passphrase (instead of the coordinators' keys) are allowed.
    pub passphrase_bundles: bool,
}

struct Open {
    conn: Connection,
    secrets: VaultSecrets,
    device: String,
    /// Revisions saved since the full-text index was last brought up to date (by this
    /// connection's count; a search always asks the database).
    text_queue: i64,
}

/// A vault folder. Created locked by [`Vault::open`]; [`Vault::create`] returns it unlocked.
pub struct Vault {
    dir: PathBuf,
    open: Option<Open>,
    failed_unlocks: u32,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir)
            .field("locked", &self.open.is_none())
            .finish()
    }
}

#[cfg(unix)]
fn private_dir(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(p).map_err(Error::io(format!("creating {}", p.display())))?;
    fs::set_permissions(p, fs::Permissions::from_mode(0o700))
        .map_err(Error::io(format!("protecting {}", p.display())))
}

#[cfg(not(unix))]
fn private_dir(p: &Path) -> Result<()> {
    fs::create_dir_all(p).map_err(Error::io(format!("creating {}", p.display())))
}

impl Vault {
    /// Creates a new vault in `dir` (which must not exist or be empty) and returns it unlocked.
    pub fn create(dir: &Path, passphrase: &Passphrase, opts: CreateOptions) -> Result<Vault> {
        if dir.join("vault.json").exists() {
            return Err(Error::VaultExists(dir.to_owned()));
        }
        if fs::read_dir(dir).is_ok_and(|mut rd| rd.next().is_some()) {
            return Err(Error::Format {
                path: dir.to_owned(),
                reason: "this folder is not empty: choose a new or empty folder for the vault"
                    .into(),
            });
        }
        let strength = keys::passphrase_strength(passphrase.expose());
        if strength.score == 0 {
            return Err(Error::WeakPassphrase(strength.hint.into()));
        }
        private_dir(dir)?;
        private_dir(&dir.join("keyslots"))?;
        private_dir(&dir.join("blobs"))?;
        let secrets = VaultSecrets::generate();
        keys::write_passphrase_slot(dir, passphrase, &secrets, opts.work_factor)?;
        for r in &opts.recovery {
            keys::write_recovery_slot(dir, r, &secrets)?;
        }
        // SQLite creates the -wal and -shm files with the database file's mode: make it 0600 first.
        fsutil::private_file()
            .open(dir.join("vault.db"))
            .map_err(Error::io("creating the database"))?;
        let conn = store::open(&dir.join("vault.db"), &secrets)?;
        let device = secrets.device_id().to_string();
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('vault_id', ?1), ('created_at', ?2)",
            params![secrets.vault_id().to_string(), revision::now()],
        )?;
        audit::append(
            &conn,
            &device,
            &revision::now(),
            "vault_created",
            serde_json::json!({ "recovery_keyslots": opts.recovery.len() }),
        )?;
        // vault.json last: a folder without it is not (yet) a vault.
        fsutil::write_atomic(&dir.join("vault.json"), VAULT_JSON.as_bytes())?;
        Ok(Vault {
            dir: dir.to_owned(),
            open: Some(Open {
                conn,
                secrets,
                device,
                text_queue: 0,
            }),
            failed_unlocks: 0,
        })
    }

    /// Opens the vault folder `dir`, locked.
    pub fn open(dir: &Path) -> Result<Vault> {
        let vj = dir.join("vault.json");
        let text = match fs::read_to_string(&vj) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoVault(dir.to_owned()))
            }
            Err(e) => return Err(Error::io(format!("reading {}", vj.display()))(e)),
        };
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| Error::Format {
            path: vj.clone(),
            reason: "not a Kuager vault description".into(),
        })?;
        if v.get("format").and_then(|f| f.as_str()) != Some("kuager-vault") {
            return Err(Error::Format {
                path: vj,
                reason: "not a Kuager vault".into(),
            });
        }
        match v.get("version").and_then(|n| n.as_u64()) {
            Some(1) => {}
            Some(n) => {
                return Err(Error::Format {
                    path: vj,
                    reason: format!("vault format {n} is newer than this Kuager: update Kuager"),
                })
            }
            None => {
                return Err(Error::Format {
                    path: vj,
                    reason: "no format version".into(),
                })
            }
        }
        Ok(Vault {
            dir: dir.to_owned(),
            open: None,
            failed_unlocks: 0,
        })
    }

    /// The vault folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the vault is locked.
    pub fn is_locked(&self) -> bool {
        self.open.is_none()
    }

    /// Unlocks with the passphrase. After a wrong passphrase the next attempts wait longer
    /// (1 s, 2 s, 4 s … up to [`MAX_UNLOCK_DELAY`]) on top of the KDF's own cost (R3).
    pub fn unlock(&mut self, passphrase: &Passphrase) -> Result<()> {
        let r = keys::open_with_passphrase(&self.dir, passphrase);
        self.finish_unlock(r)
    }

    /// Unlocks with the organisation's recovery identity.
    pub fn unlock_with_recovery(&mut self, identity: &age::x25519::Identity) -> Result<()> {
        let r = keys::open_with_recovery(&self.dir, identity);
        self.finish_unlock(r)
    }

    fn finish_unlock(&mut self, secrets: Result<VaultSecrets>) -> Result<()> {
        self.open = None;
        let secrets = match secrets {
            Ok(s) => s,
            Err(e) => {
                if matches!(e, Error::WrongPassphrase) {
                    self.failed_unlocks += 1;
                    let exp = self.failed_unlocks.saturating_sub(1).min(5);
                    std::thread::sleep(Duration::from_secs(1 << exp).min(MAX_UNLOCK_DELAY));
                }
                return Err(e);
            }
        };
        let conn = store::open(&self.dir.join("vault.db"), &secrets)?;
        let stored: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='vault_id'", [], |r| {
                r.get(0)
            })
            .optional()?;
        if stored.as_deref() != Some(secrets.vault_id().to_string().as_str()) {
            return Err(Error::Format {
                path: self.dir.join("vault.db"),
                reason: "the database belongs to another vault than the keyslot".into(),
            });
        }
        let device = secrets.device_id().to_string();
        audit::append(
            &conn,
            &device,
            &revision::now(),
            "vault_unlocked",
            serde_json::json!({}),
        )?;
        blobs::sweep_temp(&self.dir);
        self.failed_unlocks = 0;
        let text_queue = text_queue_len(&conn)?;
        self.open = Some(Open {
            conn,
            secrets,
            device,
            text_queue,
        });
        Ok(())
    }

    /// Locks: records the event, then drops the database connection and every key (R2).
    pub fn lock(&mut self) {
        if let Some(o) = &self.open {
            let _ = audit::append(
                &o.conn,
                &o.device,
                &revision::now(),
                "vault_locked",
                serde_json::json!({}),
            );
        }
        self.open = None;
    }

    /// Emergency erase (SECURITY.md R5): destroys every keyslot first — overwritten with random
    /// bytes, synced, removed, the folder synced — so that from that moment nobody can open the
    /// vault, not with the passphrase and not with a recovery key; then removes the data.
    /// Works locked or unlocked (a coerced user may have no time to unlock).
    ///
    /// # Security
    /// On SSDs and copy-on-write file systems an overwrite does not reach the old blocks; what
    /// remains there is age ciphertext under keys that no longer exist anywhere but in the
    /// memory of this process, which is dropped here. Full-disk encryption covers the rest.
    pub fn erase(mut self) -> Result<()> {
        self.open = None;
        let slots = self.dir.join("keyslots");
        let entries: Vec<PathBuf> = fs::read_dir(&slots)
            .map_err(Error::io("reading the keyslots"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        for path in &entries {
            let len = fs::metadata(path).map(|m| m.len()).unwrap_or(0) as usize;
            let mut noise = vec![0u8; len.max(1)];
            keys::fill_random(&mut noise);
            let wipe = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|mut f| {
                    use std::io::Write;
                    f.write_all(&noise)?;
                    f.sync_all()
                });
            let removed = fs::remove_file(path);
            if let (Err(e), Err(_)) = (wipe, removed) {
                return Err(Error::io("destroying a keyslot")(e));
            }
        }
        fsutil::sync_dir(&slots)?;
        // From here the vault cannot be opened; the rest is tidying up.
        fs::remove_dir_all(&self.dir).map_err(Error::io("removing the vault's files"))?;
        if let Some(parent) = self.dir.parent() {
            let _ = fsutil::sync_dir(parent);
        }
        Ok(())
    }

    fn o(&self) -> Result<&Open> {
        self.open.as_ref().ok_or(Error::Locked)
    }

    fn o_mut(&mut self) -> Result<&mut Open> {
        self.open.as_mut().ok_or(Error::Locked)
    }

    /// This vault's id.
    pub fn vault_id(&self) -> Result<uuid::Uuid> {
        Ok(self.o()?.secrets.vault_id())
    }

    /// Adds (or relabels) a recipient of this vault's bundles.
    pub fn add_recipient(
        &mut self,
        recipient: &bundle::Recipient,
        label: Option<&str>,
    ) -> Result<()> {
        self.audited(
            "INSERT INTO recipients(recipient, label, added_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT(recipient) DO UPDATE SET label = ?2",
            params![recipient.to_string(), label, revision::now()],
            "recipient_added",
            serde_json::json!({ "recipient": recipient.to_string() }),
        )?;
        Ok(())
    }

    /// Removes a recipient (by its key, or by its label when the label is unique).
    pub fn remove_recipient(&mut self, key_or_label: &str) -> Result<String> {
        let o = self.o()?;
        let matches: Vec<String> = collect(
            o.conn
                .prepare("SELECT recipient FROM recipients WHERE recipient = ?1 OR label = ?1")?
                .query_map([key_or_label.trim()], |r| r.get(0))?,
        )?;
        let key = match matches.as_slice() {
            [one] => one.clone(),
            [] => return Err(Error::NotFound(format!("recipient {key_or_label}"))),
            _ => {
                return Err(Error::invalid(
                    "recipient",
                    "several recipients have that label: give the key itself",
                ))
            }
        };
        self.audited(
            "DELETE FROM recipients WHERE recipient = ?1",
            [&key],
            "recipient_removed",
            serde_json::json!({ "recipient": key }),
        )?;
        Ok(key)
    }

    /// Runs one statement and records `event` in the audit log, in one transaction.
    fn audited(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        event: &str,
        details: serde_json::Value,
    ) -> Result<()> {
        let o = self.o()?;
        let tx = o.conn.unchecked_transaction()?;
        tx.execute(sql, params)?;
        audit::append(&tx, &o.device, &revision::now(), event, details)?;
        tx.commit()?;
        Ok(())
    }

    /// This vault's settings (label, policy).
    pub fn settings(&self) -> Result<Settings> {
        let c = &self.o()?.conn;
        let get = |k: &str| -> Result<Option<String>> {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                    .optional()?,
            )
        };
        Ok(Settings {
            label: get("label")?,
            passphrase_bundles: get("policy.passphrase_bundles")?.as_deref() == Some("allow"),
        })
    }

    /// Names this vault (e.g. "Almaty office, laptop 3"): shown to coordinators inside every
    /// bundle's manifest (never in the file name, which anyone holding the file can read).
    pub fn set_label(&mut self, label: Option<&str>) -> Result<()> {
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = label {
            if l.chars().count() > 100 || l.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "label",
                    "a vault label is one line of at most 100 characters",
                ));
            }
        }
        match label {
            Some(l) => self.audited(
                "INSERT INTO meta(key, value) VALUES ('label', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1",
                [l],
                "label_set",
                serde_json::json!({ "label": l }),
            ),
            None => self.audited(
                "DELETE FROM meta WHERE key = 'label'",
                [],
                "label_set",
                serde_json::json!({ "label": null }),
            ),
        }
    }

    /// `Ok` if this vault's policy allows bundles encrypted to a passphrase, else the refusal.
    pub fn passphrase_bundles_allowed(&self) -> Result<()> {
        if self.settings()?.passphrase_bundles {
            Ok(())
        } else {
            Err(Error::invalid(
                "passphrase",
                "this vault's policy does not allow bundles encrypted to a passphrase: export to the coordinators' keys, or ask whoever sets the policy (`kuager policy passphrase-bundles allow`)",
            ))
        }
    }

    /// Allows or forbids bundles encrypted to a passphrase instead of the coordinators' keys
    /// (BUNDLE.md "Outside"). Forbidden unless allowed here; every change is in the audit log.
    pub fn set_passphrase_bundles(&mut self, allow: bool) -> Result<()> {
        let value = if allow { "allow" } else { "deny" };
        self.audited(
            "INSERT INTO meta(key, value) VALUES ('policy.passphrase_bundles', ?1) ON CONFLICT(key) DO UPDATE SET value = ?1",
            [value],
            "policy_set",
            serde_json::json!({ "passphrase_bundles": value }),
        )
    }

    /// Keeps a draft of text being typed (e.g. a narrative), encrypted like everything else, so
    /// that a crash, a lock or a closed window loses nothing. `record` ties it to a record (a
    /// purge of that record removes it). Drafts are never exported and not audited (one per
    /// keystroke pause would drown the log); the vault's secure_delete overwrites old text.
    pub fn save_draft(&mut self, key: &str, record: Option<RecordId>, body: &str) -> Result<()> {
        check_draft_key(key)?;
        if body.len() > model::MAX_RECORD_BYTES {
            return Err(Error::invalid(
                "draft",
                "the text is too long to keep as a draft",
            ));
        }
        self.o()?
            .conn
            .prepare_cached(
                "INSERT INTO drafts(key, record, body, at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(key) DO UPDATE SET record = ?2, body = ?3, at = ?4",
            )?
            .execute(params![
                key,
                record.map(|r| r.to_string()),
                body,
                revision::now()
            ])?;
        Ok(())
    }

    /// A kept draft: its text and when it was saved.
    pub fn draft(&self, key: &str) -> Result<Option<(String, String)>> {
        check_draft_key(key)?;
        Ok(self
            .o()?
            .conn
            .query_row("SELECT body, at FROM drafts WHERE key = ?1", [key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?)
    }

    /// Removes a draft (after a save, or when the user discards it).
    pub fn discard_draft(&mut self, key: &str) -> Result<()> {
        check_draft_key(key)?;
        self.o()?
            .conn
            .execute("DELETE FROM drafts WHERE key = ?1", [key])?;
        Ok(())
    }

    /// The recipients this vault exports to.
    pub fn recipients(&self) -> Result<Vec<bundle::RecipientEntry>> {
        bundle::export::list_recipients(&self.o()?.conn)
    }

    /// Writes a bundle (BUNDLE.md) to the configured recipients plus any given in `opts`.
    pub fn export(
        &mut self,
        opts: &bundle::ExportOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<bundle::ExportReport> {
        if let Some(p) = &opts.passphrase {
            self.passphrase_bundles_allowed()?;
            if !opts.extra_recipients.is_empty() {
                return Err(Error::invalid(
                    "passphrase",
                    "a passphrase bundle has the passphrase as its only recipient: leave out --to",
                ));
            }
            let strength = keys::passphrase_strength(p.expose());
            if strength.score == 0 {
                return Err(Error::WeakPassphrase(strength.hint.into()));
            }
        }
        let dir = self.dir.clone();
        let o = self.o()?;
        bundle::export::export(&o.conn, &o.secrets, &dir, opts, progress)
    }

    /// Creates an organisation identity inside the vault (never a loose key file) and returns
    /// its public key (`age1…`), which caseworkers export to.
    pub fn new_identity(&mut self, label: Option<&str>) -> Result<String> {
        let id = age::x25519::Identity::generate();
        self.store_identity(&id, label)
    }

    /// Takes an existing `age-keygen` identity file into the vault. Returns the public keys.
    pub fn import_identity_file(
        &mut self,
        path: &Path,
        label: Option<&str>,
    ) -> Result<Vec<String>> {
        bundle::read_identity_file(path)?
            .iter()
            .map(|id| self.store_identity(id, label))
            .collect()
    }

    fn store_identity(
        &mut self,
        id: &age::x25519::Identity,
        label: Option<&str>,
    ) -> Result<String> {
        use age::secrecy::ExposeSecret;
        let public = id.to_public().to_string();
        let secret = id.to_string();
        self.audited(
            "INSERT INTO identities(recipient, secret, label, added_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT(recipient) DO UPDATE SET label = coalesce(?3, label)",
            params![public, secret.expose_secret(), label, revision::now()],
            "identity_added",
            serde_json::json!({ "recipient": public }),
        )?;
        Ok(public)
    }

    /// The organisation identities held (public keys and labels only).
    pub fn identities(&self) -> Result<Vec<(String, Option<String>)>> {
        collect(
            self.o()?
                .conn
                .prepare("SELECT recipient, label FROM identities ORDER BY added_at")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
        )
    }

    /// Trusts a caseworker's device key (minisign public key, as `kuager device` prints it).
    pub fn trust_device(&mut self, key: &str, label: &str) -> Result<String> {
        let key = key
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or_default();
        let pk = minisign::PublicKey::from_base64(key).map_err(|_| {
            Error::invalid(
                "key",
                "not a minisign public key: paste the line `kuager device` printed (RWT…)",
            )
        })?;
        if label.trim().is_empty() {
            return Err(Error::invalid("label", "give the device a name (--label)"));
        }
        let key = pk.to_base64();
        self.audited(
            "INSERT INTO trusted_devices(public_key, label, added_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT(public_key) DO UPDATE SET label = ?2",
            params![key, label.trim(), revision::now()],
            "device_trusted",
            serde_json::json!({ "key": key, "label": label.trim() }),
        )?;
        Ok(key)
    }

    /// Trusted device keys and their labels.
    pub fn trusted_devices(&self) -> Result<Vec<(String, String)>> {
        collect(
            self.o()?
                .conn
                .prepare("SELECT public_key, label FROM trusted_devices ORDER BY added_at")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
        )
    }

    /// Stops trusting a device (by key or label).
    pub fn untrust_device(&mut self, key_or_label: &str) -> Result<String> {
        let o = self.o()?;
        let found: Vec<String> = collect(
            o.conn
                .prepare(
                    "SELECT public_key FROM trusted_devices WHERE public_key = ?1 OR label = ?1",
                )?
                .query_map([key_or_label.trim()], |r| r.get(0))?,
        )?;
        let [key] = found.as_slice() else {
            return Err(if found.is_empty() {
                Error::NotFound(format!("trusted device {key_or_label}"))
            } else {
                Error::invalid(
                    "key",
                    "several devices have that label: give the key itself",
                )
            });
        };
        self.audited(
            "DELETE FROM trusted_devices WHERE public_key = ?1",
            [key],
            "device_untrusted",
            serde_json::json!({ "key": key }),
        )?;
        Ok(key.clone())
    }

    /// Imports a bundle: every check of BUNDLE.md "Reading", then one transaction, or nothing
    /// (and an audit event either way). `trust_signer` trusts an unknown signer under that label.
    pub fn import(
        &mut self,
        file: &Path,
        extra_identities: &[age::x25519::Identity],
        trust_signer: Option<&str>,
    ) -> Result<bundle::ImportReport> {
        self.import_with_limits(file, extra_identities, trust_signer, &Default::default())
    }

    /// [`Vault::import`] of a bundle encrypted to a passphrase (scrypt work factor capped).
    pub fn import_with_passphrase(
        &mut self,
        file: &Path,
        passphrase: &crate::Passphrase,
        trust_signer: Option<&str>,
    ) -> Result<bundle::ImportReport> {
        self.run_import(
            bundle::import::Input::File(file, &[], Some(passphrase)),
            &[],
            trust_signer,
            false,
            &Default::default(),
        )
    }

    /// [`Vault::inspect`] of a bundle encrypted to a passphrase.
    pub fn inspect_with_passphrase(
        &mut self,
        file: &Path,
        passphrase: &crate::Passphrase,
    ) -> Result<bundle::ImportReport> {
        self.run_import(
            bundle::import::Input::File(file, &[], Some(passphrase)),
            &[],
            Some(""),
            true,
            &Default::default(),
        )
    }

    fn run_import(
        &mut self,
        source: bundle::import::Input<'_>,
        extra_identities: &[age::x25519::Identity],
        trust_signer: Option<&str>,
        dry_run: bool,
        limits: &bundle::ImportLimits,
    ) -> Result<bundle::ImportReport> {
        let dir = self.dir.clone();
        let o = self.o()?;
        bundle::import::import(
            &o.conn,
            &o.secrets,
            &o.device,
            &dir,
            source,
            extra_identities,
            trust_signer,
            dry_run,
            limits,
        )
    }

    /// [`Vault::import`] with other caps than the defaults.
    pub fn import_with_limits(
        &mut self,
        file: &Path,
        extra_identities: &[age::x25519::Identity],
        trust_signer: Option<&str>,
        limits: &bundle::ImportLimits,
    ) -> Result<bundle::ImportReport> {
        self.run_import(
            bundle::import::Input::File(file, &[], None),
            extra_identities,
            trust_signer,
            false,
            limits,
        )
    }

    /// Runs the importer on an already decrypted tar stream, for fuzzing everything after the
    /// age layer (which the C2SP vectors cover). Not for use with real bundles.
    #[doc(hidden)]
    pub fn fuzz_import_plaintext(&mut self, tar: &[u8]) -> Result<bundle::ImportReport> {
        self.run_import(
            bundle::import::Input::Plain(tar),
            &[],
            None,
            false,
            &Default::default(),
        )
    }

    /// Decrypts and checks a bundle and reports what importing it would do, changing nothing.
    pub fn inspect(
        &mut self,
        file: &Path,
        extra_identities: &[age::x25519::Identity],
    ) -> Result<bundle::ImportReport> {
        // An unknown signer is reported, not refused, when only looking.
        self.run_import(
            bundle::import::Input::File(file, &[], None),
            extra_identities,
            Some(""),
            true,
            &Default::default(),
        )
    }

    /// This vault's device signing key (public part), to hand to coordinators once.
    pub fn device_public_key(&self) -> Result<keys::DevicePublicKey> {
        Ok(self.o()?.secrets.device_public_key())
    }

    /// Signs `data` with this device's key (minisign format).
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> Result<String> {
        self.o()?.secrets.sign_minisign(data, trusted_comment)
    }

    /// This vault's device id (written into every revision it makes).
    pub fn device_id(&self) -> Result<String> {
        Ok(self.o()?.device.clone())
    }

    // ------------------------------------------------------------------ writing

    /// Adds one record from JSON.
    pub fn add(&mut self, kind: Kind, json: &[u8]) -> Result<Saved> {
        let v = model::validate(kind, json)?;
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let saved = insert_new(&tx, &o.device, v, Text::Deferred)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// Adds many records of `kind` from JSON Lines (or one pretty-printed object) in one
    /// transaction: either every record is valid and all are written, or none is.
    /// `progress` is called with the number of records read so far.
    pub fn add_many(
        &mut self,
        kind: Kind,
        input: impl BufRead,
        progress: &mut dyn FnMut(usize),
    ) -> Result<std::result::Result<Vec<Saved>, BulkError>> {
        let o = self.o_mut()?;
        // Index what single saves queued, so the batch below can move the mark past itself.
        if text_queue_len(&o.conn)? > 0 {
            flush_text_queue(&o.conn)?;
        }
        o.text_queue = 0;
        let tx = o.conn.transaction()?;
        let mut saved = Vec::new();
        let mut errors = Vec::new();
        let mut seen = 0usize;
        let mut pending: Option<(usize, Vec<u8>)> = None;
        let mut input = input;
        let mut line_no = 0usize;
        loop {
            let line = match next_line(&mut input, model::MAX_RECORD_BYTES)
                .map_err(Error::io("reading the input"))?
            {
                Some(Ok(l)) => Some(l),
                Some(Err(len)) => {
                    // Never held in memory: a hostile file cannot exhaust it with one long line.
                    line_no += 1;
                    seen += 1;
                    errors.push((
                        line_no,
                        Error::invalid(
                            "",
                            format!(
                                "this line is {len} bytes; a record may be at most {} bytes",
                                model::MAX_RECORD_BYTES
                            ),
                        ),
                    ));
                    if errors.len() >= MAX_REPORTED_ERRORS {
                        break;
                    }
                    continue;
                }
                None => None,
            };
            let eof = line.is_none();
            if !eof {
                line_no += 1;
            }
            let (start, buf) = match (pending.take(), line) {
                (Some((s, mut b)), Some(l)) => {
                    b.push(b'\n');
                    b.extend_from_slice(&l);
                    (s, b)
                }
                (Some(p), None) => p,
                (None, Some(l)) if l.iter().all(u8::is_ascii_whitespace) => continue,
                (None, Some(l)) => (line_no, l),
                (None, None) => break,
            };
            seen += 1;
            match model::validate(kind, &buf) {
                Err(Error::Invalid { message, .. })
                    if !eof
                        && message.starts_with("EOF while parsing")
                        && buf.len() < model::MAX_RECORD_BYTES =>
                {
                    // A pretty-printed object continues on the next line.
                    seen -= 1;
                    pending = Some((start, buf));
                    continue;
                }
                Err(e) => errors.push((start, e)),
                Ok(v) if errors.is_empty() => match insert_new(&tx, &o.device, v, Text::Now) {
                    Ok(s) => saved.push(s),
                    Err(e @ (Error::Invalid { .. } | Error::NotFound(_))) => {
                        errors.push((start, e))
                    }
                    Err(e) => return Err(e),
                },
                // After a first error nothing more is written; later lines are still checked.
                Ok(v) => {
                    if let Err(e) = check_references(&tx, &v) {
                        errors.push((start, e));
                    }
                }
            }
            if errors.len() >= MAX_REPORTED_ERRORS || eof {
                break;
            }
            if seen.is_multiple_of(1000) {
                progress(seen);
            }
        }
        progress(seen);
        if !errors.is_empty() {
            drop(tx); // rolls back
            return Ok(Err(BulkError {
                errors,
                records_seen: seen,
            }));
        }
        set_fts_mark_to_latest(&tx)?;
        tx.commit()?;
        Ok(Ok(saved))
    }

    /// Writes a new revision of `id`. `json` is an RFC 7396 merge patch over the edited revision
    /// (or, with `replace`, the whole new record). `base` is the revision the user was looking at;
    /// when omitted the record must have exactly one head. Editing an older revision than the
    /// head makes a second head (a conflict), never a silent overwrite.
    pub fn edit(
        &mut self,
        id: RecordId,
        json: &[u8],
        base: Option<RevisionId>,
        replace: bool,
    ) -> Result<Saved> {
        let patch: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
            Error::invalid(
                "",
                format!("not valid JSON: {}", strip_position(&e.to_string())),
            )
        })?;
        if !patch.is_object() {
            return Err(Error::invalid("", "expected a JSON object"));
        }
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let (kind, base_rev) = edit_base(&tx, id, base)?;
        let mut data = base_rev
            .data
            .clone()
            .filter(|d| !revision::is_purge_marker(d))
            .ok_or_else(|| {
                Error::invalid("", "this record was purged; its content no longer exists")
            })?;
        if replace {
            data = patch;
        } else {
            revision::merge_patch(&mut data, &patch);
        }
        let v = model::validate_value(kind, &data)?;
        let saved = insert_revision_of(&tx, &o.device, id, base_rev, v)?;
        tx.commit()?;
        self.after_save()?;
        Ok(saved)
    }

    /// Indexes queued full text once a batch has gathered.
    fn after_save(&mut self) -> Result<()> {
        let o = self.o_mut()?;
        o.text_queue += 1;
        if o.text_queue >= FTS_BATCH {
            flush_text_queue(&o.conn)?;
            o.text_queue = 0;
        }
        Ok(())
    }

    /// The full id of a revision of `record` from a prefix of it (as `history` prints, 8 or more
    /// hex digits).
    pub fn find_revision(&self, record: RecordId, prefix: &str) -> Result<RevisionId> {
        let p = prefix.trim().to_ascii_lowercase();
        if p.len() < 8 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::BadId(prefix.chars().take(80).collect()));
        }
        let found: Vec<RevisionId> = self
            .history(record)?
            .into_iter()
            .map(|h| h.id)
            .filter(|id| id.as_str().starts_with(&p))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(Error::NotFound(format!("revision {p} of record {record}"))),
            _ => Err(Error::invalid(
                "revision",
                "that prefix matches several revisions: give more digits",
            )),
        }
    }

    /// Purges a record (consent withdrawn, a court order): the content of every revision and
    /// every attachment of it is destroyed here; a purge marker revision (naming the revisions
    /// and attachments, never their content) replaces the heads and travels in the next bundle,
    /// so coordinators' copies are purged on import too. `reason` goes to the audit log.
    pub fn purge(&mut self, id: RecordId, reason: &str) -> Result<Saved> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "reason",
                "say why the record is purged (--reason)",
            ));
        }
        let dir = self.dir.clone();
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let kind = record_kind(&tx, id)?;
        let history: Vec<(String, Option<String>)> = collect(
            tx.prepare(
                "WITH RECURSIVE h(id) AS ( \
                     SELECT value FROM json_each((SELECT heads FROM records WHERE id = ?1)) \
                     UNION SELECT p.value FROM h CROSS JOIN revisions v ON v.id = h.id, json_each(v.parents) p) \
                 SELECT v.id, v.data FROM h CROSS JOIN revisions v ON v.id = h.id ORDER BY v.seq",
            )?
            .query_map([id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?,
        )?;
        let mut blobs = BTreeSet::new();
        for (_, data) in &history {
            let v: serde_json::Value = data
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or_default();
            for a in v
                .get("attachments")
                .and_then(|a| a.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(b) = a.get("blob").and_then(|b| b.as_str()) {
                    blobs.insert(b.to_owned());
                }
            }
        }
        let revisions: Vec<String> = history.iter().map(|(r, _)| r.clone()).collect();
        let marker =
            serde_json::json!({ revision::PURGE_KEY: { "revisions": revisions, "blobs": blobs } });
        let heads: Vec<RevisionId> = head_ids(&tx, id)?
            .iter()
            .map(|h| h.parse())
            .collect::<Result<_>>()?;
        let at = revision::now();
        let rev = Revision::new(id, kind, heads, o.device.clone(), at.clone(), marker)?;
        store_revision(&tx, &rev)?;
        set_heads(&tx, id, &[rev.id.to_string()])?;
        let files = apply_purge(&tx, id, &revisions, &blobs)?;
        reindex(&tx, id, false, Text::Now, std::slice::from_ref(&rev))?;
        audit::append(
            &tx,
            &o.device,
            &at,
            "record_purged",
            serde_json::json!({ "record": id, "kind": kind, "revision": rev.id, "revisions": revisions.len(), "blobs": blobs.len(), "reason": reason.trim() }),
        )?;
        tx.commit()?;
        finish_purge(&o.conn, &dir, &files)?;
        Ok(Saved {
            record: id,
            revision: rev.id,
            changed: true,
            warnings: vec![],
        })
    }

    /// Records with more than one head (conflicting versions), newest first.
    pub fn conflicts(&self) -> Result<Vec<RecordView>> {
        let o = self.o()?;
        let ids: Vec<String> = collect(
            o.conn
                .prepare(
                    "SELECT id FROM records WHERE json_array_length(heads) > 1 ORDER BY id DESC",
                )?
                .query_map([], |r| r.get(0))?,
        )?;
        ids.iter().map(|id| self.get(id.parse()?)).collect()
    }

    /// Resolves a conflict with a merge revision whose parents are all current heads: its data
    /// is that of the head `keep`, or `json` (a whole record).
    pub fn resolve(
        &mut self,
        id: RecordId,
        keep: Option<RevisionId>,
        json: Option<&[u8]>,
    ) -> Result<Saved> {
        let o = self.o_mut()?;
        let tx = o.conn.transaction()?;
        let kind = record_kind(&tx, id)?;
        let heads = heads_of(&tx, id)?;
        if heads.len() < 2 {
            return Err(Error::invalid(
                "",
                format!("record {id} has no conflict to resolve"),
            ));
        }
        let data = match (keep, json) {
            (Some(k), None) => heads
                .iter()
                .find(|h| h.id == k)
                .ok_or_else(|| {
                    Error::invalid(
                        "keep",
                        format!("{} is not one of the conflicting versions", k.short()),
                    )
                })?
                .data
                .clone()
                .ok_or_else(|| Error::invalid("keep", "that version was purged"))?,
            (None, Some(j)) => serde_json::from_slice(j).map_err(|e| {
                Error::invalid(
                    "",
                    format!("not valid JSON: {}", strip_position(&e.to_string())),
                )
            })?,
            _ => {
                return Err(Error::invalid(
                    "",
                    "say which version to keep, or give the merged record",
                ))
            }
        };
        let v = model::validate_value(kind, &data)?;
        check_references(&tx, &v)?;
        let at = revision::now();
        let parents: Vec<RevisionId> = heads.iter().map(|h| h.id.clone()).collect();
        let rev = Revision::new(
            id,
            kind,
            parents.clone(),
            o.device.clone(),
            at.clone(),
            v.data,
        )?;
        store_revision(&tx, &rev)?;
        set_heads(&tx, id, &[rev.id.to_string()])?;
        reindex(&tx, id, false, Text::Deferred, std::slice::from_ref(&rev))?;
        audit::append(
            &tx,
            &o.device,
            &at,
            "record_resolved",
            serde_json::json!({ "record": id, "kind": kind, "revision": rev.id, "parents": parents }),
        )?;
        tx.commit()?;
        self.after_save()?;
        Ok(Saved {
            record: id,
            revision: rev.id,
            changed: true,
            warnings: v.warnings,
        })
    }

    /// Streams `input` into an encrypted attachment and adds it to record `id` (a new revision).
    pub fn attach(
        &mut self,
        id: RecordId,
        input: impl Read + Send,
        meta: AttachMeta,
    ) -> Result<Saved> {
        let dir = self.dir.clone();
        let recipient = self.o()?.secrets.identity().to_public();
        // Fail before streaming a large file if the record cannot take it.
        {
            let o = self.o()?;
            edit_base(&o.conn, id, None)?;
        }
        let blob = blobs::write(&dir, &recipient, input)?;
        let o = self.o_mut()?;
        let result = (|| -> Result<(Saved, bool)> {
            let tx = o.conn.transaction()?;
            let (kind, base_rev) = edit_base(&tx, id, None)?;
            let mut data = base_rev
                .data
                .clone()
                .filter(|d| !revision::is_purge_marker(d))
                .ok_or_else(|| {
                    Error::invalid("", "this record was purged; nothing can be attached to it")
                })?;
            let atts = data
                .as_object_mut()
                .ok_or_else(|| Error::invalid("", "record data is not an object"))?
                .entry("attachments")
                .or_insert_with(|| serde_json::Value::Array(vec![]));
            if atts.as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x.get("blob").and_then(|b| b.as_str()) == Some(&blob.sha256))
            }) {
                return Err(Error::invalid(
                    "attachments",
                    "this file is already attached to the record",
                ));
            }
            let att = Attachment {
                blob: blob.sha256.clone(),
                size: blob.size,
                media_type: meta.media_type.clone(),
                name: meta.name.clone(),
                caption: meta.caption.clone(),
            };
            atts.as_array_mut()
                .ok_or_else(|| Error::invalid("attachments", "must be a list"))?
                .push(serde_json::to_value(att).expect("serialisable"));
            let v = model::validate_value(kind, &data)?;
            let existing: Option<String> = tx
                .query_row(
                    "SELECT file FROM blobs WHERE sha256 = ?1",
                    [&blob.sha256],
                    |r| r.get(0),
                )
                .optional()?;
            let reuse = existing.is_some();
            if !reuse {
                tx.execute(
                    "INSERT INTO blobs(sha256, file, size, added_at) VALUES (?1, ?2, ?3, ?4)",
                    params![blob.sha256, blob.rel, blob.size as i64, revision::now()],
                )?;
            }
            let saved = insert_revision_of(&tx, &o.device, id, base_rev, v)?;
            tx.commit()?;
            Ok((saved, reuse))
        })();
        match result {
            Ok((saved, reuse)) => {
                if reuse {
                    // Same content already stored: keep one encrypted copy.
                    let _ = fs::remove_file(dir.join(&blob.rel));
                }
                self.after_save()?;
                Ok(saved)
            }
            Err(e) => {
                let _ = fs::remove_file(dir.join(&blob.rel));
                Err(e)
            }
        }
    }

    /// Opens an attachment's plaintext as a stream (decrypted in memory, chunk by chunk).
    pub fn open_attachment(&self, sha256: &str) -> Result<Box<dyn Read + Send>> {
        let o = self.o()?;
        let rel: String = o
            .conn
            .query_row("SELECT file FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("attachment {sha256}")))?;
        blobs::open(&self.dir, &rel, o.secrets.identity())
    }

    /// Changes the passphrase: the keyslot is rewritten atomically (R3).
    pub fn change_passphrase(&mut self, new: &Passphrase, work_factor: Option<u8>) -> Result<()> {
        let strength = keys::passphrase_strength(new.expose());
        if strength.score == 0 {
            return Err(Error::WeakPassphrase(strength.hint.into()));
        }
        let o = self.o()?;
        keys::write_passphrase_slot(&self.dir, new, &o.secrets, work_factor)?;
        audit::append(
            &o.conn,
            &o.device,
            &revision::now(),
            "passphrase_changed",
            serde_json::json!({}),
        )
    }

    /// Adds a recovery keyslot for the organisation's age X25519 recipient.
    pub fn add_recovery(&mut self, recipient: &age::x25519::Recipient) -> Result<PathBuf> {
        let o = self.o()?;
        let path = keys::write_recovery_slot(&self.dir, recipient, &o.secrets)?;
        let fp = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        audit::append(
            &o.conn,
            &o.device,
            &revision::now(),
            "recovery_keyslot_added",
            serde_json::json!({ "keyslot": fp }),
        )?;
        Ok(path)
    }

    // ------------------------------------------------------------------ reading

    /// A record and its head(s).
    pub fn get(&self, id: RecordId) -> Result<RecordView> {
        let o = self.o()?;
        let kind = record_kind(&o.conn, id)?;
        let heads = heads_of(&o.conn, id)?;
        Ok(RecordView { id, kind, heads })
    }

    /// The one-line summary of a record (title, derived details such as attempt number and
    /// days waiting).
    pub fn summary(&self, id: RecordId) -> Result<Summary> {
        let o = self.o()?;
        record_kind(&o.conn, id)?;
        Summarizer::new(&o.conn).summary(&id.to_string())
    }

    /// The records whose current version refers to `id`, newest first: a person's testimonies
    /// (as witness or victim), attempts, relatives naming them and cases holding them; a
    /// testimony's or attempt's cases. From the index of references every save keeps (a
    /// narrative that merely quotes an id is not a reference).
    pub fn related(&self, id: RecordId) -> Result<Vec<Summary>> {
        let o = self.o()?;
        record_kind(&o.conn, id)?;
        let rid = id.to_string();
        let ids: Vec<String> = collect(
            o.conn
                .prepare_cached(
                    "SELECT record FROM refs WHERE target = ?1 AND record <> ?1 ORDER BY record DESC",
                )?
                .query_map([&rid], |r| r.get(0))?,
        )?;
        let mut s = Summarizer::new(&o.conn);
        ids.iter().map(|other| s.summary(other)).collect()
    }

    /// The history of a record, oldest first.
    pub fn history(&self, id: RecordId) -> Result<Vec<HistoryEntry>> {
        let o = self.o()?;
        record_kind(&o.conn, id)?;
        let heads: BTreeSet<String> = head_ids(&o.conn, id)?.into_iter().collect();
        // Every revision of a record is an ancestor of one of its heads.
        let mut st = o.conn.prepare_cached(
            "WITH RECURSIVE h(id) AS ( \
                 SELECT value FROM json_each((SELECT heads FROM records WHERE id = ?1)) \
                 UNION SELECT p.value FROM h CROSS JOIN revisions v ON v.id = h.id, json_each(v.parents) p) \
             SELECT v.id, v.parents, v.device, v.at, v.purged FROM h CROSS JOIN revisions v ON v.id = h.id \
             ORDER BY v.seq",
        )?;
        let rows = st.query_map([id.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (rid, parents, device, at, purged) = row?;
            out.push(HistoryEntry {
                head: heads.contains(&rid),
                id: rid.parse()?,
                parents: serde_json::from_str(&parents).unwrap_or_default(),
                device,
                at,
                purged,
            });
        }
        Ok(out)
    }

    /// Lists records, optionally of one kind, newest first.
    pub fn list(&self, kind: Option<Kind>) -> Result<Vec<Summary>> {
        let o = self.o()?;
        let ids: Vec<String> = match kind {
            Some(k) => collect(
                o.conn
                    .prepare("SELECT id FROM records WHERE kind = ?1 ORDER BY id DESC")?
                    .query_map([k.as_str()], |r| r.get(0))?,
            )?,
            None => collect(
                o.conn
                    .prepare("SELECT id FROM records ORDER BY id DESC")?
                    .query_map([], |r| r.get(0))?,
            )?,
        };
        let mut s = Summarizer::new(&o.conn);
        ids.iter().map(|id| s.summary(id)).collect()
    }

    /// One page of [`Vault::list`] and the total: only the page's summaries are computed, so a
    /// scrolling list of 100,000 records costs the same per page as one of 100.
    pub fn list_page(
        &self,
        kind: Option<Kind>,
        offset: usize,
        limit: usize,
    ) -> Result<(usize, Vec<Summary>)> {
        let o = self.o()?;
        // One kind walks the (kind, id) index; all kinds the primary key. Two statements, so
        // each uses its index (`?1 IS NULL OR kind = ?1` would scan the table).
        let (total, ids): (i64, Vec<String>) = match kind {
            Some(k) => (
                o.conn.query_row(
                    "SELECT count(*) FROM records WHERE kind = ?1",
                    [k.as_str()],
                    |r| r.get(0),
                )?,
                collect(
                    o.conn
                        .prepare_cached(
                            "SELECT id FROM records WHERE kind = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3",
                        )?
                        .query_map(params![k.as_str(), limit as i64, offset as i64], |r| {
                            r.get(0)
                        })?,
                )?,
            ),
            None => (
                o.conn
                    .query_row("SELECT count(*) FROM records", [], |r| r.get(0))?,
                collect(
                    o.conn
                        .prepare_cached("SELECT id FROM records ORDER BY id DESC LIMIT ?1 OFFSET ?2")?
                        .query_map(params![limit as i64, offset as i64], |r| r.get(0))?,
                )?,
            ),
        };
        let mut s = Summarizer::new(&o.conn);
        let rows = ids.iter().map(|id| s.summary(id)).collect::<Result<_>>()?;
        Ok((total as usize, rows))
    }

    /// Searches names in any script and spelling, document and reference numbers, record ids
    /// and full text. At most `limit` hits, best kind of match first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Hit>> {
        let o = self.o()?;
        let q = query.trim();
        let mut found: Vec<(MatchKind, String)> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut push = |m: MatchKind, ids: Vec<String>, found: &mut Vec<(MatchKind, String)>| {
            for id in ids {
                if seen.insert(id.clone()) {
                    found.push((m, id));
                }
            }
        };
        let lim = limit as i64;
        let top = "\u{10FFFF}";
        // Record ids (or a prefix of one, as printed by `list`).
        let idq = q.to_ascii_lowercase();
        if idq.len() >= 8 && idq.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
            let ids = collect(
                o.conn
                    .prepare_cached(
                        "SELECT id FROM records WHERE id >= ?1 AND id < ?1 || ?2 LIMIT ?3",
                    )?
                    .query_map(params![idq, top, lim], |r| r.get(0))?,
            )?;
            push(MatchKind::Id, ids, &mut found);
        }
        // Document / receipt / reference numbers.
        let nk = search::number_key(q);
        if nk.chars().count() >= 3 && nk.chars().any(|c| c.is_ascii_digit()) {
            let ids = collect(
                o.conn
                    .prepare_cached(
                        "SELECT DISTINCT record FROM number_keys WHERE key >= ?1 AND key < ?1 || ?2 LIMIT ?3",
                    )?
                    .query_map(params![nk, top, lim], |r| r.get(0))?,
            )?;
            push(MatchKind::Number, ids, &mut found);
        }
        // Names, across scripts: every query word must prefix some name word of the record.
        let keys: Vec<String> = search::words(q)
            .map(search::word_key)
            .filter(|k| k.chars().count() >= 2)
            .take(8)
            .collect();
        if !keys.is_empty() {
            let sql = keys
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    format!(
                        "SELECT record FROM name_keys WHERE key >= ?{} AND key < ?{} || ?1",
                        i + 3,
                        i + 3
                    )
                })
                .collect::<Vec<_>>()
                .join(" INTERSECT ");
            let sql = format!("{sql} LIMIT ?2");
            let mut p: Vec<&dyn rusqlite::ToSql> = vec![&top, &lim];
            for k in &keys {
                p.push(k);
            }
            let ids = collect(
                o.conn
                    .prepare_cached(&sql)?
                    .query_map(p.as_slice(), |r| r.get(0))?,
            )?;
            push(MatchKind::Name, ids, &mut found);
        }
        // Full text, newest first (after indexing whatever saves have queued).
        if let Some(fq) = search::fts_query(q) {
            if text_queue_len(&o.conn)? > 0 {
                flush_text_queue(&o.conn)?;
            }
            let ids = collect(
                o.conn
                    .prepare_cached(
                        "SELECT f.record FROM fts_rows f WHERE f.rowid IN \
                         (SELECT rowid FROM fts WHERE fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) \
                         ORDER BY f.rowid DESC",
                    )?
                    .query_map(params![fq, lim], |r| r.get(0))?,
            )?;
            push(MatchKind::Text, ids, &mut found);
        }
        let mut s = Summarizer::new(&o.conn);
        found
            .into_iter()
            .take(limit)
            .map(|(m, id)| {
                Ok(Hit {
                    matched: m,
                    summary: s.summary(&id)?,
                })
            })
            .collect()
    }

    /// The audit log, oldest first.
    pub fn audit(&self) -> Result<Vec<audit::AuditEvent>> {
        audit::all(&self.o()?.conn)
    }

    /// Checks SQLCipher page integrity, every revision id against its content, the revision
    /// graph and heads, the audit chain, and that every referenced attachment file exists.
    pub fn verify(&self) -> Result<VerifyReport> {
        let o = self.o()?;
        let c = &o.conn;
        let mut rep = VerifyReport::default();
        let ic: Vec<String> = collect(
            c.prepare("PRAGMA integrity_check")?
                .query_map([], |r| r.get(0))?,
        )?;
        if ic != ["ok"] {
            rep.problems
                .push(format!("database integrity: {}", ic.join("; ")));
        }
        let cic: Vec<String> = collect(
            c.prepare("PRAGMA cipher_integrity_check")?
                .query_map([], |r| r.get(0))?,
        )?;
        if !cic.is_empty() {
            rep.problems.push(format!(
                "encrypted pages fail authentication: {}",
                cic.join("; ")
            ));
        }
        rep.records =
            c.query_row("SELECT count(*) FROM records", [], |r| r.get::<_, i64>(0))? as usize;
        let mut ids: HashMap<String, String> = HashMap::new(); // revision -> record
        let mut parents_of: Vec<(String, String, Vec<String>)> = Vec::new();
        {
            let mut st = c.prepare(
                "SELECT v.id, v.record, r.kind, v.parents, v.device, v.at, v.data, v.purged \
                 FROM revisions v JOIN records r ON r.id = v.record ORDER BY v.seq",
            )?;
            let mut rows = st.query([])?;
            while let Some(row) = rows.next()? {
                rep.revisions += 1;
                let id: String = row.get(0)?;
                let record: String = row.get(1)?;
                let kind: String = row.get(2)?;
                let parents: String = row.get(3)?;
                let device: String = row.get(4)?;
                let at: String = row.get(5)?;
                let data: Option<String> = row.get(6)?;
                let purged: bool = row.get(7)?;
                let parents: Vec<String> = serde_json::from_str(&parents).unwrap_or_default();
                if !purged {
                    let ok = (|| -> Option<bool> {
                        let rev = Revision {
                            id: id.parse().ok()?,
                            record: record.parse().ok()?,
                            kind: kind.parse().ok()?,
                            parents: parents
                                .iter()
                                .map(|p| p.parse().ok())
                                .collect::<Option<_>>()?,
                            device,
                            at,
                            data: Some(serde_json::from_str(data.as_deref()?).ok()?),
                        };
                        rev.id_matches()
                    })();
                    if ok != Some(true) {
                        rep.problems.push(format!(
                            "revision {} of record {record} does not match its id (altered content)",
                            &id[..12.min(id.len())]
                        ));
                    }
                }
                ids.insert(id.clone(), record.clone());
                parents_of.push((id, record, parents));
            }
        }
        let mut has_child: BTreeSet<String> = BTreeSet::new();
        for (id, record, parents) in &parents_of {
            for p in parents {
                match ids.get(p) {
                    Some(r) if r == record => {
                        has_child.insert(p.clone());
                    }
                    _ => rep.problems.push(format!(
                        "revision {} names a parent {} that is not in this record's history",
                        &id[..12],
                        &p[..12.min(p.len())]
                    )),
                }
            }
        }
        let expected_heads: BTreeSet<(String, String)> = parents_of
            .iter()
            .filter(|(id, _, _)| !has_child.contains(id))
            .map(|(id, r, _)| (r.clone(), id.clone()))
            .collect();
        let stored_heads: BTreeSet<(String, String)> = collect(
            c.prepare("SELECT r.id, h.value FROM records r, json_each(r.heads) h")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
        )?
        .into_iter()
        .collect();
        if expected_heads != stored_heads {
            rep.problems
                .push("the list of current versions (heads) does not match the history".into());
        }
        match audit::verify(c)? {
            Ok(n) => rep.audit_events = n,
            Err(p) => rep.problems.push(p),
        }
        let blob_rows: Vec<(String, String)> = collect(
            c.prepare("SELECT sha256, file FROM blobs")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?,
        )?;
        let known: BTreeSet<&str> = blob_rows.iter().map(|(s, _)| s.as_str()).collect();
        for (sha, file) in &blob_rows {
            if self.dir.join(file).is_file() {
                rep.blobs += 1;
            } else {
                rep.problems
                    .push(format!("attachment {} is missing its file", &sha[..12]));
            }
        }
        // Every attachment a current version refers to must be stored.
        let mut st = c.prepare(
            "SELECT v.data FROM records r, json_each(r.heads) h JOIN revisions v ON v.id = h.value \
             WHERE v.data LIKE '%\"blob\":%'",
        )?;
        let mut rows = st.query([])?;
        while let Some(row) = rows.next()? {
            let data: String = row.get(0)?;
            let v: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            if let Some(atts) = v.get("attachments").and_then(|a| a.as_array()) {
                for a in atts {
                    if let Some(b) = a.get("blob").and_then(|b| b.as_str()) {
                        if !known.contains(b) {
                            rep.problems.push(format!(
                                "attachment {} is referenced but not stored",
                                &b[..12.min(b.len())]
                            ));
                        }
                    }
                }
            }
        }
        Ok(rep)
    }
}

/// Reads one line (without its `\n`) of at most `max` bytes; `None` at the end of input. A longer
/// line is read to its end without being kept and reported as `Err(its length)`.
fn next_line(
    r: &mut impl BufRead,
    max: usize,
) -> std::io::Result<Option<std::result::Result<Vec<u8>, usize>>> {
    let mut line = Vec::new();
    let mut len = 0usize;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            break;
        }
        any = true;
        let (chunk, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (&avail[..i], Some(i + 1)),
            None => (avail, None),
        };
        if len + chunk.len() <= max {
            line.extend_from_slice(chunk);
        } else {
            line = Vec::new();
        }
        len += chunk.len();
        let used = done.unwrap_or(avail.len());
        r.consume(used);
        if done.is_some() {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    Ok(Some(if len > max { Err(len) } else { Ok(line) }))
}

fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    }
}

fn collect<T>(rows: impl Iterator<Item = rusqlite::Result<T>>) -> Result<Vec<T>> {
    rows.map(|r| r.map_err(Error::Db)).collect()
}

fn record_kind(c: &Connection, id: RecordId) -> Result<Kind> {
    let k: Option<String> = c
        .prepare_cached("SELECT kind FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    k.ok_or_else(|| Error::NotFound(format!("record {id}")))?
        .parse()
}

/// `id, record, kind, parents, device, at, data` as read from the database.
type RevRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

fn row_to_revision(r: &rusqlite::Row<'_>) -> rusqlite::Result<RevRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn to_revision(t: RevRow) -> Result<Revision> {
    let (id, record, kind, parents, device, at, data) = t;
    Ok(Revision {
        id: id.parse()?,
        record: record.parse()?,
        kind: kind.parse()?,
        parents: serde_json::from_str(&parents).map_err(|e| Error::Verify(e.to_string()))?,
        device,
        at,
        data: data
            .map(|d| serde_json::from_str(&d))
            .transpose()
            .map_err(|e| Error::Verify(e.to_string()))?,
    })
}

const REVISION_COLUMNS: &str = "v.id, v.record, r.kind, v.parents, v.device, v.at, v.data";

/// Ids of the current head revisions of a record, oldest first.
fn head_ids(c: &Connection, id: RecordId) -> Result<Vec<String>> {
    let heads: Option<String> = c
        .prepare_cached("SELECT heads FROM records WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    let heads = heads.ok_or_else(|| Error::NotFound(format!("record {id}")))?;
    serde_json::from_str(&heads)
        .map_err(|e| Error::Verify(format!("record {id}: heads unreadable: {e}")))
}

fn set_heads(tx: &Connection, id: RecordId, heads: &[String]) -> Result<()> {
    tx.prepare_cached("UPDATE records SET heads = ?2 WHERE id = ?1")?
        .execute(params![
            id.to_string(),
            serde_json::to_string(heads).expect("serialisable")
        ])?;
    Ok(())
}

fn heads_of(c: &Connection, id: RecordId) -> Result<Vec<Revision>> {
    head_ids(c, id)?
        .iter()
        .map(|h| revision_by_id(c, &h.parse()?))
        .collect()
}

/// A revision by its local sequence number.
pub(crate) fn revision_by_seq(c: &Connection, seq: i64) -> Result<Revision> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions v JOIN records r ON r.id = v.record WHERE v.seq = ?1"
    ))?;
    to_revision(st.query_row([seq], row_to_revision)?)
}

fn revision_by_id(c: &Connection, rid: &RevisionId) -> Result<Revision> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {REVISION_COLUMNS} FROM revisions v JOIN records r ON r.id = v.record WHERE v.id = ?1"
    ))?;
    let row = st.query_row([rid.as_str()], row_to_revision).optional()?;
    to_revision(row.ok_or_else(|| Error::NotFound(format!("revision {rid}")))?)
}

/// The kind and the revision an edit starts from.
fn edit_base(c: &Connection, id: RecordId, base: Option<RevisionId>) -> Result<(Kind, Revision)> {
    let kind = record_kind(c, id)?;
    let rev = match base {
        Some(b) => {
            let r = revision_by_id(c, &b)?;
            if r.record != id {
                return Err(Error::invalid(
                    "base",
                    format!("revision {} belongs to another record", b.short()),
                ));
            }
            r
        }
        None => {
            let mut heads = heads_of(c, id)?;
            if heads.len() != 1 {
                return Err(Error::Conflict {
                    record: id.to_string(),
                    heads: heads.len(),
                });
            }
            heads.pop().expect("one head")
        }
    };
    Ok((kind, rev))
}

fn check_references(tx: &Connection, v: &Validated) -> Result<()> {
    let mut st = tx.prepare_cached("SELECT kind FROM records WHERE id = ?1")?;
    for r in &v.references {
        let k: Option<String> = st
            .query_row([r.id.to_string()], |row| row.get(0))
            .optional()?;
        match k {
            None => {
                return Err(Error::invalid(
                    &r.field,
                    format!("no {} with id {} in this vault", r.kind, r.id),
                ))
            }
            Some(k) if k != r.kind.as_str() => {
                return Err(Error::invalid(
                    &r.field,
                    format!("{} is a {k}, not a {}", r.id, r.kind),
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

fn insert_new(tx: &Transaction<'_>, device: &str, v: Validated, text: Text) -> Result<Saved> {
    check_references(tx, &v)?;
    let id = RecordId::new();
    let at = revision::now();
    let rev = Revision::new(id, v.kind, vec![], device.to_owned(), at.clone(), v.data)?;
    tx.prepare_cached("INSERT INTO records(id, kind, created_at, heads) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            id.to_string(),
            v.kind.as_str(),
            at,
            format!("[\"{}\"]", rev.id)
        ])?;
    store_revision(tx, &rev)?;
    reindex(tx, id, true, text, std::slice::from_ref(&rev))?;
    audit::append(
        tx,
        device,
        &at,
        "record_created",
        serde_json::json!({ "record": id, "kind": v.kind, "revision": rev.id }),
    )?;
    Ok(Saved {
        record: id,
        revision: rev.id,
        changed: true,
        warnings: v.warnings,
    })
}

fn insert_revision_of(
    tx: &Transaction<'_>,
    device: &str,
    id: RecordId,
    base: Revision,
    v: Validated,
) -> Result<Saved> {
    if base.data.as_ref() == Some(&v.data) {
        return Ok(Saved {
            record: id,
            revision: base.id,
            changed: false,
            warnings: v.warnings,
        });
    }
    check_references(tx, &v)?;
    let at = revision::now();
    let rev = Revision::new(
        id,
        v.kind,
        vec![base.id.clone()],
        device.to_owned(),
        at.clone(),
        v.data,
    )?;
    store_revision(tx, &rev)?;
    let mut heads = head_ids(tx, id)?;
    heads.retain(|h| h != base.id.as_str());
    heads.push(rev.id.to_string());
    set_heads(tx, id, &heads)?;
    if heads.len() == 1 {
        reindex(tx, id, false, Text::Deferred, std::slice::from_ref(&rev))?;
    } else {
        reindex(tx, id, false, Text::Deferred, &heads_of(tx, id)?)?;
    }
    audit::append(
        tx,
        device,
        &at,
        "record_revised",
        serde_json::json!({ "record": id, "kind": v.kind, "revision": rev.id, "parents": [base.id] }),
    )?;
    Ok(Saved {
        record: id,
        revision: rev.id,
        changed: true,
        warnings: v.warnings,
    })
}

fn store_revision(tx: &Connection, rev: &Revision) -> Result<()> {
    let data = rev
        .data
        .as_ref()
        .map(|d| revision::canonical_json(d).map(|b| String::from_utf8(b).expect("JSON is UTF-8")))
        .transpose()?;
    tx.prepare_cached(
        "INSERT INTO revisions(id, record, parents, device, at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        rev.id.as_str(),
        rev.record.to_string(),
        serde_json::to_string(&rev.parents).expect("serialisable"),
        rev.device,
        rev.at,
        data
    ])?;
    Ok(())
}

/// Destroys the content of `revisions` of `record` and the attachments `blobs` that nothing
/// else still refers to, inside `tx`. Returns the attachment files to delete after commit.
fn check_draft_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(Error::invalid("draft", "a draft key is one short line"));
    }
    Ok(())
}

pub(crate) fn apply_purge(
    tx: &Connection,
    record: RecordId,
    revisions: &[String],
    blobs: &BTreeSet<String>,
) -> Result<Vec<String>> {
    let rid = record.to_string();
    tx.prepare_cached("DELETE FROM drafts WHERE record = ?1")?
        .execute([&rid])?;
    for r in revisions {
        tx.prepare_cached(
            "UPDATE revisions SET data = NULL, purged = 1 WHERE id = ?1 AND record = ?2 \
             AND (data IS NULL OR json_extract(data, '$.kuager_purge') IS NULL)",
        )?
        .execute(params![r, rid])?;
    }
    let mut files = Vec::new();
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
        let file: Option<String> = tx
            .prepare_cached("SELECT file FROM blobs WHERE sha256 = ?1")?
            .query_row([b], |r| r.get(0))
            .optional()?;
        if let Some(f) = file {
            tx.prepare_cached("DELETE FROM blobs WHERE sha256 = ?1")?
                .execute([b])?;
            files.push(f);
        }
    }
    Ok(files)
}

/// After a purge commits: delete the attachment files, merge the full-text index so deleted
/// terms leave its segments, and checkpoint the WAL so old page images leave it too.
pub(crate) fn finish_purge(conn: &Connection, dir: &Path, files: &[String]) -> Result<()> {
    for f in files {
        let _ = fs::remove_file(dir.join(f));
    }
    conn.execute("INSERT INTO fts(fts) VALUES ('optimize')", [])?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

/// Rebuilds every search entry of a record from its heads, now (used by import).
pub(crate) fn reindex_record(tx: &Connection, id: RecordId) -> Result<()> {
    let heads = heads_of(tx, id)?;
    reindex(tx, id, false, Text::Now, &heads)
}

/// How a save updates the full-text index.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Text {
    /// Now, in the same transaction (bulk adds: FTS5 batches a whole transaction into one
    /// segment, so this is the cheap way for many records).
    Now,
    /// Left to the queue — the revisions after `meta.fts_seq` — and indexed in batches before
    /// the next search or when [`FTS_BATCH`] revisions wait. A single save then writes a handful
    /// of pages instead of a new FTS segment and its merges; nothing is lost on a crash (the
    /// queue is the revisions table itself).
    Deferred,
}

/// Queued revisions that trigger indexing after a save.
const FTS_BATCH: i64 = 64;

/// Rebuilds the search entries of one record from its current head(s): name and number keys
/// at once, full text now or deferred.
fn reindex(
    tx: &Connection,
    id: RecordId,
    fresh: bool,
    text: Text,
    heads: &[Revision],
) -> Result<()> {
    let rid = id.to_string();
    if !fresh {
        tx.prepare_cached("DELETE FROM name_keys WHERE record = ?1")?
            .execute([&rid])?;
        tx.prepare_cached("DELETE FROM number_keys WHERE record = ?1")?
            .execute([&rid])?;
        tx.prepare_cached("DELETE FROM refs WHERE record = ?1")?
            .execute([&rid])?;
    }
    let mut refs = BTreeSet::new();
    for h in heads {
        if let Some(d) = h.data.as_ref().filter(|d| !revision::is_purge_marker(d)) {
            refs.extend(model::references_in(h.kind, d));
        }
    }
    if !refs.is_empty() {
        let mut st =
            tx.prepare_cached("INSERT OR IGNORE INTO refs(target, record) VALUES (?1, ?2)")?;
        for t in &refs {
            st.execute(params![t, rid])?;
        }
    }
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for h in heads {
        let Some(d) = &h.data else { continue };
        if revision::is_purge_marker(d) {
            continue;
        }
        if h.kind == Kind::Person {
            for n in d
                .get("names")
                .and_then(|n| n.as_array())
                .into_iter()
                .flatten()
            {
                for s in string_leaves(n) {
                    names.extend(search::name_keys(s));
                }
            }
            for doc in d
                .get("documents")
                .and_then(|n| n.as_array())
                .into_iter()
                .flatten()
            {
                let series = doc.get("series").and_then(|s| s.as_str()).unwrap_or("");
                let number = doc.get("number").and_then(|s| s.as_str()).unwrap_or("");
                numbers.insert(search::number_key(number));
                if !series.is_empty() {
                    numbers.insert(search::number_key(&format!("{series}{number}")));
                }
            }
            for x in d
                .get("cross_references")
                .and_then(|n| n.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(s) = x.get("id").and_then(|s| s.as_str()) {
                    numbers.insert(search::number_key(s));
                }
            }
        }
        for key in ["receipt_number", "reference"] {
            if let Some(s) = d.get(key).and_then(|s| s.as_str()) {
                numbers.insert(search::number_key(s));
            }
        }
    }
    numbers.retain(|n| !n.is_empty());
    {
        let mut st =
            tx.prepare_cached("INSERT OR IGNORE INTO name_keys(key, record) VALUES (?1, ?2)")?;
        for k in &names {
            st.execute(params![k, rid])?;
        }
        let mut st =
            tx.prepare_cached("INSERT OR IGNORE INTO number_keys(key, record) VALUES (?1, ?2)")?;
        for k in &numbers {
            st.execute(params![k, rid])?;
        }
    }
    match text {
        Text::Now => index_text(tx, &rid, heads, fresh),
        Text::Deferred => Ok(()),
    }
}

fn index_text(tx: &Connection, rid: &str, heads: &[Revision], fresh: bool) -> Result<()> {
    let mut body = String::new();
    for h in heads {
        if let Some(d) = h.data.as_ref().filter(|d| !revision::is_purge_marker(d)) {
            collect_text(d, &mut body);
        }
    }
    let rowid: Option<i64> = if fresh {
        None
    } else {
        tx.prepare_cached("SELECT rowid FROM fts_rows WHERE record = ?1")?
            .query_row([rid], |r| r.get(0))
            .optional()?
    };
    let rowid = match rowid {
        Some(r) => {
            tx.prepare_cached("DELETE FROM fts WHERE rowid = ?1")?
                .execute([r])?;
            r
        }
        None => {
            tx.prepare_cached("INSERT INTO fts_rows(record) VALUES (?1)")?
                .execute([rid])?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached("INSERT INTO fts(rowid, body) VALUES (?1, ?2)")?
        .execute(params![rowid, body])?;
    Ok(())
}

/// Indexes the text of every record revised after `meta.fts_seq`, in one transaction.
fn flush_text_queue(c: &Connection) -> Result<()> {
    let tx = c.unchecked_transaction()?;
    let mark = fts_mark(&tx)?;
    let pending: Vec<String> = collect(
        tx.prepare_cached("SELECT DISTINCT record FROM revisions WHERE seq > ?1")?
            .query_map([mark], |r| r.get(0))?,
    )?;
    for rid in &pending {
        let heads = heads_of(&tx, rid.parse()?)?;
        index_text(&tx, rid, &heads, false)?;
    }
    set_fts_mark_to_latest(&tx)?;
    tx.commit()?;
    Ok(())
}

fn fts_mark(c: &Connection) -> Result<i64> {
    let v: String = c
        .prepare_cached("SELECT value FROM meta WHERE key = 'fts_seq'")?
        .query_row([], |r| r.get(0))?;
    Ok(v.parse().unwrap_or(0))
}

fn set_fts_mark_to_latest(tx: &Connection) -> Result<()> {
    tx.prepare_cached(
        "UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM revisions) WHERE key = 'fts_seq'",
    )?
    .execute([])?;
    Ok(())
}

fn text_queue_len(c: &Connection) -> Result<i64> {
    let latest: i64 = c
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM revisions")?
        .query_row([], |r| r.get(0))?;
    Ok(latest - fts_mark(c)?)
}

fn string_leaves(v: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

/// Every human-readable string of a record (not ids, hashes or media types) for full text.
fn collect_text(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) if uuid::Uuid::try_parse(s).is_err() => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_text(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if !matches!(k.as_str(), "blob" | "photo" | "media_type" | "size") {
                    collect_text(x, out);
                }
            }
        }
        _ => {}
    }
}

/// Builds display summaries, caching person names (testimonies and attempts show the witness).
struct Summarizer<'c> {
    conn: &'c Connection,
    names: HashMap<String, String>,
    attempts_by_person: HashMap<String, Vec<(String, String)>>,
}

impl<'c> Summarizer<'c> {
    fn new(conn: &'c Connection) -> Self {
        Summarizer {
            conn,
            names: HashMap::new(),
            attempts_by_person: HashMap::new(),
        }
    }

    fn summary(&mut self, id: &str) -> Result<Summary> {
        let rid: RecordId = id.parse()?;
        let heads = heads_of(self.conn, rid)?;
        let head = heads
            .last()
            .ok_or_else(|| Error::NotFound(format!("record {id}")))?;
        let kind = head.kind;
        let empty = serde_json::Value::Null;
        let d = head.data.as_ref().unwrap_or(&empty);
        if revision::is_purge_marker(d) {
            return Ok(Summary {
                id: rid,
                kind: head.kind,
                title: "(purged)".into(),
                detail: "content destroyed".into(),
                facts: vec![("purged", String::new())],
                updated_at: head.at.clone(),
                conflict: heads.len() > 1,
            });
        }
        let s = |k: &str| d.get(k).and_then(|v| v.as_str()).unwrap_or("").to_owned();
        let mut facts: Vec<(&'static str, String)> = Vec::new();
        let mut fact = |k: &'static str, v: String| {
            if !v.is_empty() {
                facts.push((k, v));
            }
        };
        let (title, detail) = match kind {
            Kind::Person => {
                let names: Vec<&str> = d
                    .get("names")
                    .and_then(|n| n.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n.get("value").and_then(|v| v.as_str()))
                    .collect();
                let title = names.first().copied().unwrap_or("(purged)").to_owned();
                let mut detail = names
                    .iter()
                    .skip(1)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · ");
                let dob = s("date_of_birth");
                fact("names", detail.clone());
                fact("born", dob.clone());
                if !dob.is_empty() {
                    detail = if detail.is_empty() {
                        format!("b. {dob}")
                    } else {
                        format!("{detail} · b. {dob}")
                    };
                }
                (title, detail)
            }
            Kind::Testimony => {
                let w = self.person_name(&s("witness"))?;
                let mut detail = s("recorded_at");
                let st = s("status");
                fact("recorded", detail.clone());
                fact("status", st.clone());
                if !st.is_empty() {
                    detail = format!("{detail} {st}").trim().to_owned();
                }
                let n = d
                    .get("attachments")
                    .and_then(|a| a.as_array())
                    .map_or(0, Vec::len);
                if n > 0 {
                    fact("attachments", n.to_string());
                    detail = format!("{detail} · {n} attachment{}", if n == 1 { "" } else { "s" });
                }
                (w, detail)
            }
            Kind::Attempt => {
                let person = s("person");
                let w = self.person_name(&person)?;
                let number = self.attempt_number(&person, id)?;
                let submitted = s("submitted_on");
                let outcome = s("outcome");
                let mut detail = format!("#{number} submitted {submitted}");
                fact("number", number.to_string());
                fact("submitted", submitted.clone());
                fact("outcome", outcome.clone());
                if outcome.is_empty() || outcome == "pending" || outcome == "no-response" {
                    if let Some(days) = days_since(&submitted) {
                        fact("waiting", days.to_string());
                        detail.push_str(&format!(" · waiting {days} days"));
                    }
                    if !outcome.is_empty() {
                        detail.push_str(&format!(" ({outcome})"));
                    }
                } else {
                    fact("outcome_on", s("outcome_on"));
                    detail.push_str(format!(" · {outcome} {}", s("outcome_on")).trim_end());
                }
                (w, detail)
            }
            Kind::Case => {
                let title = s("reference");
                fact("title", s("title"));
                fact("status", s("status"));
                let detail = [s("title"), s("status")]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · ");
                (
                    if title.is_empty() {
                        "(purged)".into()
                    } else {
                        title
                    },
                    detail,
                )
            }
        };
        Ok(Summary {
            id: rid,
            kind,
            title,
            detail,
            facts,
            updated_at: head.at.clone(),
            conflict: heads.len() > 1,
        })
    }

    fn person_name(&mut self, id: &str) -> Result<String> {
        if id.is_empty() {
            return Ok(String::new());
        }
        if let Some(n) = self.names.get(id) {
            return Ok(n.clone());
        }
        let name = match id.parse::<RecordId>() {
            Ok(rid) => heads_of(self.conn, rid)?
                .last()
                .and_then(|h| h.data.as_ref())
                .and_then(|d| d.pointer("/names/0/value"))
                .and_then(|v| v.as_str())
                .unwrap_or("(unknown person)")
                .to_owned(),
            Err(_) => "(unknown person)".into(),
        };
        self.names.insert(id.to_owned(), name.clone());
        Ok(name)
    }

    /// 1-based position of attempt `id` among the person's attempts, by submission date.
    fn attempt_number(&mut self, person: &str, id: &str) -> Result<usize> {
        if !self.attempts_by_person.contains_key(person) {
            // This person's attempts, from the index of references, in the order they were
            // submitted.
            let mut st = self.conn.prepare_cached(
                "SELECT r.id, json_extract(v.data, '$.person'), json_extract(v.data, '$.submitted_on') \
                 FROM refs f JOIN records r ON r.id = f.record AND r.kind = 'attempt' \
                 JOIN revisions v ON v.id = json_extract(r.heads, '$[#-1]') \
                 WHERE f.target = ?1",
            )?;
            let rows: Vec<(String, Option<String>, Option<String>)> =
                collect(st.query_map([person], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)?;
            let mut list: Vec<(String, String)> = rows
                .into_iter()
                .filter(|(_, p, _)| p.as_deref() == Some(person))
                .map(|(rid, _, date)| (rid, date.unwrap_or_default()))
                .collect();
            list.sort_by(|a, b| {
                a.1.trim_end_matches('~')
                    .cmp(b.1.trim_end_matches('~'))
                    .then(a.0.cmp(&b.0))
            });
            self.attempts_by_person.insert(person.to_owned(), list);
        }
        Ok(self
            .attempts_by_person
            .get(person)
            .and_then(|l| l.iter().position(|(r, _)| r == id))
            .map_or(0, |p| p + 1))
    }
}

/// Whole days from a (partial) date to today, counting from its earliest possible day.
pub fn days_since(date: &str) -> Option<i64> {
    let d: model::PartialDate = date.parse().ok()?;
    let start = d.earliest()?;
    let today = time::OffsetDateTime::now_utc().date();
    Some((today - start).whole_days())
}
