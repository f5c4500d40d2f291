//! The vault's settings and the keys it deals with: its label and policy, the recipients of its
//! bundles, the organisation identities it holds, the caseworker devices it trusts. Every
//! change is in the audit log.

use std::path::Path;

use super::{Confirmed, Settings, Vault};
use crate::bundle::{self, Recipient, RecipientEntry};
use crate::error::{Error, Result};
use crate::store::{meta, peers};

/// What a key-or-label argument names: `what` in messages, the `field` of the error, and the
/// plural for "several … have that label".
struct Named<'a> {
    what: &'a str,
    field: &'a str,
    plural: &'a str,
}

const RECIPIENT: Named<'static> = Named {
    what: "recipient",
    field: "recipient",
    plural: "recipients",
};
const DEVICE: Named<'static> = Named {
    what: "trusted device",
    field: "key",
    plural: "devices",
};

/// The one key `key_or_label` names among `found` (a key, or a label only one entry has).
fn one_named(found: Vec<String>, n: &Named<'_>, key_or_label: &str) -> Result<String> {
    match <[String; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(found) if found.is_empty() => {
            Err(Error::NotFound(format!("{} {key_or_label}", n.what)))
        }
        Err(_) => Err(Error::invalid(
            n.field,
            format!("several {} have that label: give the key itself", n.plural),
        )),
    }
}

impl Vault {
    /// This vault's settings (label, policy).
    pub fn settings(&self) -> Result<Settings> {
        let c = &self.o()?.conn;
        Ok(Settings {
            label: meta::get(c, meta::LABEL)?,
            passphrase_bundles: meta::get(c, meta::PASSPHRASE_BUNDLES)?.as_deref() == Some("allow"),
            max_autolock_minutes: meta::get(c, meta::MAX_AUTOLOCK)?.and_then(|m| m.parse().ok()),
        })
    }

