//! Organisation profiles on a vault (crate::profile): a coordinator's vault writes one, signed
//! by its device key; a caseworker's vault loads one — its recipients, its recovery key and a
//! policy that can only make the vault stricter — after a person has compared the signer's
//! fingerprint aloud. A vault remembers the profile it loaded: a later one must come from the
//! same key and be at least as new, so a forged or an old (replayed) profile is refused.

use time::OffsetDateTime;

use super::{Confirmed, Vault};
use crate::error::{Error, Result};
use crate::profile::{self, Coordinator, Opened, Policy, Profile};
use crate::store::meta;

/// What a coordinator puts in a profile.
#[derive(Debug, Clone)]
pub struct ProfileSpec {
    /// The organisation's name.
    pub organisation: String,
    /// The recipients of every bundle.
    pub coordinators: Vec<Coordinator>,
    /// The recovery recipient, if the organisation has one.
    pub recovery: Option<String>,
    /// The policy.
    pub policy: Policy,
    /// How many days the profile is valid.
    pub valid_days: u32,
}

/// The profile a vault has loaded, as shown in Settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedProfile {
    /// What it says.
    pub profile: Profile,
    /// Its signer's fingerprint.
    pub fingerprint: String,
    /// When this vault loaded it.
    pub loaded_at: String,
}

/// The longest a profile may be valid.
pub const MAX_VALID_DAYS: u32 = 5 * 366;

fn refused(message: String) -> Error {
    Error::Invalid {
        field: "organisation profile".into(),
        message,
    }
}

impl Vault {
    /// Writes an organisation profile signed by this vault's device key (the coordinator's),
    /// after the passphrase: every caseworker who loads it exports to the keys it names, so an
    /// open window alone (or a script in it) cannot make one.
    pub fn write_profile(&mut self, spec: &ProfileSpec, _confirmed: Confirmed) -> Result<Vec<u8>> {
        self.o()?;
        if !(1..=MAX_VALID_DAYS).contains(&spec.valid_days) {
            return Err(refused(format!(
                "a profile is valid for 1–{MAX_VALID_DAYS} days"
            )));
        }
        let now = OffsetDateTime::now_utc();
        let p = Profile {
            format: profile::FORMAT.into(),
            version: profile::VERSION,
            organisation: spec.organisation.trim().to_owned(),
            issued_at: profile::rfc3339(now),
            expires_at: profile::rfc3339(now + time::Duration::days(spec.valid_days.into())),
            coordinators: spec.coordinators.clone(),
            recovery: spec.recovery.clone(),
            policy: spec.policy,
            signer: self.device_public_key()?.minisign,
        };
        let bytes = profile::write(&p, now, |data| {
            self.sign(data, "kuager organisation profile")
        })?;
        let opened = profile::open(&bytes, now)?;
        self.audited(
            |_| Ok(()),
            "profile_written",
            serde_json::json!({ "organisation": p.organisation, "sha256": opened.sha256 }),
        )?;
        Ok(bytes)
    }

    /// The profile this vault loaded, if any.
    pub fn loaded_profile(&self) -> Result<Option<LoadedProfile>> {
        let c = &self.o()?.conn;
        let (Some(text), Some(at)) = (
            meta::get(c, meta::PROFILE)?,
            meta::get(c, meta::PROFILE_LOADED_AT)?,
        ) else {
            return Ok(None);
        };
        let profile: Profile = serde_json::from_str(&text)
            .map_err(|e| Error::Verify(format!("the stored organisation profile: {e}")))?;
        Ok(Some(LoadedProfile {
            fingerprint: profile::fingerprint(&profile.signer),
            profile,
            loaded_at: at,
        }))
    }

