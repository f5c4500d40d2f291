//! `kuager`: a Kuager vault from a terminal.
//!
//! A thin adapter over the `vault` crate: it reads passphrases from the terminal (or, for
//! scripts, from the file named by `KUAGER_PASSPHRASE_FILE`), prints for people, and maps errors
//! to distinct exit codes. There is deliberately no command that writes record data or an
//! attachment to a file: the only way out of a vault is a bundle.

mod output;
mod passphrase;

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use clap::{Parser, Subcommand};
use vault::{AttachMeta, CreateOptions, Error, Kind, RecordId, Vault};

/// Exit codes (stable, documented in the README).
mod exit {
    pub const ERROR: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const WRONG_PASSPHRASE: u8 = 3;
    pub const INVALID: u8 = 4;
    pub const VERIFY_FAILED: u8 = 5;
    pub const NOT_FOUND: u8 = 6;
    pub const CONFLICT: u8 = 7;
    pub const LOCKED: u8 = 8;
    pub const BUNDLE_REFUSED: u8 = 9;
}

#[derive(Parser)]
#[command(name = "kuager", version, about = "Kuager: an encrypted vault for witness testimonies", long_about = None)]
struct Cli {
    /// The vault folder (default: the platform data folder, e.g. ~/.local/share/kuager/default).
    #[arg(long, global = true, env = "KUAGER_VAULT", value_name = "DIR")]
    vault: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new vault (asks for the passphrase twice).
    Init {
        /// An organisation recovery key (age1…): it can open the vault if the passphrase is lost.
        #[arg(long = "recovery-recipient", value_name = "AGE1…")]
        recovery: Vec<String>,
    },
    /// Add records of KIND (person, testimony, attempt, case) from one JSON object or JSON Lines.
    Add {
        /// person, testimony, attempt or case.
        kind: String,
        /// A file of JSON / JSON Lines, or - (the default) for standard input.
        file: Option<PathBuf>,
    },
    /// Save a new revision of a record: FILE is a JSON merge patch (only the fields that change).
    Edit {
        /// The record id.
        id: String,
        /// A JSON merge patch (RFC 7396), or - for standard input.
        file: Option<PathBuf>,
        /// The revision the change is based on (its id or the first 8+ digits `history` shows;
        /// default: the current one).
        #[arg(long, value_name = "REVISION")]
        base: Option<String>,
        /// FILE is the whole new record rather than a patch.
        #[arg(long)]
        replace: bool,
    },
    /// Show a record.
    Show {
        /// The record id.
        id: String,
        /// Print the record's data as JSON (to the terminal).
        #[arg(long)]
        json: bool,
    },
    /// List records, newest first.
    List {
        /// Only this kind: person, testimony, attempt or case.
        kind: Option<String>,
    },
    /// Show a record's revisions.
    History {
        /// The record id.
        id: String,
    },
    /// Attach a file (audio, photo, scan) to a record; any size, streamed and encrypted.
    Attach {
        /// The record id.
        id: String,
        /// The file to attach.
        file: PathBuf,
        /// A caption.
        #[arg(long)]
        caption: Option<String>,
        /// The media type (guessed from the file extension when absent).
        #[arg(long = "media-type")]
        media_type: Option<String>,
    },
    /// Search names in any script or spelling, document numbers, ids and full text.
    Search {
        /// What to look for.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// At most this many results.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show the audit log.
    Audit,
    /// Check the vault: database integrity, revision ids, audit chain, attachments.
    Verify,
    /// Change the passphrase.
    Passphrase,
    /// The organisation's coordinators this vault exports to.
    Recipients {
        #[command(subcommand)]
        action: RecipientsCmd,
    },
    /// Write a bundle (age-encrypted, signed) for the coordinators: the only way out of a vault.
    Export {
        /// Everything, even what was exported before.
        #[arg(long, conflicts_with_all = ["since_last", "record"])]
        all: bool,
        /// Only what is new since the last export to the same recipients (the default).
        #[arg(long)]
        since_last: bool,
        /// Only these records (with their whole history).
        #[arg(long = "record", value_name = "ID")]
        record: Vec<String>,
        /// Also encrypt to this key (age1… or ssh-ed25519 …); repeatable.
        #[arg(long = "to", value_name = "RECIPIENT")]
        to: Vec<String>,
        /// Where to write: a folder (default: the current one) or a file name.
        #[arg(short = 'o', long = "output", value_name = "PATH")]
        output: Option<PathBuf>,
        /// ASCII-armored age instead of binary.
        #[arg(long)]
        armor: bool,
        /// Encrypt to a passphrase (asked twice) instead of the coordinators' keys; only if the
        /// vault's policy allows it (`kuager policy`).
        #[arg(long, conflicts_with = "to")]
        passphrase: bool,
    },
    /// Name this vault (shown to coordinators inside bundles): `label TEXT`, `label --clear`, or
    /// `label` to show it.
    Label {
        /// The name.
        text: Option<String>,
        /// Remove the name.
        #[arg(long, conflicts_with = "text")]
        clear: bool,
    },
    /// Show or set the vault's policy: `policy`, `policy passphrase-bundles allow|deny`.
    Policy {
        /// `passphrase-bundles`.
        setting: Option<String>,
        /// `allow` or `deny`.
        value: Option<String>,
    },
    /// Organisation identities (coordinators): the keys bundles are decrypted with.
    Identity {
        #[command(subcommand)]
        action: IdentityCmd,
    },
    /// Trust a caseworker's device key: `trust KEY --label NAME`, `trust list`, `trust remove KEY`.
    Trust {
        /// KEY (as `kuager device` printed it), or `list`, or `remove KEY`.
        #[arg(required = true, num_args = 1..=2)]
        args: Vec<String>,
        /// A name for the device (for `trust KEY`).
        #[arg(long)]
        label: Option<String>,
    },
    /// Decrypt and check a bundle, and show what importing it would do (changes nothing).
    Inspect {
        /// The bundle file.
        bundle: PathBuf,
        /// An age identity file to decrypt with (besides the vault's own identities).
        #[arg(short = 'i', long = "identity", value_name = "FILE")]
        identity: Vec<PathBuf>,
        /// The bundle is encrypted to a passphrase (asked).
        #[arg(long, conflicts_with = "identity")]
        passphrase: bool,
    },
    /// Import a bundle: all of it after every check, or nothing.
    Import {
        /// The bundle file.
        bundle: PathBuf,
        /// An age identity file to decrypt with (besides the vault's own identities).
        #[arg(short = 'i', long = "identity", value_name = "FILE")]
        identity: Vec<PathBuf>,
        /// Trust the signer's device key if it is unknown (after checking it with the caseworker).
        #[arg(long = "trust-signer", value_name = "LABEL", num_args = 0..=1, default_missing_value = "")]
        trust_signer: Option<String>,
        /// The bundle is encrypted to a passphrase (asked).
        #[arg(long, conflicts_with = "identity")]
        passphrase: bool,
    },
    /// Purge a record (consent withdrawn, a court order): destroy its content and attachments
    /// here; the purge travels in the next bundle so coordinators' copies are purged too.
    Purge {
        /// The record id.
        id: String,
        /// Why (kept in the audit log).
        #[arg(long, required = true)]
        reason: String,
    },
    /// List records whose versions conflict, with the fields that differ side by side.
    Conflicts,
    /// Resolve a conflict: keep one version, or give the merged record (whole JSON).
    Resolve {
        /// The record id.
        id: String,
        /// The version (revision id) to keep.
        #[arg(long, value_name = "REVISION", conflicts_with = "file")]
        keep: Option<String>,
        /// The merged record as JSON, or - for standard input.
        file: Option<PathBuf>,
    },
    /// Show this vault's device key (minisign format): hand it to the coordinators once, so they
    /// can check which device signed a bundle.
    Device,
    /// Manage recovery keyslots.
    Recovery {
        #[command(subcommand)]
        action: RecoveryCmd,
    },
}

#[derive(Subcommand)]
enum RecipientsCmd {
    /// Add a coordinator key: age1… or "ssh-ed25519 …".
    Add {
        /// The public key.
        recipient: String,
        /// A name for it.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the keys bundles are encrypted to.
    List,
    /// Remove a key (by the key itself, or its label).
    Remove {
        /// The key or its label.
        recipient: String,
    },
}

#[derive(Subcommand)]
enum IdentityCmd {
    /// Create an organisation identity inside the vault and print its public key (age1…).
    New {
        /// A name for it.
        #[arg(long)]
        label: Option<String>,
    },
    /// Take an existing `age-keygen` identity file into the vault.
    Import {
        /// The identity file.
        file: PathBuf,
        /// A name for it.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the identities (public keys only).
    List,
}

#[derive(Subcommand)]
enum RecoveryCmd {
    /// Add a recovery keyslot for an organisation key (age1…).
    Add {
        /// The organisation's age recipient.
        recipient: String,
    },
}

fn main() -> ExitCode {
    // R12: no core dumps of a process that holds keys and testimonies.
    vault::harden::disable_core_dumps();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::USAGE } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = match e.downcast_ref::<Error>() {
                Some(Error::WrongPassphrase) => exit::WRONG_PASSPHRASE,
                Some(Error::Invalid { .. } | Error::BadId(_) | Error::WeakPassphrase(_)) => {
                    exit::INVALID
                }
                Some(Error::NotFound(_) | Error::NoVault(_)) => exit::NOT_FOUND,
                Some(Error::Conflict { .. }) => exit::CONFLICT,
                Some(Error::Locked) => exit::LOCKED,
                Some(Error::Verify(_)) => exit::VERIFY_FAILED,
                Some(Error::Rejected(_)) => exit::BUNDLE_REFUSED,
                _ => exit::ERROR,
            };
            eprintln!("kuager: {e:#}");
            ExitCode::from(code)
        }
    }
}

