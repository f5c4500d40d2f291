//! Errors as they cross into the webview: `{code, message, field}`, never an internal path.

use serde::Serialize;
use ts_rs::TS;

/// An error returned by a command.
#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    /// A stable code the UI translates (`wrong_passphrase`, `invalid`, `locked`…).
    pub code: String,
    /// A caseworker-readable explanation (English; the UI shows its own text for known codes).
    pub message: String,
    /// For `invalid`: the field, as a JSON path (`names[0].value`).
    pub field: Option<String>,
}

/// The result of every command.
pub type CmdResult<T> = std::result::Result<T, IpcError>;

impl IpcError {
    /// An error of the app itself (not of the vault).
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        IpcError {
            code: code.into(),
            message: scrub(&message.into()),
            field: None,
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
        let code = e.code().to_owned();
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
            vault::Error::NoVault(_) => ("there is no vault here yet".into(), None),
            vault::Error::VaultExists(_) => ("a vault already exists here".into(), None),
            other => (other.to_string(), None),
        };
        IpcError {
            code,
            message: scrub(&message),
            field,
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
    fn no_internal_path_crosses_the_boundary() {
        let e = vault::Error::Io {
            context: "opening /home/aigerim/.local/share/kuager/default/vault.db".into(),
            source: std::io::Error::other("denied"),
        };
        let i = IpcError::from(e);
        assert_eq!(i.code, "io");
        assert!(!i.message.contains('/'), "{}", i.message);
        assert_eq!(
            scrub("cannot read /tmp/x.age (C:\\Users\\a\\b.txt), or ~/v"),
            "cannot read … (…), or …"
        );
    }
}