    /// Loads an organisation profile file, already shown to the user with [`profile::open`],
    /// whose signer's fingerprint the user compared aloud and gives back as `fingerprint`
    /// (digits only count): adds its coordinators as recipients, its recovery key as a
    /// recovery keyslot, forbids passphrase bundles if it does, and lowers the longest
    /// auto-lock to its own. It never loosens anything. Refused, changing nothing, if the
    /// fingerprint differs, if it is not valid now, if this vault loaded a profile signed by
    /// another key, or a newer one. Loading the same profile again applies it again.
    pub fn load_profile(
        &mut self,
        bytes: &[u8],
        fingerprint: &str,
        _confirmed: Confirmed,
    ) -> Result<Opened> {
        let now = OffsetDateTime::now_utc();
        let opened = profile::open(bytes, now)?;
        if !opened.fingerprint_matches(fingerprint) {
            return Err(refused(format!(
                "the fingerprint given is not this profile's ({}): do not load it; ask the \
                 coordinator to read theirs aloud",
                opened.fingerprint
            )));
        }
        let p = &opened.profile;
        if let Some(before) = self.loaded_profile()? {
            let key = crate::crypto::keys::ed25519_key;
            if key(&before.profile.signer) != key(&p.signer) {
                return Err(refused(format!(
                    "it is signed by another key ({}) than the profile this vault loaded \
                     ({}): ask the coordinator; if the organisation's key really changed, \
                     remove the old profile in Settings first",
                    opened.fingerprint, before.fingerprint
                )));
            }
            let (issued, loaded) = (profile::issued(p)?, profile::issued(&before.profile)?);
            if issued < loaded {
                return Err(refused(format!(
                    "it is older ({}) than the profile this vault loaded ({})",
                    p.issued_at, before.profile.issued_at
                )));
            }
            if issued == loaded && *p != before.profile {
                return Err(refused(format!(
                    "it was issued in the same second ({}) as the profile this vault loaded, \
                     and differs from it: ask the coordinator for a new one",
                    p.issued_at
                )));
            }
        }
        let recovery = p
            .recovery
            .as_deref()
            .map(str::parse::<age::x25519::Recipient>)
            .transpose()
            .map_err(|_| refused("its recovery key is not an age key".into()))?;
        let text = serde_json::to_string(p).map_err(|e| Error::Verify(e.to_string()))?;
        let limit = self.settings()?.max_autolock_minutes;
        let autolock = limit.map_or(p.policy.max_autolock_minutes, |l| {
            l.min(p.policy.max_autolock_minutes)
        });
        // Stored as age writes them (one row per key, whatever case the file used).
        let coordinators = p
            .coordinators
            .iter()
            .map(|k| {
                k.recipient
                    .parse::<age::x25519::Recipient>()
                    .map(|r| (r.to_string(), k.label.as_deref()))
                    .map_err(|_| refused("a coordinator key is not an age key".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        // The recovery keyslot first: if it cannot be written, nothing else has changed.
        if let Some(r) = &recovery {
            self.add_recovery(r)?;
        }
        self.audited_each(|c| {
            let mut events = Vec::new();
            for (key, label) in &coordinators {
                crate::store::peers::add_recipient(c, key, *label)?;
                events.push(("recipient_added", serde_json::json!({ "recipient": key })));
            }
            if !p.policy.passphrase_bundles {
                meta::set(c, meta::PASSPHRASE_BUNDLES, "deny")?;
                events.push((
                    "policy_set",
                    serde_json::json!({ "passphrase_bundles": "deny" }),
                ));
            }
            meta::set(c, meta::MAX_AUTOLOCK, &autolock.to_string())?;
            meta::set(c, meta::PROFILE, &text)?;
            meta::set(c, meta::PROFILE_LOADED_AT, &crate::revision::now())?;
            events.push((
                "profile_loaded",
                serde_json::json!({
                    "organisation": p.organisation,
                    "sha256": opened.sha256,
                    "signer_fingerprint": opened.fingerprint,
                    "max_autolock_minutes": autolock,
                }),
            ));
            Ok(events)
        })?;
        Ok(opened)
    }

    /// Forgets the loaded profile (its recipients and policy stay), so that a profile signed
    /// by a new organisation key can be loaded after its fingerprint was compared aloud.
    pub fn forget_profile(&mut self, _confirmed: Confirmed) -> Result<()> {
        let Some(before) = self.loaded_profile()? else {
            return Ok(());
        };
        self.audited(
            |c| {
                meta::remove(c, meta::PROFILE)?;
                meta::remove(c, meta::PROFILE_LOADED_AT)
            },
            "profile_forgotten",
            serde_json::json!({ "organisation": before.profile.organisation }),
        )
    }
}
