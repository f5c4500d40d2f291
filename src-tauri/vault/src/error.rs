//! The one error type of the vault crate.
//!
//! Every variant has a stable machine [`Error::code`] (for the UI and for CLI exit codes) and a
//! message a caseworker can act on. A message may carry a file name the user chose, an id, a
//! field path, or quote the wrong value of a field the user (or a bundle) gave — never stored
//! record content; the audit log keeps refusals with quoted parts masked. Messages speak of what
//! to do, never of how a particular program does it: the command line adds its own commands and
//! flags as hints, the app its own words.

use std::path::PathBuf;

/// Why a bundle was refused, as a closed set a user interface can say in its own words (the
/// [`Rejection`]'s message gives the details, in English).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RejectReason {
    /// Not an age file, or not a Kuager bundle.
    NotABundle,
    /// Encrypted to keys this vault does not hold.
    NotForThisVault,
    /// The passphrase given does not open it.
    WrongPassphrase,
    /// Damaged or cut short on its way.
    Damaged,
    /// Changed after it was signed: a signature, size or hash does not match.
    Tampered,
    /// Signed by a device this vault revoked.
    Revoked,
    /// Larger than this vault accepts.
    TooLarge,
    /// It continues records from an earlier bundle this vault has not imported.
    MissingEarlier,
    /// Anything else a Kuager bundle may not hold.
    Invalid,
}

/// A bundle's refusal: why, and the details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Why, as a closed set.
    pub reason: RejectReason,
    /// What exactly (English; never record content).
    pub message: String,
}

impl Rejection {
    /// A refusal for `reason`.
    pub fn new(reason: RejectReason, message: impl Into<String>) -> Self {
        Rejection {
            reason,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::ops::Deref for Rejection {
    type Target = str;
    fn deref(&self) -> &str {
        &self.message
    }
}

/// Everything that can go wrong in a vault operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The vault is locked: unlock it with the passphrase first.
    #[error("the vault is locked: unlock it with your passphrase first")]
    Locked,

    /// The passphrase does not open this vault.
    #[error("wrong passphrase: this passphrase does not open the vault (check the keyboard layout and Caps Lock)")]
    WrongPassphrase,

    /// The new passphrase is unacceptable.
    #[error("passphrase too weak: {0}")]
    WeakPassphrase(String),

    /// There is no vault at the given place.
    #[error("no vault at {}", .0.display())]
    NoVault(PathBuf),

    /// A vault already exists at the given place.
    #[error("a vault already exists at {}: choose another folder, or open the existing one", .0.display())]
    VaultExists(PathBuf),

    /// The vault folder was written by a newer Kuager, or is not a Kuager vault.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The database could not be updated to this Kuager's schema; nothing in it was changed.
    #[error("this vault could not be updated for this version of Kuager (its database from schema {from} to {to}): {reason}. Nothing in it was changed: the version of Kuager used before still opens it, and a copy of it as it was is in {}", backup.display())]
    Upgrade {
        /// The schema the database is at.
        from: i64,
        /// The schema this Kuager writes.
        to: i64,
        /// The copy kept before the update.
        backup: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A keyslot could not be read or written.
    #[error("keyslot {}: {reason}", path.display())]
    Keyslot {
        /// The keyslot file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },

    /// A record failed validation; `field` is a JSON path such as `names[0].value`.
    #[error("{}{message}", field_prefix(field))]
    Invalid {
        /// Where in the record (a JSON path; empty for the whole record).
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },

    /// No record, revision or blob with this id.
    #[error("not found: {0}")]
    NotFound(String),

    /// An id was given in a form we do not accept.
    #[error(
        "not a valid id: {0:?} (record ids look like 0192c1e4-…, revision ids are 64 hex digits)"
    )]
    BadId(String),

    /// The record has more than one head; the caller must say which revision it edits.
    #[error("record {record} has {heads} conflicting versions: resolve the conflict first, or say which version you edit")]
    Conflict {
        /// The record.
        record: String,
        /// How many heads it has.
        heads: usize,
    },

    /// A bundle was refused on import; nothing was changed.
    #[error("bundle refused, nothing was changed: {0}")]
    Rejected(Rejection),

    /// An export found nothing to put in the bundle.
    #[error("nothing new since the last export to these recipients")]
    NothingToExport,

    /// An export has no one to encrypt the bundle to.
    #[error("no recipients: add the coordinators' keys first")]
    NoRecipients,

    /// The vault's policy forbids bundles encrypted to a passphrase.
    #[error("this vault's policy does not allow bundles encrypted to a passphrase: export to the coordinators' keys, or ask whoever sets the policy to allow them")]
    PassphraseBundlesNotAllowed,

    /// A change to who can read what leaves the vault needs the passphrase typed again.
    #[error("this changes who can read what leaves the vault: type the vault's passphrase again")]
    NeedsPassphrase,

    /// A bundle could not be decrypted for want of an organisation identity.
    #[error("this vault holds no organisation identity to decrypt bundles with: create or import one first")]
    NoIdentity,

    /// A bundle was signed by a device this vault does not trust; nothing was changed.
    #[error("bundle refused, nothing was changed: signed by an unknown device key {key_id}: check the key with the caseworker, then trust it")]
    UnknownSigner {
        /// The device key's id (16 hex digits), as minisign shows it.
        key_id: String,
        /// The device's minisign public key.
        public_key: String,
    },

    /// The user cancelled an export; nothing was written and nothing recorded.
    #[error("the export was cancelled; no bundle was written")]
    Cancelled,

    /// `verify` found damage or tampering.
    #[error("vault verification failed: {0}")]
    Verify(String),

    /// An age operation failed.
    #[error("encryption: {0}")]
    Crypto(String),

    /// The SQLCipher database reported an error.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),

    /// A file could not be read or written.
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A stable, short code for the UI and scripts (never changes meaning between versions).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Locked => "locked",
            Error::WrongPassphrase => "wrong_passphrase",
            Error::WeakPassphrase(_) => "weak_passphrase",
            Error::NoVault(_) => "no_vault",
            Error::VaultExists(_) => "vault_exists",
            Error::Format { .. } => "format",
            Error::Keyslot { .. } => "keyslot",
            Error::Upgrade { .. } => "upgrade_failed",
            Error::Invalid { .. } => "invalid",
            Error::NotFound(_) => "not_found",
            Error::BadId(_) => "bad_id",
            Error::Conflict { .. } => "conflict",
            Error::Verify(_) => "verify_failed",
            Error::NothingToExport => "nothing_to_export",
            Error::NoRecipients => "no_recipients",
            Error::PassphraseBundlesNotAllowed => "passphrase_bundles_not_allowed",
            Error::NoIdentity => "no_identity",
            Error::NeedsPassphrase => "needs_passphrase",
            Error::UnknownSigner { .. } => "unknown_signer",
            Error::Cancelled => "cancelled",
            Error::Rejected(_) => "bundle_rejected",
            Error::Crypto(_) => "crypto",
            Error::Db(_) => "database",
            Error::Io { .. } => "io",
        }
    }

