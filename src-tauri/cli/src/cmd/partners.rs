//! Partner organisations and the bundles made for them (docs/design-notes.md "Partner
//! bundles"): the bundle's path on standard output; what goes, what is withheld and why, on
//! standard error.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use ::vault::{Going, PartnerExport, PartnerPreview, PreviewLine};

use super::{unlock, unlock_confirmed, Out};
use crate::args::{ExportArgs, PartnersCmd};

pub fn partners(out: Out, dir: &Path, action: PartnersCmd) -> anyhow::Result<u8> {
    match action {
        PartnersCmd::Add { key, label } => {
            let r: vault::bundle::Recipient = key.parse()?;
            let (mut v, ok) = unlock_confirmed(dir)?;
            let p = v.add_partner(&r, &label, ok)?;
            writeln!(
                out,
                "Partner {:?}: bundles for it are encrypted to {}",
                p.label, p.recipient
            )?;
        }
        PartnersCmd::List => {
            let v = unlock(dir)?;
            let list = v.partners()?;
            for p in &list {
                writeln!(out, "{}  {}", p.recipient, p.label)?;
            }
            if list.is_empty() {
                eprintln!("(no partners yet: add one with `kuager partners add KEY --label NAME`)");
            }
        }
        PartnersCmd::Remove { partner } => {
            let (mut v, ok) = unlock_confirmed(dir)?;
            let p = v.remove_partner(&partner, ok)?;
            writeln!(out, "Removed the partner {:?} ({})", p.label, p.recipient)?;
        }
    }
    Ok(0)
}

fn kind_and_id(l: &PreviewLine) -> String {
    format!("{} {}", l.kind, l.record)
}

/// What goes, what is withheld and what is withdrawn, on standard error.
fn explain(p: &PartnerPreview) {
    let count = |g: Going| p.going.iter().filter(|l| l.going == Some(g)).count();
    eprintln!(
        "to {}: {} records go ({} named, {} as pseudonyms), {} already there unchanged; {} attachments",
        p.partner,
        count(Going::Named) + count(Going::Pseudonym),
        count(Going::Named),
        count(Going::Pseudonym),
        count(Going::Unchanged),
        p.attachments,
    );
    if p.contact_removed > 0 {
        let who = if p.contact_removed == 1 {
            "person"
        } else {
            "people"
        };
        eprintln!("contact details left out: {} {who}", p.contact_removed);
    }
    if p.attachments_withheld > 0 {
        eprintln!(
            "attachments left out: {} (they could identify someone who goes as a pseudonym)",
            p.attachments_withheld
        );
    }
    for l in &p.withheld {
        let why = l.reason.map_or("", |r| r.describe());
        eprintln!("withheld: {}: {why}", kind_and_id(l));
    }
    for l in &p.withdrawn {
        let why = l.reason.map_or("", |r| r.describe());
        eprintln!("withdrawn from the partner: {}: {why}", kind_and_id(l));
    }
}

pub fn export(out: Out, dir: &Path, a: ExportArgs) -> anyhow::Result<u8> {
    let partner = a.partner.unwrap_or_default();
    let records = (!a.record.is_empty()).then_some(a.record);
    let mut v = unlock(dir)?;
    if a.preview {
        let p = v.partner_preview(&partner, records.as_deref())?;
        explain(&p);
        for l in &p.going {
            let how = match l.going {
                Some(Going::Named) => "named",
                Some(Going::Pseudonym) => "pseudonym",
                _ => "unchanged",
            };
            writeln!(out, "{}  {how}", kind_and_id(l))?;
        }
        return Ok(0);
    }
    let tty = io::stderr().is_terminal();
    let mut progress = |n: u64| {
        if tty {
            eprint!("\rwritten {} MiB", n >> 20);
        }
    };
    let job = PartnerExport {
        partner,
        records,
        output: a.output.unwrap_or_else(|| PathBuf::from(".")),
        armor: a.armor,
        cancel: None,
        limits: Default::default(),
        previewed: None,
    };
    let (r, preview) = v.export_to_partner(&job, &mut progress)?;
    if tty {
        eprint!("\r");
    }
    explain(&preview);
    for b in &r.bundles {
        writeln!(out, "{}", b.path.display())?;
        eprintln!("SHA-256: {}  {}", b.sha256, b.path.display());
    }
    eprintln!("encrypted to: {}", r.recipients.join(", "));
    Ok(0)
}
