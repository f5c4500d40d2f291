//! `kuager`: a Kuager vault from a terminal.
//!
//! A thin adapter over the `vault` crate: it reads passphrases from the terminal (or, for
//! scripts, from the file named by `KUAGER_PASSPHRASE_FILE`), prints for people, and maps errors
//! to distinct exit codes. There is deliberately no command that writes record data or an
//! attachment to a file: the only way out of a vault is a bundle.
//!
//! Here: parse, dispatch, exit. The arguments are in `args`, one file per area of commands in
//! `cmd`, the words for people in `output` and `report`.

mod args;
mod cmd;
mod output;
mod passphrase;
mod report;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use args::{Cli, Command};
use clap::Parser;

fn main() -> ExitCode {
    // R12: no core dumps of a process that holds keys and testimonies.
    vault::harden::disable_core_dumps();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                report::usage_exit_code(&e)
            } else {
                0
            });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("kuager: {}", report::message(&e));
            ExitCode::from(report::exit_code(&e))
        }
    }
}

fn default_vault_dir() -> anyhow::Result<PathBuf> {
    let base = dirs::data_dir()
        .ok_or_else(|| anyhow::anyhow!("no data folder for this user: give --vault DIR"))?;
    Ok(base.join("kuager").join("default"))
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let dir = match cli.vault {
        Some(d) => d,
        None => default_vault_dir()?,
    };
    let out = &mut std::io::stdout().lock();
    match cli.command {
        Command::Init { recovery } => cmd::vault::init(out, &dir, &recovery),
        Command::Passphrase => cmd::vault::passphrase(out, &dir),
        Command::Rotate => cmd::vault::rotate(out, &dir),
        Command::Recovery { action } => cmd::vault::recovery(out, &dir, action),
        Command::Verify => cmd::vault::verify(out, &dir),
        Command::Record { id, input, seconds } => {
            cmd::record::record(out, &dir, id, input.as_deref(), seconds)
        }
        Command::Inputs => cmd::record::inputs(out),
        Command::Recordings { action } => cmd::record::recordings(out, &dir, action),
        Command::Audit => cmd::vault::audit(out, &dir),
        Command::Label { text, clear } => {
            let text = text::resolve(text, "label", None)?;
            cmd::vault::label(out, &dir, text.as_deref(), clear)
        }
        Command::Policy { setting } => cmd::vault::policy(out, &dir, setting),
        Command::Device => cmd::vault::device(out, &dir),
        Command::Profile { action } => cmd::profile::profile(out, &dir, action),
        Command::Add { kind, file } => cmd::records::add(out, &dir, kind.into(), file.as_deref()),
        Command::Edit {
            id,
            file,
            base,
            replace,
        } => cmd::records::edit(out, &dir, id, file.as_deref(), base.as_deref(), replace),
        Command::Show { id, json } => cmd::records::show(out, &dir, id, json),
        Command::List { kind } => cmd::records::list(out, &dir, kind.map(Into::into)),
        Command::History { id } => cmd::records::history(out, &dir, id),
        Command::Attach {
            id,
            file,
            caption,
            media_type,
        } => {
            let caption = text::resolve(caption, "caption", None)?;
            cmd::records::attach(out, &dir, id, &file, caption, media_type)
        }
        Command::Search { query, limit } => {
            let given = (!query.is_empty()).then(|| query.join(" "));
            let query = text::resolve(given, "search", Some("Search: "))?.unwrap_or_default();
            cmd::records::search(out, &dir, &query, limit)
        }
        Command::Purge { id, reason } => {
            let ask = "Why is this record purged (kept in this vault's audit log)? ";
            let reason = text::resolve(reason, "reason", Some(ask))?.unwrap_or_default();
            cmd::records::purge(out, &dir, id, &reason)
        }
        Command::Merge { survivor, absorbed } => {
            cmd::records::merge(out, &dir, survivor, absorbed, false)
        }
        Command::Unmerge { survivor, absorbed } => {
            cmd::records::merge(out, &dir, survivor, absorbed, true)
        }
        Command::Conflicts => cmd::records::conflicts(out, &dir),
        Command::Resolve { id, keep, file } => {
            cmd::records::resolve(out, &dir, id, keep.as_deref(), file.as_deref())
        }
        Command::Recipients { action } => cmd::keys::recipients(out, &dir, action),
        Command::Identity { action } => cmd::keys::identity(out, &dir, action),
        Command::Trust { action } => cmd::keys::trust(out, &dir, action),
        Command::Partners { action } => cmd::partners::partners(out, &dir, action),
        Command::Export(a) if a.partner.is_some() => cmd::partners::export(out, &dir, a),
        Command::Export(a) => cmd::bundles::export(out, &dir, a),
        Command::Inspect {
            bundle,
            identity,
            passphrase,
        } => cmd::bundles::inspect(out, &dir, &bundle, &identity, passphrase),
        Command::Import {
            bundle,
            identity,
            trust_signer,
            passphrase,
        } => cmd::bundles::import(out, &dir, &bundle, &identity, trust_signer, passphrase),
    }
}
