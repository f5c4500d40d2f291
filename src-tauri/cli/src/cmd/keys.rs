//! The keys a vault deals with: recipients of its bundles, organisation identities, trusted
//! caseworker devices.

use std::path::Path;

use super::{unlock, unlock_confirmed, Out};
use crate::args::{IdentityCmd, RecipientsCmd, TrustCmd};

pub fn recipients(out: Out, dir: &Path, action: RecipientsCmd) -> anyhow::Result<u8> {
    match action {
        RecipientsCmd::Add { recipient, label } => {
            let r: vault::bundle::Recipient = recipient.parse()?;
            let (mut v, ok) = unlock_confirmed(dir)?;
            v.add_recipient(&r, label.as_deref(), ok)?;
            writeln!(out, "Bundles will be encrypted to {r}")?;
        }
        RecipientsCmd::List => {
            let v = unlock(dir)?;
            let list = v.recipients()?;
            for r in &list {
                writeln!(out, "{}  {}", r.recipient, r.label.as_deref().unwrap_or(""))?;
            }
            if list.is_empty() {
                eprintln!("(no recipients yet: add the coordinators' keys with `kuager recipients add age1…`)");
            }
        }
        RecipientsCmd::Remove { recipient } => {
            let (mut v, ok) = unlock_confirmed(dir)?;
            let key = v.remove_recipient(&recipient, ok)?;
            writeln!(out, "Removed {key}")?;
        }
    }
    Ok(0)
}

pub fn identity(out: Out, dir: &Path, action: IdentityCmd) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    match action {
        IdentityCmd::New { label } => {
            let r = v.new_identity(label.as_deref())?;
            writeln!(out, "{r}")?;
            eprintln!("Give this public key to caseworkers: `kuager recipients add {r}`");
        }
        IdentityCmd::Import { file, label } => {
            for r in v.import_identity_file(&file, label.as_deref())? {
                writeln!(out, "{r}")?;
            }
            eprintln!(
                "The key is now inside the vault; delete {} securely if you no longer need it.",
                file.display()
            );
        }
        IdentityCmd::List => {
            for (r, l) in v.identities()? {
                writeln!(out, "{r}  {}", l.unwrap_or_default())?;
            }
        }
    }
    Ok(0)
}

pub fn trust(out: Out, dir: &Path, action: TrustCmd) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    match action {
        TrustCmd::Add { key, label } => {
            let k = v.trust_device(&key, &label)?;
            writeln!(out, "Trusted {k} as {label:?}")?;
        }
        TrustCmd::List => {
            for (k, l) in v.trusted_devices()? {
                writeln!(out, "{k}  {l}")?;
            }
        }
        TrustCmd::Remove { key } => {
            let k = v.untrust_device(&key)?;
            writeln!(
                out,
                "Revoked: {k}. What it sent stays; bundles it signs from now on are refused."
            )?;
        }
    }
    Ok(0)
}