fn default_vault_dir() -> anyhow::Result<PathBuf> {
    let base = dirs::data_dir()
        .ok_or_else(|| anyhow::anyhow!("no data folder for this user: give --vault DIR"))?;
    Ok(base.join("kuager").join("default"))
}

fn unlock(dir: &Path) -> anyhow::Result<Vault> {
    let mut v = Vault::open(dir)?;
    let p = passphrase::read("Passphrase: ")?;
    v.unlock(&p)?;
    Ok(v)
}

fn input(file: Option<&Path>) -> anyhow::Result<Box<dyn io::BufRead>> {
    match file {
        None => {
            if io::stdin().is_terminal() {
                eprintln!("(reading JSON from the terminal; end with Ctrl-D)");
            }
            Ok(Box::new(BufReader::new(io::stdin())))
        }
        Some(p) if p.as_os_str() == "-" => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(p) => {
            let f =
                File::open(p).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?;
            Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
        }
    }
}

fn identity_files(paths: &[PathBuf]) -> anyhow::Result<Vec<age::x25519::Identity>> {
    let mut ids = Vec::new();
    for p in paths {
        ids.extend(vault::bundle::read_identity_file(p)?);
    }
    Ok(ids)
}

fn print_import(
    out: &mut impl Write,
    r: &vault::bundle::ImportReport,
    done: bool,
) -> anyhow::Result<()> {
    let signer = match &r.signer.label {
        Some(l) if !l.is_empty() => format!("{l} (device key {})", r.signer.key_id),
        _ => format!("unknown key {}", r.signer.key_id),
    };
    writeln!(out, "bundle {}", r.bundle_id)?;
    writeln!(out, "signed by {signer}")?;
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

fn record_id(s: &str) -> anyhow::Result<RecordId> {
    Ok(RecordId::from_str(s)?)
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let dir = match cli.vault {
        Some(d) => d,
        None => default_vault_dir()?,
    };
    let mut out = io::stdout().lock();
    match cli.command {
        Command::Init { recovery } => {
            let recovery = recovery
                .iter()
                .map(|r| {
                    age::x25519::Recipient::from_str(r.trim()).map_err(|e| {
                        anyhow::anyhow!("--recovery-recipient {r:?} is not an age1… key: {e}")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if dir.join("vault.json").exists() {
                return Err(Error::VaultExists(dir).into());
            }
            let p = passphrase::new_passphrase()?;
            let n = recovery.len();
            let v = Vault::create(
                &dir,
                &p,
                CreateOptions {
                    recovery,
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
            writeln!(out, "Keep the passphrase safe: without it (or a recovery key) nobody can open this vault.")?;
        }
        Command::Add { kind, file } => {
            let kind = Kind::from_str(&kind)?;
            let mut v = unlock(&dir)?;
            let src = input(file.as_deref())?;
            let tty = io::stderr().is_terminal();
            let mut progress = |n: usize| {
                if tty && n > 0 {
                    eprint!("\r{n} records read");
                }
            };
            let res = v.add_many(kind, src, &mut progress)?;
            if tty {
                eprint!("\r");
            }
            match res {
                Ok(saved) => {
                    for s in &saved {
                        for w in &s.warnings {
                            eprintln!("warning: {}: {}: {}", s.record, w.field, w.message);
                        }
                        writeln!(out, "{}", s.record)?;
                    }
                    if saved.is_empty() {
                        eprintln!("kuager: the input held no records");
                        return Ok(exit::INVALID);
                    }
                    if saved.len() > 1 {
                        eprintln!("added {} {kind} records", saved.len());
                    }
                }
                Err(bulk) => {
                    for (line, e) in &bulk.errors {
                        match e {
                            Error::Invalid { field, message } if !field.is_empty() => {
                                eprintln!("line {line}: {field}: {message}")
                            }
                            Error::Invalid { message, .. } => eprintln!("line {line}: {message}"),
                            other => eprintln!("line {line}: {other}"),
                        }
                    }
                    if bulk.errors.len() >= vault::MAX_REPORTED_ERRORS {
                        eprintln!("(stopped after {} errors)", bulk.errors.len());
                    }
                    eprintln!(
                        "kuager: nothing was added: fix the lines above and run the same command again"
                    );
                    return Ok(exit::INVALID);
                }
            }
        }
        Command::Edit {
            id,
            file,
            base,
            replace,
        } => {
            let id = record_id(&id)?;
            let mut v = unlock(&dir)?;
            let base = base.map(|b| v.find_revision(id, &b)).transpose()?;
            let mut json = Vec::new();
            let limit = vault::model::MAX_RECORD_BYTES as u64;
            input(file.as_deref())?
                .take(limit + 1)
                .read_to_end(&mut json)?;
            if json.len() as u64 > limit {
                return Err(Error::Invalid {
                    field: String::new(),
                    message: format!("the edit is larger than {limit} bytes"),
                }
                .into());
            }
            let s = v.edit(id, &json, base, replace)?;
            for w in &s.warnings {
                eprintln!("warning: {}: {}", w.field, w.message);
            }
            if s.changed {
                writeln!(out, "{}", s.revision)?;
            } else {
                eprintln!("no change: the record already holds this");
                writeln!(out, "{}", s.revision)?;
            }
            let heads = v.get(id)?.heads.len();
            if heads > 1 {
                eprintln!(
                    "note: record {id} now has {heads} versions that conflict; a coordinator resolves them"
                );
            }
        }
        Command::Show { id, json } => {
            let v = unlock(&dir)?;
            let view = v.get(record_id(&id)?)?;
            if json {
                let heads: Vec<_> = view.heads.iter().map(|h| &h.data).collect();
                let text = if heads.len() == 1 {
                    serde_json::to_string_pretty(&heads[0])?
                } else {
                    serde_json::to_string_pretty(&heads)?
                };
                writeln!(out, "{text}")?;
            } else {
                output::show(&mut out, &v, &view)?;
            }
        }
        Command::List { kind } => {
            let kind = kind.map(|k| Kind::from_str(&k)).transpose()?;
            let v = unlock(&dir)?;
            let list = v.list(kind)?;
            output::summaries(&mut out, &list, kind.is_none())?;
            if list.is_empty() {
                eprintln!("(no records)");
            }
        }
        Command::History { id } => {
            let v = unlock(&dir)?;
            let h = v.history(record_id(&id)?)?;
            output::history(&mut out, &h)?;
        }
        Command::Attach {
            id,
            file,
            caption,
            media_type,
        } => {
            let id = record_id(&id)?;
            let f = File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let mut v = unlock(&dir)?;
            let meta = AttachMeta {
                name: file.file_name().map(|n| n.to_string_lossy().into_owned()),
                caption,
                media_type: media_type
                    .or_else(|| output::guess_media_type(&file).map(str::to_owned)),
            };
            let s = v.attach(id, f, meta)?;
            writeln!(out, "{}", s.revision)?;
        }
        Command::Search { query, limit } => {
            let v = unlock(&dir)?;
            let q = query.join(" ");
            let hits = v.search(&q, limit)?;
            output::hits(&mut out, &hits)?;
            if hits.is_empty() {
                eprintln!("no matches for {q:?}");
            }
        }
        Command::Audit => {
            let v = unlock(&dir)?;
            output::audit(&mut out, &v.audit()?)?;
        }
        Command::Verify => {
            let v = unlock(&dir)?;
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
        }
        Command::Passphrase => {
            let mut v = unlock(&dir)?;
            let p = passphrase::new_passphrase()?;
            v.change_passphrase(&p, None)?;
            writeln!(out, "Passphrase changed.")?;
        }
        Command::Recipients { action } => match action {
            RecipientsCmd::Add { recipient, label } => {
                let r: vault::bundle::Recipient = recipient.parse()?;
                let mut v = unlock(&dir)?;
                v.add_recipient(&r, label.as_deref())?;
                writeln!(out, "Bundles will be encrypted to {r}")?;
            }
            RecipientsCmd::List => {
                let v = unlock(&dir)?;
                let list = v.recipients()?;
                for r in &list {
                    writeln!(out, "{}  {}", r.recipient, r.label.as_deref().unwrap_or(""))?;
                }
                if list.is_empty() {
                    eprintln!("(no recipients yet: add the coordinators' keys with `kuager recipients add age1…`)");
                }
            }
            RecipientsCmd::Remove { recipient } => {
                let mut v = unlock(&dir)?;
                let key = v.remove_recipient(&recipient)?;
                writeln!(out, "Removed {key}")?;
            }
        },
        Command::Export {
            all,
            since_last: _,
            record,
            to,
            output,
            armor,
            passphrase,
        } => {
            let scope = if all {
                vault::bundle::ExportScope::All
            } else if !record.is_empty() {
                vault::bundle::ExportScope::Records(
                    record
                        .iter()
                        .map(|r| record_id(r))
                        .collect::<anyhow::Result<_>>()?,
                )
            } else {
                vault::bundle::ExportScope::SinceLast
            };
            let extra_recipients = to
                .iter()
                .map(|r| r.parse())
                .collect::<Result<Vec<vault::bundle::Recipient>, _>>()?;
            let opts = vault::bundle::ExportOptions {
                scope,
                extra_recipients,
                output: output.unwrap_or_else(|| PathBuf::from(".")),
                armor,
                passphrase: None,
                cancel: None,
            };
            let mut v = unlock(&dir)?;
            let mut opts = opts;
            if passphrase {
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
            let report = match v.export(&opts, &mut progress) {
                Err(Error::NothingToExport) => {
                    eprintln!("kuager: {}", Error::NothingToExport);
                    return Ok(0);
                }
                other => other?,
            };
            if tty {
                eprint!("\r");
            }
            writeln!(out, "{}", report.path.display())?;
            eprintln!(
                "{} records ({} revisions), {} attachments, {} audit events; {} bytes",
                report.records, report.revisions, report.blobs, report.audit_events, report.size
            );
            eprintln!("encrypted to: {}", report.recipients.join(", "));
            eprintln!("SHA-256: {}", report.sha256);
        }
        Command::Identity { action } => {
            let mut v = unlock(&dir)?;
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
                    eprintln!("The key is now inside the vault; delete {} securely if you no longer need it.", file.display());
                }
                IdentityCmd::List => {
                    for (r, l) in v.identities()? {
                        writeln!(out, "{r}  {}", l.unwrap_or_default())?;
                    }
                }
            }
        }
        Command::Trust { args, label } => {
            let mut v = unlock(&dir)?;
            match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["list"] => {
                    for (k, l) in v.trusted_devices()? {
                        writeln!(out, "{k}  {l}")?;
                    }
                }
                ["remove", key] => {
                    let k = v.untrust_device(key)?;
                    writeln!(out, "No longer trusted: {k}")?;
                }
                [key] => {
                    let label = label.ok_or_else(|| anyhow::anyhow!("give the device a name: --label NAME"))?;
                    let k = v.trust_device(key, &label)?;
                    writeln!(out, "Trusted {k} as {label:?}")?;
                }
                _ => anyhow::bail!("use `kuager trust KEY --label NAME`, `kuager trust list` or `kuager trust remove KEY`"),
            }
        }
        Command::Inspect {
            bundle,
            identity,
            passphrase,
        } => {
            let ids = identity_files(&identity)?;
            let mut v = unlock(&dir)?;
            let r = if passphrase {
                v.inspect_with_passphrase(&bundle, &passphrase::bundle_passphrase()?)?
            } else {
                v.inspect(&bundle, &ids)?
            };
            print_import(&mut out, &r, false)?;
        }
        Command::Import {
            bundle,
            identity,
            trust_signer,
            passphrase,
        } => {
            let ids = identity_files(&identity)?;
            let mut v = unlock(&dir)?;
            let label = trust_signer.map(|l| {
                if l.is_empty() {
                    "trusted on import".to_owned()
                } else {
                    l
                }
            });
            let r = if passphrase {
                v.import_with_passphrase(
                    &bundle,
                    &passphrase::bundle_passphrase()?,
                    label.as_deref(),
                )?
            } else {
                v.import(&bundle, &ids, label.as_deref())?
            };
            print_import(&mut out, &r, true)?;
        }
        Command::Purge { id, reason } => {
            let id = record_id(&id)?;
            let mut v = unlock(&dir)?;
            let s = v.purge(id, &reason)?;
            writeln!(out, "{}", s.revision)?;
            eprintln!("Purged {id}: its content and attachments are destroyed in this vault. Export to pass the purge on to the coordinators.");
        }
        Command::Conflicts => {
            let v = unlock(&dir)?;
            let list = v.conflicts()?;
            for view in &list {
                output::conflict(&mut out, &v, view)?;
            }
            if list.is_empty() {
                eprintln!("(no conflicts)");
            }
        }
        Command::Resolve { id, keep, file } => {
            let id = record_id(&id)?;
            let mut v = unlock(&dir)?;
            let keep = keep.map(|k| v.find_revision(id, &k)).transpose()?;
            let json = match (&keep, &file) {
                (None, Some(_)) | (None, None) => {
                    let mut j = Vec::new();
                    input(file.as_deref())?
                        .take(vault::model::MAX_RECORD_BYTES as u64 + 1)
                        .read_to_end(&mut j)?;
                    Some(j)
                }
                _ => None,
            };
            let s = v.resolve(id, keep, json.as_deref())?;
            writeln!(out, "{}", s.revision)?;
        }
        Command::Label { text, clear } => {
            let mut v = unlock(&dir)?;
            if clear || text.is_some() {
                v.set_label(text.as_deref())?;
            }
            match v.settings()?.label {
                Some(l) => writeln!(out, "{l}")?,
                None => eprintln!("(this vault has no label: `kuager label TEXT`)"),
            }
        }
        Command::Policy { setting, value } => {
            let mut v = unlock(&dir)?;
            match (setting.as_deref(), value.as_deref()) {
                (None, None) => {}
                (Some("passphrase-bundles"), Some(a @ ("allow" | "deny"))) => {
                    v.set_passphrase_bundles(a == "allow")?;
                }
                _ => anyhow::bail!(
                    "use `kuager policy` or `kuager policy passphrase-bundles allow|deny`"
                ),
            }
            let s = v.settings()?;
            writeln!(
                out,
                "passphrase-bundles {}",
                if s.passphrase_bundles {
                    "allow"
                } else {
                    "deny"
                }
            )?;
        }
        Command::Device => {
            let v = unlock(&dir)?;
            let k = v.device_public_key()?;
            writeln!(out, "untrusted comment: minisign public key {}", k.key_id)?;
            writeln!(out, "{}", k.minisign)?;
            eprintln!("fingerprint: {}", k.fingerprint);
            eprintln!("(save the two lines above as a .pub file for `minisign -V -p FILE`, or pass the second with -P)");
        }
        Command::Recovery {
            action: RecoveryCmd::Add { recipient },
        } => {
            let r = age::x25519::Recipient::from_str(recipient.trim())
                .map_err(|e| anyhow::anyhow!("{recipient:?} is not an age1… key: {e}"))?;
            let mut v = unlock(&dir)?;
            let path = v.add_recovery(&r)?;
            writeln!(out, "Added recovery keyslot {}", path.display())?;
        }
    }
    Ok(0)
}