    /// One error of every kind, for the faces' tests to check that they know every code (a
    /// test in this crate fails to compile when a variant is added without one here).
    #[doc(hidden)]
    pub fn examples() -> Vec<Error> {
        let p = || PathBuf::from("/vault");
        let s = String::new;
        vec![
            Error::Locked,
            Error::WrongPassphrase,
            Error::WeakPassphrase(s()),
            Error::NoVault(p()),
            Error::VaultExists(p()),
            Error::Format {
                path: p(),
                reason: s(),
            },
            Error::Keyslot {
                path: p(),
                reason: s(),
            },
            Error::Invalid {
                field: s(),
                message: s(),
            },
            Error::NotFound(s()),
            Error::BadId(s()),
            Error::Conflict {
                record: s(),
                heads: 2,
            },
            Error::Rejected(Rejection::new(RejectReason::Invalid, s())),
            Error::NothingToExport,
            Error::NoRecipients,
            Error::PassphraseBundlesNotAllowed,
            Error::NoIdentity,
            Error::UnknownSigner {
                key_id: s(),
                public_key: s(),
            },
            Error::Cancelled,
            Error::Verify(s()),
            Error::Crypto(s()),
            Error::Db(rusqlite::Error::InvalidQuery),
            Error::Io {
                context: s(),
                source: std::io::Error::other("io"),
            },
            Error::NeedsPassphrase,
            Error::Upgrade {
                from: 12,
                to: 13,
                backup: p(),
                reason: s(),
            },
        ]
    }

    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `field: ` before a message about one field; nothing before one about the whole.
fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The position of a variant in [`Error::examples`]: an exhaustive match, so a new variant
    /// does not compile until it has an example (and the faces learn its code).
    fn index(e: &Error) -> usize {
        match e {
            Error::Locked => 0,
            Error::WrongPassphrase => 1,
            Error::WeakPassphrase(_) => 2,
            Error::NoVault(_) => 3,
            Error::VaultExists(_) => 4,
            Error::Format { .. } => 5,
            Error::Keyslot { .. } => 6,
            Error::Invalid { .. } => 7,
            Error::NotFound(_) => 8,
            Error::BadId(_) => 9,
            Error::Conflict { .. } => 10,
            Error::Rejected(_) => 11,
            Error::NothingToExport => 12,
            Error::NoRecipients => 13,
            Error::PassphraseBundlesNotAllowed => 14,
            Error::NoIdentity => 15,
            Error::UnknownSigner { .. } => 16,
            Error::Cancelled => 17,
            Error::Verify(_) => 18,
            Error::Crypto(_) => 19,
            Error::Db(_) => 20,
            Error::Io { .. } => 21,
            Error::NeedsPassphrase => 22,
            Error::Upgrade { .. } => 23,
        }
    }

    #[test]
    fn there_is_one_example_of_every_error_and_every_code_is_distinct() {
        let ex = Error::examples();
        let found: Vec<usize> = ex.iter().map(index).collect();
        assert_eq!(found, (0..ex.len()).collect::<Vec<_>>());
        let mut codes: Vec<&str> = ex.iter().map(Error::code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), ex.len(), "two kinds of error share a code");
    }
}
