//! The vault itself: init, passphrase, recovery keyslots, verify, audit, label, policy, device.

use std::path::Path;
use std::str::FromStr;

use ::vault::{CreateOptions, Error, Vault};

use super::{unlock, unlock_confirmed, Out};
use crate::args::{Permission, PolicyCmd, RecoveryCmd};
use crate::{output, passphrase};

pub fn init(out: Out, dir: &Path, recovery: &[String]) -> anyhow::Result<u8> {
    let recovery = recovery
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r.trim())
                .map_err(|e| anyhow::anyhow!("--recovery-recipient {r:?} is not an age1… key: {e}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if dir.join("vault.json").exists() {
        return Err(Error::VaultExists(dir.to_owned()).into());
    }
    let p = passphrase::new_passphrase()?;
    let n = recovery.len();
    let v = Vault::create(
        dir,
        &p,
        CreateOptions {
            recovery,
            recipients: vec![],
            work_factor: None,
        },
    )?;
    writeln!(out, "Created a vault at {}", v.dir().display())?;
    if n > 0 {
        writeln!(
            out,
            "with {n} recovery keyslot{}",
            if n == 1 { "" } else { "s" }
        )?;
    }
    writeln!(
        out,
        "Keep the passphrase safe: without it (or a recovery key) nobody can open this vault."
    )?;
    Ok(0)
}

pub fn passphrase(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    let p = passphrase::new_passphrase()?;
    v.change_passphrase(&p, None)?;
    writeln!(out, "Passphrase changed.")?;
    Ok(0)
}

pub fn rotate(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let (mut v, ok) = unlock_confirmed(dir)?;
    eprintln!("New keys: choose the passphrase from now on (it may be the same).");
    let p = passphrase::new_passphrase()?;
    let r = v.rotate_keys(ok, &p, None)?;
    writeln!(
        out,
        "Keys rotated: {} attachment(s) re-encrypted, {} recovery keyslot(s) rewritten.",
        r.attachments, r.recovery_slots
    )?;
    if r.recovery_slots_removed > 0 {
        eprintln!(
            "{} recovery keyslot(s) whose key this vault could not tell were removed: add the organisation's recovery key again with `kuager recovery add`.",
            r.recovery_slots_removed
        );
    }
    eprintln!("Old keyslot copies and old bundles are not touched by this: delete the backups and bundles you no longer need. On SSDs, old blocks may survive deletion (docs/threat-model.md).");
    Ok(0)
}

pub fn recovery(out: Out, dir: &Path, action: RecoveryCmd) -> anyhow::Result<u8> {
    let RecoveryCmd::Add { recipient } = action;
    let r = age::x25519::Recipient::from_str(recipient.trim())
        .map_err(|e| anyhow::anyhow!("{recipient:?} is not an age1… key: {e}"))?;
    let mut v = unlock(dir)?;
    let path = v.add_recovery(&r)?;
    writeln!(out, "Added recovery keyslot {}", path.display())?;
    Ok(0)
}

pub fn verify(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let r = v.verify()?;
    writeln!(
        out,
        "checked {} records, {} revisions, {} audit events, {} attachment files",
        r.records, r.revisions, r.audit_events, r.blobs
    )?;
    if !r.problems.is_empty() {
        for p in &r.problems {
            eprintln!("problem: {p}");
        }
        return Err(Error::Verify(format!("{} problem(s) found", r.problems.len())).into());
    }
    writeln!(out, "ok: the vault is intact")?;
    Ok(0)
}

pub fn audit(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    output::audit(out, &v.audit()?)?;
    Ok(0)
}

pub fn label(out: Out, dir: &Path, text: Option<&str>, clear: bool) -> anyhow::Result<u8> {
    let mut v = unlock(dir)?;
    if clear || text.is_some() {
        v.set_label(text)?;
    }
    match v.settings()?.label {
        Some(l) => writeln!(out, "{l}")?,
        None => eprintln!("(this vault has no label: `kuager label TEXT`)"),
    }
    Ok(0)
}

pub fn policy(out: Out, dir: &Path, setting: Option<PolicyCmd>) -> anyhow::Result<u8> {
    let (mut v, ok) = unlock_confirmed(dir)?;
    if let Some(PolicyCmd::PassphraseBundles { value }) = setting {
        v.set_passphrase_bundles(value == Permission::Allow, Some(ok))?;
    }
    let s = v.settings()?;
    let value = if s.passphrase_bundles {
        "allow"
    } else {
        "deny"
    };
    writeln!(out, "passphrase-bundles {value}")?;
    Ok(0)
}

pub fn device(out: Out, dir: &Path) -> anyhow::Result<u8> {
    let v = unlock(dir)?;
    let k = v.device_public_key()?;
    writeln!(out, "untrusted comment: minisign public key {}", k.key_id)?;
    writeln!(out, "{}", k.minisign)?;
    eprintln!("fingerprint: {}", k.fingerprint);
    eprintln!("(save the two lines above as a .pub file for `minisign -V -p FILE`, or pass the second with -P)");
    Ok(0)
}
