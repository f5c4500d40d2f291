//! The organisation profile (docs/bundle-format.md "Organisation profile"): a small signed file
//! a coordinator writes once and every caseworker's vault loads instead of pasted keys.
//!
//! It names the organisation, the recipients its bundles go to, its recovery key and its
//! policy, and is signed (minisign) by the coordinator vault's device key, which it carries.
//! A signature by the key inside proves only that the file was not altered since that key
//! signed it; whose key it is, a person decides by comparing [`Opened::fingerprint`] aloud with
//! the coordinator (thirty digits in six groups, the way Signal's safety numbers read). Once a
//! vault has loaded a profile, a later one must be signed by the same key and be newer
//! (`crate::vault` enforces it), so a forged or replayed profile is refused without a call.
//!
//! This module only reads, checks and writes the file; applying it (recipients, recovery
//! keyslot, a stricter policy) is the vault's (`Vault::load_profile`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::crypto::keys;
use crate::error::{Error, Result};

/// `format` of a profile.
pub const FORMAT: &str = "kuager-profile";
/// The version this Kuager writes and reads.
pub const VERSION: u32 = 1;
/// The largest profile file read.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// The most coordinator recipients a profile names.
pub const MAX_COORDINATORS: usize = 32;
/// The longest organisation name or label, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// How far in the future `issued_at` may be (clocks differ).
const CLOCK_SKEW: time::Duration = time::Duration::days(1);

/// One recipient of the organisation's bundles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Coordinator {
    /// The age X25519 recipient (`age1…`).
    pub recipient: String,
    /// Who it is (shown beside it in Settings).
    pub label: Option<String>,
}

/// What a profile asks of a vault. Loading it can only make a vault stricter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Whether bundles encrypted to a passphrase are allowed. `false` forbids them; `true`
    /// leaves the vault's own setting as it is.
    pub passphrase_bundles: bool,
    /// The longest idle time before the vault locks itself, in minutes (1–120).
    pub max_autolock_minutes: u32,
}

/// The signed content of a profile file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The organisation's name.
    pub organisation: String,
    /// When it was written (RFC 3339, UTC).
    pub issued_at: String,
    /// After this it is refused (RFC 3339, UTC).
    pub expires_at: String,
    /// The recipients every bundle is encrypted to.
    pub coordinators: Vec<Coordinator>,
    /// The organisation's recovery recipient (`age1…`): it can open a vault whose passphrase is
    /// lost.
    pub recovery: Option<String>,
    /// The policy.
    pub policy: Policy,
    /// The minisign public key (base64) that signs this profile: the coordinator's device.
    pub signer: String,
}

/// The file: the profile's exact bytes and their minisign signature, as text, so that
/// `jq -r .profile F > p.json; jq -r .signature F > p.json.minisig; minisign -Vm p.json -P KEY`
/// checks it by hand.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    profile: String,
    signature: String,
}

/// A profile whose file is whole, signed by the key it names, valid now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// What it says.
    pub profile: Profile,
    /// The signing key's fingerprint to compare aloud: six groups of five digits.
    pub fingerprint: String,
    /// The signing key's minisign key id (16 hex digits). Not for checking who signed: its
    /// owner chooses it; compare [`Opened::fingerprint`].
    pub key_id: String,
    /// The profile's SHA-256 (hex), to recognise it again.
    pub sha256: String,
}

impl Opened {
    /// Whether `given`, the fingerprint a person was read aloud, is this profile's signer's:
    /// digits only count ("12345 67890" and "1234567890" are the same).
    pub fn fingerprint_matches(&self, given: &str) -> bool {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        digits(given) == digits(&self.fingerprint)
    }
}

fn bad(message: impl Into<String>) -> Error {
    Error::Invalid {
        field: "organisation profile".into(),
        message: message.into(),
    }
}

/// A time as the profile writes it.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A date as Kuager writes it (`2026-12-01T15:00:00Z`, UTC, whole seconds) and nothing else,
/// so that two profiles' dates compare as times.
fn parse_time(s: &str, what: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .filter(|t| rfc3339(*t) == s)
        .ok_or_else(|| {
            bad(format!(
                "its {what} is not a date of the form 2026-12-01T15:00:00Z"
            ))
        })
}

/// When `profile` was issued (its date is checked when the file is opened).
pub fn issued(profile: &Profile) -> Result<OffsetDateTime> {
    parse_time(&profile.issued_at, "issue date")
}