    /// Names this vault (e.g. "Almaty office, laptop 3"): shown to coordinators inside every
    /// bundle's manifest (never in the file name, which anyone holding the file can read).
    pub fn set_label(&mut self, label: Option<&str>) -> Result<()> {
        self.o()?;
        let label = label.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = label {
            if l.chars().count() > 100 || l.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "label",
                    "a vault label is one line of at most 100 characters",
                ));
            }
        }
        self.audited(
            |c| match label {
                Some(l) => meta::set(c, meta::LABEL, l),
                None => meta::remove(c, meta::LABEL),
            },
            "label_set",
            serde_json::json!({ "label": label }),
        )
    }

    /// `Ok` if this vault's policy allows bundles encrypted to a passphrase, else the refusal.
    pub fn passphrase_bundles_allowed(&self) -> Result<()> {
        if self.settings()?.passphrase_bundles {
            Ok(())
        } else {
            Err(Error::PassphraseBundlesNotAllowed)
        }
    }

    /// Allows or forbids bundles encrypted to a passphrase instead of the coordinators' keys
    /// (docs/bundle-format.md "Outside"). Forbidden unless allowed here; every change is in the
    /// audit log.
    /// Allowing them is a new way out of the vault: it needs the passphrase typed again
    /// (`confirmed`); forbidding them does not.
    pub fn set_passphrase_bundles(
        &mut self,
        allow: bool,
        confirmed: Option<Confirmed>,
    ) -> Result<()> {
        self.o()?;
        if allow && confirmed.is_none() {
            return Err(Error::NeedsPassphrase);
        }
        if allow
            && self
                .loaded_profile()?
                .is_some_and(|p| !p.profile.policy.passphrase_bundles)
        {
            return Err(Error::invalid(
                "passphrase_bundles",
                "the organisation's profile forbids bundles encrypted to a passphrase",
            ));
        }
        let value = if allow { "allow" } else { "deny" };
        self.audited(
            |c| meta::set(c, meta::PASSPHRASE_BUNDLES, value),
            "policy_set",
            serde_json::json!({ "passphrase_bundles": value }),
        )
    }

    /// Adds (or relabels) a recipient of this vault's bundles: who can read what leaves the
    /// vault, so the passphrase must have been typed again (`_confirmed`).
    pub fn add_recipient(
        &mut self,
        recipient: &Recipient,
        label: Option<&str>,
        _confirmed: Confirmed,
    ) -> Result<()> {
        let key = recipient.to_string();
        self.audited(
            |c| peers::add_recipient(c, &key, label),
            "recipient_added",
            serde_json::json!({ "recipient": key }),
        )
    }

    /// Removes a recipient (by its key, or by its label when the label is unique); like adding
    /// one, after the passphrase was typed again.
    pub fn remove_recipient(
        &mut self,
        key_or_label: &str,
        _confirmed: Confirmed,
    ) -> Result<String> {
        let found = peers::find_recipients(&self.o()?.conn, key_or_label.trim())?;
        let key = one_named(found, &RECIPIENT, key_or_label)?;
        self.audited(
            |c| peers::remove_recipient(c, &key),
            "recipient_removed",
            serde_json::json!({ "recipient": key }),
        )?;
        Ok(key)
    }

    /// The recipients this vault exports to.
    pub fn recipients(&self) -> Result<Vec<RecipientEntry>> {
        bundle::export::list_recipients(&self.o()?.conn)
    }

    /// Creates an organisation identity inside the vault (never a loose key file) and returns
    /// its public key (`age1…`), which caseworkers export to.
    pub fn new_identity(&mut self, label: Option<&str>) -> Result<String> {
        self.o()?;
        let id = age::x25519::Identity::generate();
        Ok(self.store_identities(&[id], label)?.remove(0))
    }

    /// Takes an existing `age-keygen` identity file into the vault, every identity in it or
    /// none. Returns the public keys. A locked vault does not read the file.
    pub fn import_identity_file(
        &mut self,
        path: &Path,
        label: Option<&str>,
    ) -> Result<Vec<String>> {
        self.o()?;
        let ids = bundle::read_identity_file(path)?;
        self.store_identities(&ids, label)
    }

    /// Stores identities in one transaction, each with its `identity_added` event.
    fn store_identities(
        &mut self,
        ids: &[age::x25519::Identity],
        label: Option<&str>,
    ) -> Result<Vec<String>> {
        use age::secrecy::ExposeSecret;
        let publics: Vec<String> = ids.iter().map(|id| id.to_public().to_string()).collect();
        self.audited_each(|c| {
            let mut events = Vec::with_capacity(ids.len());
            for (id, public) in ids.iter().zip(&publics) {
                let secret = id.to_string();
                peers::add_identity(c, public, secret.expose_secret(), label)?;
                events.push(("identity_added", serde_json::json!({ "recipient": public })));
            }
            Ok(events)
        })?;
        Ok(publics)
    }

    /// The organisation identities held (public keys and labels only).
    pub fn identities(&self) -> Result<Vec<(String, Option<String>)>> {
        peers::identities(&self.o()?.conn)
    }

    /// Trusts a caseworker's device key (minisign public key, as the caseworker's Kuager shows
    /// it) under a label.
    pub fn trust_device(&mut self, key: &str, label: &str) -> Result<String> {
        self.o()?;
        let key = key
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .unwrap_or_default();
        let pk = minisign::PublicKey::from_base64(key).map_err(|_| {
            Error::invalid(
                "key",
                "not a minisign public key: paste the device key line the caseworker's Kuager shows (RWT…)",
            )
        })?;
        let label = label.trim();
        if label.is_empty() {
            return Err(Error::invalid("label", "give the device a name"));
        }
        let key = pk.to_base64();
        if let Some(peers::Known {
            revoked_at: Some(when),
            ..
        }) = peers::device(&self.o()?.conn, &key)?
        {
            return Err(Error::invalid(
                "key",
                format!(
                    "this device was revoked on {}: it cannot be trusted again; the caseworker \
                     sends their records from a new vault",
                    when.get(..10).unwrap_or(&when)
                ),
            ));
        }
        self.audited(
            |c| peers::trust_device(c, &key, label),
            "device_trusted",
            serde_json::json!({ "key": key, "label": label }),
        )?;
        Ok(key)
    }

    /// Trusted device keys and their labels.
    pub fn trusted_devices(&self) -> Result<Vec<(String, String)>> {
        peers::trusted_devices(&self.o()?.conn)
    }

    /// Revokes a device (by key or label): bundles it signed that were imported stay; any it
    /// signed that come later are refused, even when asked to trust their signer. It cannot
    /// be trusted again (a lost or seized device's key is never good again).
    pub fn untrust_device(&mut self, key_or_label: &str) -> Result<String> {
        let found = peers::find_devices(&self.o()?.conn, key_or_label.trim())?;
        let key = one_named(found, &DEVICE, key_or_label)?;
        self.audited(
            |c| peers::revoke_device(c, &key),
            "device_revoked",
            serde_json::json!({ "key": key }),
        )?;
        Ok(key)
    }

    /// Renames a trusted device.
    pub fn rename_device(&mut self, key: &str, label: &str) -> Result<()> {
        let label = label.trim();
        if label.is_empty() {
            return Err(Error::invalid("label", "give the device a name"));
        }
        match peers::device(&self.o()?.conn, key)? {
            None => Err(Error::NotFound(format!("device {key}"))),
            Some(k) if k.revoked_at.is_some() => Err(Error::invalid(
                "device",
                "this device was revoked; it keeps the name it had",
            )),
            Some(_) => self.audited(
                |c| peers::trust_device(c, key, label),
                "device_renamed",
                serde_json::json!({ "key": key, "label": label }),
            ),
        }
    }

    /// Every device this vault knows: trusted ones, then revoked ones, with what they sent.
    pub fn devices(&self) -> Result<Vec<peers::Device>> {
        peers::devices(&self.o()?.conn)
    }
}
