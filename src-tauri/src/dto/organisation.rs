//! The organisation: its identity and profile on a coordinator's vault, the profile a
//! caseworker's vault loaded (docs/bundle-format.md "Organisation profile").

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::RecipientDto;

/// An organisation profile: as read from a file before it is loaded, or as a vault keeps it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProfileDto {
    /// The organisation's name.
    pub organisation: String,
    /// When it was written (`YYYY-MM-DDTHH:MM:SSZ`).
    pub issued_at: String,
    /// When it stops being accepted.
    pub expires_at: String,
    /// The keys every bundle will be encrypted to.
    pub coordinators: Vec<RecipientDto>,
    /// The organisation's recovery key, if it has one.
    pub recovery: Option<String>,
    /// Whether it allows bundles encrypted to a passphrase.
    pub passphrase_bundles: bool,
    /// The longest idle time it allows before the vault locks, in minutes.
    pub max_autolock_minutes: u32,
    /// Its signer's fingerprint, to compare aloud: six groups of five digits.
    pub fingerprint: String,
    /// When this vault loaded it (none: not loaded, only read).
    pub loaded_at: Option<String>,
}

impl ProfileDto {
    /// The dto of a profile and its signer's fingerprint.
    pub fn new(
        p: &vault::profile::Profile,
        fingerprint: String,
        loaded_at: Option<String>,
    ) -> Self {
        ProfileDto {
            organisation: p.organisation.clone(),
            issued_at: p.issued_at.clone(),
            expires_at: p.expires_at.clone(),
            coordinators: p
                .coordinators
                .iter()
                .map(|c| RecipientDto {
                    recipient: c.recipient.clone(),
                    label: c.label.clone(),
                })
                .collect(),
            recovery: p.recovery.clone(),
            passphrase_bundles: p.policy.passphrase_bundles,
            max_autolock_minutes: p.policy.max_autolock_minutes,
            fingerprint,
            loaded_at,
        }
    }
}

/// A profile file's text and the fingerprint the person was read aloud by the coordinator.
#[derive(Debug, Deserialize, TS)]
pub struct ProfileLoad {
    /// The file as read by the page (at most 64 KiB; names and public keys, nothing secret).
    pub text: String,
    /// The fingerprint as the person typed it (digits only count).
    pub fingerprint: String,
}

/// What a coordinator writes into a profile.
#[derive(Debug, Deserialize, TS)]
pub struct ProfileWriteRequest {
    /// The organisation's name.
    pub organisation: String,
    /// The keys every bundle is to be encrypted to (none: this vault's organisation
    /// identities).
    pub coordinators: Vec<RecipientDto>,
    /// The organisation's recovery key (`age1…`), if any.
    pub recovery: Option<String>,
    /// Whether bundles encrypted to a passphrase are allowed.
    pub passphrase_bundles: bool,
    /// The longest idle time before a vault locks, in minutes (1–120).
    pub max_autolock_minutes: u32,
    /// How many days the profile is accepted.
    pub valid_days: u32,
}

/// A profile file written.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ProfileWritten {
    /// Where (the folder bundles go to).
    pub path: String,
    /// The signer's fingerprint, to read aloud to caseworkers.
    pub fingerprint: String,
}

/// The organisation as this vault knows it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct OrganisationDto {
    /// The organisation identities this vault holds (a coordinator's vault): the keys
    /// caseworkers encrypt to.
    pub identities: Vec<RecipientDto>,
    /// This vault's signing fingerprint (what its profiles and bundles are signed with).
    pub fingerprint: String,
    /// The profile this vault loaded (a caseworker's vault).
    pub profile: Option<ProfileDto>,
}