/// The fingerprint people compare aloud for a minisign public key (a device's): SHA-256 of a
/// label and the key's 32 Ed25519 bytes, six five-byte pieces each read as a number below
/// 100,000 (about 99.7 bits).
pub fn fingerprint(public_key: &str) -> String {
    // The 32 bytes of the Ed25519 key, not the base64 line: its key id is chosen by its owner,
    // and one key must read as one number whatever id it comes with.
    let key: Vec<u8> = match crate::crypto::keys::ed25519_key(public_key) {
        Some(k) => k.to_vec(),
        None => public_key.trim().as_bytes().to_vec(),
    };
    let digest = Sha256::digest([b"kuager device key\n".as_slice(), &key].concat());
    digest
        .chunks(5)
        .take(6)
        .map(|c| {
            let n = c.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
            format!("{:05}", n % 100_000)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Characters that change how text around them is shown (bidirectional overrides and
/// isolates, zero-width characters): a name that looks like another.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

fn check_text(s: &str, what: &str) -> Result<()> {
    if s.trim().is_empty()
        || s.chars().count() > MAX_NAME_CHARS
        || s.chars().any(|c| c.is_control() || is_invisible(c))
    {
        return Err(bad(format!(
            "its {what} must be 1–{MAX_NAME_CHARS} characters, without control characters"
        )));
    }
    Ok(())
}

fn check_recipient(s: &str, what: &str) -> Result<()> {
    s.parse::<age::x25519::Recipient>()
        .map(|_| ())
        .map_err(|_| bad(format!("its {what} is not an age X25519 key (age1…)")))
}

impl Profile {
    /// Everything a loader relies on, at `now`.
    fn check(&self, now: OffsetDateTime) -> Result<()> {
        if self.format != FORMAT || self.version != VERSION {
            return Err(bad(format!(
                "it is a {:?} version {} file, not a profile this Kuager reads",
                self.format.chars().take(40).collect::<String>(),
                self.version
            )));
        }
        check_text(&self.organisation, "organisation name")?;
        if self.coordinators.is_empty() || self.coordinators.len() > MAX_COORDINATORS {
            return Err(bad(format!(
                "it must name 1–{MAX_COORDINATORS} coordinator keys"
            )));
        }
        for c in &self.coordinators {
            check_recipient(&c.recipient, "coordinator key")?;
            if let Some(l) = &c.label {
                check_text(l, "coordinator label")?;
            }
        }
        if let Some(r) = &self.recovery {
            check_recipient(r, "recovery key")?;
        }
        if !(1..=120).contains(&self.policy.max_autolock_minutes) {
            return Err(bad("its longest auto-lock must be 1–120 minutes"));
        }
        let issued = parse_time(&self.issued_at, "issue date")?;
        let expires = parse_time(&self.expires_at, "expiry date")?;
        if issued > now + CLOCK_SKEW || expires <= issued {
            return Err(bad("its dates are not possible (issued in the future, or expiring before it was issued)"));
        }
        if expires <= now {
            return Err(bad(format!(
                "it expired on {}: ask the coordinator for a new one",
                &self.expires_at[..10.min(self.expires_at.len())]
            )));
        }
        Ok(())
    }
}

/// Signs `profile` with `sign` (the coordinator vault's device key) into a profile file.
/// The profile is checked first, as a loader will check it.
pub fn write(
    profile: &Profile,
    now: OffsetDateTime,
    sign: impl FnOnce(&[u8]) -> Result<String>,
) -> Result<Vec<u8>> {
    profile.check(now)?;
    let text = serde_json::to_string_pretty(profile).map_err(|e| bad(e.to_string()))? + "\n";
    let signature = sign(text.as_bytes())?;
    let file = File {
        profile: text,
        signature,
    };
    let mut bytes = serde_json::to_vec_pretty(&file).map_err(|e| bad(e.to_string()))?;
    bytes.push(b'\n');
    if bytes.len() > MAX_FILE_BYTES {
        return Err(bad("it would be larger than a loader reads"));
    }
    Ok(bytes)
}

/// Reads a profile file: whole, signed by the key it names, and valid at `now`. Who that key
/// belongs to is for a person to confirm ([`Opened::fingerprint`]) or for the vault to compare
/// with the profile it loaded before.
pub fn open(bytes: &[u8], now: OffsetDateTime) -> Result<Opened> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(bad("the file is too large to be an organisation profile"));
    }
    let file: File = serde_json::from_slice(bytes)
        .map_err(|_| bad("the file is not an organisation profile"))?;
    let profile: Profile = serde_json::from_str(&file.profile).map_err(|e| {
        bad(format!(
            "its content is not valid: {}",
            e.to_string().escape_debug()
        ))
    })?;
    let key_id = keys::verify_minisign(&profile.signer, file.profile.as_bytes(), &file.signature)
        .map_err(|e| match e {
        keys::SignatureError::Key => bad("its signing key is not a minisign key"),
        keys::SignatureError::Malformed => bad("its signature is not a minisign signature"),
        keys::SignatureError::Mismatch => {
            bad("its signature does not match: the file was altered after it was signed")
        }
    })?;
    profile.check(now)?;
    Ok(Opened {
        fingerprint: fingerprint(&profile.signer),
        key_id,
        sha256: hex::encode(Sha256::digest(file.profile.as_bytes())),
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_reads_as_six_groups_of_five_digits_and_differs_per_key() {
        let a = fingerprint("RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3");
        let b = fingerprint("RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO4");
        assert_eq!(a.len(), 6 * 5 + 5);
        assert!(a
            .split(' ')
            .all(|g| g.len() == 5 && g.bytes().all(|c| c.is_ascii_digit())));
        assert_ne!(a, b);
        assert_eq!(
            a,
            fingerprint(" RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3\n")
        );
    }
}
