//! Organisation profiles (docs/bundle-format.md "Organisation profile"): a coordinator writes
//! one; a caseworker checks it and loads it, after the coordinator has read its fingerprint
//! aloud.

use std::path::Path;

use vault::profile::{self, Coordinator, Opened, Policy};
use vault::ProfileSpec;

use super::{unlock_confirmed, Out};
use crate::args::{Permission, ProfileCmd};

fn describe(out: Out, o: &Opened) -> anyhow::Result<()> {
    let p = &o.profile;
    writeln!(out, "organisation  {}", p.organisation)?;
    writeln!(out, "fingerprint   {}", o.fingerprint)?;
    writeln!(out, "issued        {}", p.issued_at)?;
    writeln!(out, "expires       {}", p.expires_at)?;
    for c in &p.coordinators {
        writeln!(
            out,
            "coordinator   {}  {}",
            c.recipient,
            c.label.as_deref().unwrap_or("")
        )?;
    }
    if let Some(r) = &p.recovery {
        writeln!(out, "recovery      {r}")?;
    }
    let bundles = if p.policy.passphrase_bundles {
        "allow"
    } else {
        "deny"
    };
    writeln!(out, "passphrase-bundles {bundles}")?;
    writeln!(
        out,
        "max-autolock  {} minutes",
        p.policy.max_autolock_minutes
    )?;
    Ok(())
}

fn read_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(profile::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

pub fn profile(out: Out, dir: &Path, action: ProfileCmd) -> anyhow::Result<u8> {
    match action {
        ProfileCmd::Write {
            organisation,
            coordinator,
            recovery,
            passphrase_bundles,
            max_autolock,
            valid_days,
            output,
        } => {
            let (mut v, ok) = unlock_confirmed(dir)?;
            let coordinators: Vec<Coordinator> = if coordinator.is_empty() {
                v.identities()?
                    .into_iter()
                    .map(|(recipient, label)| Coordinator { recipient, label })
                    .collect()
            } else {
                coordinator
                    .into_iter()
                    .map(|c| match c.split_once('=') {
                        Some((k, l)) => Coordinator {
                            recipient: k.trim().to_owned(),
                            label: Some(l.trim().to_owned()),
                        },
                        None => Coordinator {
                            recipient: c.trim().to_owned(),
                            label: None,
                        },
                    })
                    .collect()
            };
            anyhow::ensure!(
                !coordinators.is_empty(),
                "no coordinator keys: create the organisation identity first (`kuager identity new`) or give --coordinator age1…"
            );
            let bytes = v.write_profile(
                &ProfileSpec {
                    organisation,
                    coordinators,
                    recovery,
                    policy: Policy {
                        passphrase_bundles: passphrase_bundles == Permission::Allow,
                        max_autolock_minutes: max_autolock,
                    },
                    valid_days,
                },
                ok,
            )?;
            let opened = profile::open(&bytes, time::OffsetDateTime::now_utc())?;
            // A new file only: an older profile is not overwritten by mistake.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&output)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
            std::io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()?;
            describe(out, &opened)?;
            eprintln!(
                "Wrote {}. Give it to caseworkers, and read them the fingerprint aloud when they load it.",
                output.display()
            );
        }
        ProfileCmd::Show { file } => {
            let opened = profile::open(&read_file(&file)?, time::OffsetDateTime::now_utc())?;
            describe(out, &opened)?;
        }
        ProfileCmd::Load { file, fingerprint } => {
            let bytes = read_file(&file)?;
            let opened = profile::open(&bytes, time::OffsetDateTime::now_utc())?;
            // Checked before the vault is unlocked (and by the vault again).
            if !opened.fingerprint_matches(&fingerprint) {
                describe(out, &opened)?;
                anyhow::bail!(
                    "the fingerprint you typed is not this profile's ({}): do not load it; ask the coordinator",
                    opened.fingerprint
                );
            }
            let (mut v, ok) = unlock_confirmed(dir)?;
            let loaded = v.load_profile(&bytes, &fingerprint, ok)?;
            describe(out, &loaded)?;
            eprintln!(
                "Loaded. The vault keeps its own copy: delete {} if you do not need it (it names the organisation).",
                file.display()
            );
        }
        ProfileCmd::Forget => {
            let (mut v, ok) = unlock_confirmed(dir)?;
            v.forget_profile(ok)?;
            eprintln!("The profile is forgotten; its recipients and policy stay.");
        }
    }
    Ok(0)
}
