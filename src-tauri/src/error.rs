//! Errors as they cross into the webview: `{code, message, field}`, never an internal path.

use serde::Serialize;
use ts_rs::TS;

/// What went wrong, as a closed set the UI translates. The vault's codes
/// ([`vault::Error::code`]) under the same names, and the app's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum ErrorCode {
    Locked,
    WrongPassphrase,
    WeakPassphrase,
    NoVault,
    VaultExists,
    Format,
    Keyslot,
    UpgradeFailed,
    Invalid,
    NotFound,
    BadId,
    Conflict,
    BundleRejected,
    UnknownSigner,
    NothingToExport,
    NoRecipients,
    PassphraseBundlesNotAllowed,
    NoIdentity,
    NeedsPassphrase,
    Cancelled,
    VerifyFailed,
    Crypto,
    Database,
    Io,
    /// The app is busy with another upload.
    Busy,
}

impl From<&vault::Error> for ErrorCode {
    fn from(e: &vault::Error) -> Self {
        use vault::Error as E;
        match e {
            E::Locked => ErrorCode::Locked,
            E::WrongPassphrase => ErrorCode::WrongPassphrase,
            E::WeakPassphrase(_) => ErrorCode::WeakPassphrase,
            E::NoVault(_) => ErrorCode::NoVault,
            E::VaultExists(_) => ErrorCode::VaultExists,
            E::Format { .. } => ErrorCode::Format,
            E::Keyslot { .. } => ErrorCode::Keyslot,
            E::Upgrade { .. } => ErrorCode::UpgradeFailed,
            E::Invalid { .. } => ErrorCode::Invalid,
            E::NotFound(_) => ErrorCode::NotFound,
            E::BadId(_) => ErrorCode::BadId,
            E::Conflict { .. } => ErrorCode::Conflict,
            E::Rejected(_) => ErrorCode::BundleRejected,
            E::UnknownSigner { .. } => ErrorCode::UnknownSigner,
            E::NothingToExport => ErrorCode::NothingToExport,
            E::NoRecipients => ErrorCode::NoRecipients,
            E::PassphraseBundlesNotAllowed => ErrorCode::PassphraseBundlesNotAllowed,
            E::NoIdentity => ErrorCode::NoIdentity,
            E::NeedsPassphrase => ErrorCode::NeedsPassphrase,
            E::Cancelled => ErrorCode::Cancelled,
            E::Verify(_) => ErrorCode::VerifyFailed,
            E::Crypto(_) => ErrorCode::Crypto,
            E::Db(_) => ErrorCode::Database,
            // A kind of error this build does not know yet.
            E::Io { .. } | _ => ErrorCode::Io,
        }
    }
}

/// Why a bundle was refused ([`vault::RejectReason`]), for the UI to say in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "RejectReason")]
#[allow(missing_docs)]
pub enum RejectReasonDto {
    NotABundle,
    NotForThisVault,
    WrongPassphrase,
    Damaged,
    Tampered,
    Revoked,
    TooLarge,
    MissingEarlier,
    Invalid,
}

impl From<vault::RejectReason> for RejectReasonDto {
    fn from(r: vault::RejectReason) -> Self {
        use vault::RejectReason as R;
        match r {
            R::NotABundle => RejectReasonDto::NotABundle,
            R::NotForThisVault => RejectReasonDto::NotForThisVault,
            R::WrongPassphrase => RejectReasonDto::WrongPassphrase,
            R::Damaged => RejectReasonDto::Damaged,
            R::Tampered => RejectReasonDto::Tampered,
            R::Revoked => RejectReasonDto::Revoked,
            R::TooLarge => RejectReasonDto::TooLarge,
            R::MissingEarlier => RejectReasonDto::MissingEarlier,
            // A reason this build does not know yet.
            R::Invalid | _ => RejectReasonDto::Invalid,
        }
    }
}

/// An error returned by a command.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    /// What went wrong; the UI shows its own text for the codes it knows.
    pub code: ErrorCode,
    /// A caseworker-readable explanation (English; the UI shows its own text for known codes).
    pub message: String,
    /// For `invalid`: the field, as a JSON path (`names[0].value`).
    pub field: Option<String>,
    /// For `bundle_rejected`: why, as a closed set.
    pub reason: Option<RejectReasonDto>,
}

/// The result of every command.
pub type CmdResult<T> = std::result::Result<T, IpcError>;

impl IpcError {
    /// An error of the app itself (not of the vault).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: scrub(&message.into()),
            field: None,
            reason: None,
        }
    }

    /// The same error, about one field of a form.
    pub fn field(mut self, field: &str) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl From<vault::Error> for IpcError {
    fn from(e: vault::Error) -> Self {
        let code = ErrorCode::from(&e);
        let (message, field) = match &e {
            vault::Error::Invalid { field, message } => (message.clone(), Some(field.clone())),
            // Messages of these kinds may carry file paths or library details: say what
            // happened in general terms; the details stay out of the webview.
            vault::Error::Io { .. } => (
                "a file could not be read or written (is the disk full or removed?)".into(),
                None,
            ),
            vault::Error::Db(_) => (
                "the vault's database reported an error; run a check of the vault".into(),
                None,
            ),
            vault::Error::Format { .. } | vault::Error::Keyslot { .. } => (
                "the vault's files are damaged or belong to another version of Kuager".into(),
                None,
            ),
            vault::Error::Upgrade { from, to, .. } => (
                format!(
                    "this vault could not be updated for this version of Kuager (schema {from} to \
                     {to}); nothing in it was changed: the version used before still opens it, and \
                     a copy of it as it was is in its backups folder"
                ),
                None,
            ),
            vault::Error::NoVault(_) => ("there is no vault here yet".into(), None),
            vault::Error::NeedsPassphrase => (e.to_string(), Some("passphrase".into())),
            vault::Error::VaultExists(_) => ("a vault already exists here".into(), None),
            other => (other.to_string(), None),
        };
        let reason = match &e {
            vault::Error::Rejected(r) => Some(r.reason.into()),
            _ => None,
        };
        IpcError {
            code,
            message: scrub(&message),
            field,
            reason,
        }
    }
}

/// Removes anything that looks like a file-system path from a message.
pub fn scrub(message: &str) -> String {
    message
        .split(' ')
        .map(|w| {
            let t = w.trim_matches(|c: char| "()[]{}\"'`,;:".contains(c));
            let pathish = t.starts_with('/')
                || t.starts_with("~/")
                || t.contains(":\\")
                || t.starts_with("\\\\");
            if pathish && t.len() > 1 {
                w.replace(t, "…")
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_the_vaults_own() {
        // One error of every kind the vault has: a code the app does not know fails here.
        for e in vault::Error::examples() {
            let ours = serde_json::to_value(ErrorCode::from(&e)).unwrap();
            assert_eq!(ours, e.code(), "{e:?}");
        }
    }

    #[test]
    fn no_internal_path_crosses_the_boundary() {
        let e = vault::Error::Io {
            context: "opening /home/aigerim/.local/share/kuager/default/vault.db".into(),
            source: std::io::Error::other("denied"),
        };
        let i = IpcError::from(e);
        assert_eq!(i.code, ErrorCode::Io);
        assert!(!i.message.contains('/'), "{}", i.message);
        assert_eq!(
            scrub("cannot read /tmp/x.age (C:\\Users\\a\\b.txt), or ~/v"),
            "cannot read … (…), or …"
        );
    }
}
