//! How a failure reaches the user: a distinct exit code, and the vault's message with this
//! command's own hints (the commands and flags that fix it) where the vault only says what to
//! do. The exit codes are a contract (README "Exit codes"; tests/cmd pins them).

use vault::Error;

/// Exit codes.
pub mod exit {
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const WRONG_PASSPHRASE: u8 = 3;
    pub const INVALID: u8 = 4;
    pub const VERIFY_FAILED: u8 = 5;
    pub const NOT_FOUND: u8 = 6;
    pub const CONFLICT: u8 = 7;
    pub const LOCKED: u8 = 8;
    pub const BUNDLE_REFUSED: u8 = 9;
}

/// The exit code for a failure.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<Error>() {
        Some(Error::WrongPassphrase) => exit::WRONG_PASSPHRASE,
        Some(
            Error::Invalid { .. }
            | Error::BadId(_)
            | Error::WeakPassphrase(_)
            | Error::NoRecipients
            | Error::PassphraseBundlesNotAllowed
            | Error::NoIdentity
            | Error::NeedsPassphrase,
        ) => exit::INVALID,
        Some(Error::NotFound(_) | Error::NoVault(_)) => exit::NOT_FOUND,
        Some(Error::Conflict { .. }) => exit::CONFLICT,
        Some(Error::Locked) => exit::LOCKED,
        Some(Error::Verify(_)) => exit::VERIFY_FAILED,
        Some(Error::Rejected(_) | Error::UnknownSigner { .. }) => exit::BUNDLE_REFUSED,
        _ => exit::ERROR,
    }
}

/// The exit code for a command line clap refused: a value that is not one of those accepted
/// (an unknown kind, a malformed record id) is invalid input, anything else a usage error.
pub fn usage_exit_code(e: &clap::Error) -> u8 {
    match e.kind() {
        clap::error::ErrorKind::InvalidValue | clap::error::ErrorKind::ValueValidation => {
            exit::INVALID
        }
        _ => exit::USAGE,
    }
}

/// What to print for a failure (after `kuager: `).
pub fn message(e: &anyhow::Error) -> String {
    match e.downcast_ref::<Error>() {
        Some(v) => explain(v),
        None => format!("{e:#}"),
    }
}

/// A vault error in this command's words.
pub fn explain(e: &Error) -> String {
    match e {
        Error::NoVault(_) => {
            format!("{e}: create one with `kuager init` or choose another folder with --vault")
        }
        Error::NothingToExport => format!("{e} (use --all to export everything again)"),
        Error::NoRecipients => "recipients: no recipients: add the coordinators' keys with `kuager recipients add age1…` (or give --to)".into(),
        Error::PassphraseBundlesNotAllowed => {
            format!("passphrase: {e} (`kuager policy passphrase-bundles allow`)")
        }
        Error::NoIdentity => "identity: this vault holds no organisation identity: create one with `kuager identity new`, import one with `kuager identity import FILE`, or give -i FILE".into(),
        Error::UnknownSigner { key_id, public_key } => format!(
            "bundle refused, nothing was changed: signed by an unknown device key {key_id}: check the key with the caseworker, then `kuager trust add {public_key} --label NAME` (or import with --trust-signer)"
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of vault error has the exit code the README promises (a new kind fails here
    /// until it is given one).
    #[test]
    fn every_vault_error_has_its_exit_code() {
        let promised = |code: &str| match code {
            "wrong_passphrase" => exit::WRONG_PASSPHRASE,
            "invalid"
            | "bad_id"
            | "weak_passphrase"
            | "no_recipients"
            | "passphrase_bundles_not_allowed"
            | "no_identity"
            | "needs_passphrase" => exit::INVALID,
            "verify_failed" => exit::VERIFY_FAILED,
            "not_found" | "no_vault" => exit::NOT_FOUND,
            "conflict" => exit::CONFLICT,
            "locked" => exit::LOCKED,
            "bundle_rejected" | "unknown_signer" => exit::BUNDLE_REFUSED,
            "vault_exists" | "format" | "keyslot" | "upgrade_failed" | "nothing_to_export"
            | "cancelled" | "crypto" | "database" | "io" => exit::ERROR,
            other => panic!("no exit code promised for {other}"),
        };
        for e in Error::examples() {
            let code = e.code();
            assert_eq!(exit_code(&anyhow::Error::from(e)), promised(code), "{code}");
        }
    }
}
