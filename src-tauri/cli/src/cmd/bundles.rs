//! Bundles: export to the coordinators; inspect and import what caseworkers sent.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use ::vault::bundle::{ExportOptions, ExportScope, ImportOptions, ImportReport};
use ::vault::Error;

use super::{identity_files, unlock, unlock_confirmed, Out};
use crate::args::ExportArgs;
use crate::{passphrase, report};

pub fn export(out: Out, dir: &Path, a: ExportArgs) -> anyhow::Result<u8> {
    let scope = if a.all {
        ExportScope::All
    } else if !a.record.is_empty() {
        ExportScope::Records(a.record)
    } else {
        // `--since-last`, or no scope given.
        ExportScope::SinceLast
    };
    let extra_recipients =
        a.to.iter()
            .map(|r| r.parse())
            .collect::<Result<Vec<vault::bundle::Recipient>, _>>()?;
    let mut opts = ExportOptions {
        scope,
        extra_recipients,
        confirmed: None,
        output: a.output.unwrap_or_else(|| PathBuf::from(".")),
        armor: a.armor,
        passphrase: None,
        cancel: None,
        limits: Default::default(),
    };
    // The passphrase typed to unlock also confirms keys given with --to.
    let (mut v, ok) = unlock_confirmed(dir)?;
    opts.confirmed = Some(ok);
    if a.passphrase {
        // Refused before asking for a passphrase nobody may use.
        v.passphrase_bundles_allowed()?;
        opts.passphrase = Some(passphrase::new_bundle_passphrase()?);
    }
    let tty = io::stderr().is_terminal();
    let mut progress = |n: u64| {
        if tty {
            eprint!("\rwritten {} MiB", n >> 20);
        }
    };
    let r = match v.export(&opts, &mut progress) {
        Err(e @ Error::NothingToExport) => {
            eprintln!("kuager: {}", report::explain(&e));
            return Ok(0);
        }
        other => other?,
    };
    if tty {
        eprint!("\r");
    }
    for b in &r.bundles {
        writeln!(out, "{}", b.path.display())?;
    }
    let size: u64 = r.bundles.iter().map(|b| b.size).sum();
    eprintln!(
        "{} records ({} revisions), {} attachments, {} audit events; {} bytes",
        r.records, r.revisions, r.blobs, r.audit_events, size
    );
    eprintln!("encrypted to: {}", r.recipients.join(", "));
    match &r.bundles[..] {
        [one] => eprintln!("SHA-256: {}", one.sha256),
        several => {
            eprintln!(
                "split into {} bundles: one would hold more than an importer accepts. Send them all; they are imported in this order.",
                several.len()
            );
            for b in several {
                eprintln!("SHA-256: {}  {}", b.sha256, b.path.display());
            }
        }
    }
    Ok(0)
}

/// How to import: the identity files' keys (read before the vault is unlocked), the bundle's
/// passphrase (asked after), the label to trust an unknown signer under.
fn import_options(
    identities: Vec<age::x25519::Identity>,
    passphrase: bool,
    trust_signer: Option<String>,
) -> anyhow::Result<ImportOptions> {
    Ok(ImportOptions {
        identities,
        passphrase: passphrase.then(passphrase::bundle_passphrase).transpose()?,
        trust_signer,
        ..Default::default()
    })
}

pub fn inspect(
    out: Out,
    dir: &Path,
    bundle: &Path,
    identity: &[PathBuf],
    passphrase: bool,
) -> anyhow::Result<u8> {
    let ids = identity_files(identity)?;
    let mut v = unlock(dir)?;
    let r = v.inspect(bundle, &import_options(ids, passphrase, None)?)?;
    print_import(out, &r, false)?;
    Ok(0)
}

pub fn import(
    out: Out,
    dir: &Path,
    bundle: &Path,
    identity: &[PathBuf],
    trust_signer: Option<String>,
    passphrase: bool,
) -> anyhow::Result<u8> {
    let ids = identity_files(identity)?;
    let mut v = unlock(dir)?;
    // `--trust-signer` without a label still trusts the signer, under a label that says how.
    let trust = trust_signer.map(|l| {
        if l.is_empty() {
            "trusted on import".to_owned()
        } else {
            l
        }
    });
    let r = v.import(bundle, &import_options(ids, passphrase, trust)?)?;
    print_import(out, &r, true)?;
    Ok(0)
}

fn print_import(out: Out, r: &ImportReport, done: bool) -> anyhow::Result<()> {
    let signer = match &r.signer.label {
        Some(l) if !l.is_empty() => format!("{l} (device key {})", r.signer.key_id),
        _ => format!("unknown key {}", r.signer.key_id),
    };
    writeln!(out, "bundle {}", r.bundle_id)?;
    if r.format > 0 {
        writeln!(out, "format {}", r.format)?;
    }
    writeln!(out, "signed by {signer}")?;
    if !r.read {
        writeln!(
            out,
            "not read: a bundle is read only once its signer is trusted; check the key with its owner, then `kuager trust add` it or import with --trust-signer"
        )?;
        return Ok(());
    }
    let verb = if done {
        "imported"
    } else {
        "importing would add"
    };
    writeln!(
        out,
        "{verb}: {} new records, {} changed records, {} new revisions ({} already here), {} new attachments",
        r.new_records, r.changed_records, r.new_revisions, r.known_revisions, r.new_blobs
    )?;
    for c in &r.conflicts {
        writeln!(
            out,
            "conflict: record {c} has two versions; a coordinator resolves it"
        )?;
    }
    if done && !r.committed {
        writeln!(out, "nothing new: this bundle was already imported")?;
    }
    Ok(())
}
