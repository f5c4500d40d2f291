//! The command line, as clap reads it: parsed and checked here once, so that the commands get
//! typed values (a record kind, a record id, allow or deny), never strings to check again.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use vault::RecordId;

#[derive(Parser)]
#[command(name = "kuager", version, about = "Kuager: an encrypted vault for witness testimonies", long_about = None)]
pub struct Cli {
    /// The vault folder (default: the platform data folder, e.g. ~/.local/share/kuager/default).
    #[arg(long, global = true, env = "KUAGER_VAULT", value_name = "DIR")]
    pub vault: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// A kind of record.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// A witness, victim, relative or official.
    #[value(alias = "people", alias = "persons")]
    Person,
    /// What a witness told.
    #[value(alias = "testimonies")]
    Testimony,
    /// A request to cancel a PRC citizenship, and its outcome.
    #[value(alias = "attempts")]
    Attempt,
    /// A file grouping people, testimonies and attempts.
    #[value(alias = "cases")]
    Case,
}

impl From<KindArg> for vault::Kind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Person => vault::Kind::Person,
            KindArg::Testimony => vault::Kind::Testimony,
            KindArg::Attempt => vault::Kind::Attempt,
            KindArg::Case => vault::Kind::Case,
        }
    }
}

/// Allow or deny.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Permission {
    /// Allowed.
    Allow,
    /// Denied.
    Deny,
}

/// A record id, checked as the command line is read.
fn record_id(s: &str) -> Result<RecordId, String> {
    s.parse::<RecordId>().map_err(|e| e.to_string())
}

#[derive(Subcommand)]
pub enum Command {
    /// Create a new vault (asks for the passphrase twice).
    Init {
        /// An organisation recovery key (age1…): it can open the vault if the passphrase is lost.
        #[arg(long = "recovery-recipient", value_name = "AGE1…")]
        recovery: Vec<String>,
    },
    /// Add records of KIND from one JSON object or JSON Lines.
    Add {
        /// The kind of the records.
        kind: KindArg,
        /// A file of JSON / JSON Lines, or - (the default) for standard input.
        file: Option<PathBuf>,
    },
    /// Save a new revision of a record: FILE is a JSON merge patch (only the fields that change).
    Edit {
        /// The record id.
        #[arg(value_parser = record_id)]
        id: RecordId,
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
        #[arg(value_parser = record_id)]
        id: RecordId,
        /// Print the record's data as JSON (to the terminal).
        #[arg(long)]
        json: bool,
    },
    /// List records, newest first.
    List {
        /// Only this kind.
        kind: Option<KindArg>,
    },
    /// Show a record's revisions.
    History {
        /// The record id.
        #[arg(value_parser = record_id)]
        id: RecordId,
    },
    /// Attach a file (audio, photo, scan) to a record; any size, streamed and encrypted.
    Attach {
        /// The record id.
        #[arg(value_parser = record_id)]
        id: RecordId,
        /// The file to attach.
        file: PathBuf,
        /// A caption; `-` reads it from standard input (typed here, it stays in the shell's
        /// history and is visible to other users in the process list).
        #[arg(long)]
        caption: Option<String>,
        /// The media type (guessed from the file extension when absent).
        #[arg(long = "media-type")]
        media_type: Option<String>,
    },
    /// Record an interview from a microphone straight into the vault, as an attachment of a
    /// testimony (Opus in Ogg, about 11 MB an hour; no file outside the vault). Press Enter to
    /// set a marker (type a note first to give it one); Ctrl-D stops and saves. A recording
    /// interrupted (a crash, Ctrl-C) is kept: `kuager recordings` lists it.
    Record {
        /// The testimony's id.
        #[arg(value_parser = record_id)]
        id: RecordId,
        /// The microphone (an id from `kuager inputs`; the system's default when absent).
        #[arg(long)]
        input: Option<String>,
        /// Stop by itself after this many seconds.
        #[arg(long)]
        seconds: Option<u64>,
    },
    /// List the microphones this computer offers.
    Inputs,
    /// Recordings not yet saved (interrupted by a crash or a kill): list, save or discard them.
    Recordings {
        #[command(subcommand)]
        action: Option<RecordingsAction>,
    },
    /// Search names in any script or spelling, document numbers, ids and full text.
    Search {
        /// What to look for. Leave it out to be asked on the terminal, or give `-` to read it
        /// from standard input: typed here, a witness's name stays in the shell's history and is
        /// visible to other users in the process list.
        #[arg(num_args = 0..)]
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
    /// Rotate the vault's keys and choose a new passphrase: afterwards no earlier copy of a
    /// keyslot (a backup, a seized disk's image) opens anything, even with the old passphrase.
    /// Use it when a passphrase was coerced or a keyslot copied; it re-encrypts every attachment.
    Rotate,
    /// The organisation's coordinators this vault exports to.
    Recipients {
        #[command(subcommand)]
        action: RecipientsCmd,
    },
    /// Partner organisations (another NGO, a lawyer, a UN mechanism): they receive, with
    /// `kuager export --partner`, only what each witness's consent allows.
    Partners {
        #[command(subcommand)]
        action: PartnersCmd,
    },
    /// Write a bundle (age-encrypted, signed) for the coordinators, or with `--partner` for a
    /// partner organisation: the only way out of a vault.
    Export(ExportArgs),
    /// Name this vault (shown to coordinators inside bundles): `label TEXT`, `label --clear`, or
    /// `label` to show it.
    Label {
        /// The name; `-` reads it from standard input (kept out of the shell's history).
        text: Option<String>,
        /// Remove the name.
        #[arg(long, conflicts_with = "text")]
        clear: bool,
    },
    /// Show the vault's policy, or set it: `policy passphrase-bundles allow|deny`.
    Policy {
        #[command(subcommand)]
        setting: Option<PolicyCmd>,
    },
    /// Organisation identities (coordinators): the keys bundles are decrypted with.
    Identity {
        #[command(subcommand)]
        action: IdentityCmd,
    },
    /// Caseworkers' devices whose bundles this vault imports.
    Trust {
        #[command(subcommand)]
        action: TrustCmd,
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
    /// here; the purge travels in the next bundle so coordinators' copies are purged too. A
    /// person merged with others (`merge`, even undone since) is purged with them.
    Purge {
        /// The record id.
        #[arg(value_parser = record_id)]
        id: RecordId,
        /// Why (kept in this vault's audit log). Leave it out to be asked on the terminal, or
        /// give `-` to read it from standard input: typed here, it stays in the shell's history
        /// and is visible to other users in the process list.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Merge two records of one person (entered twice, perhaps in two scripts): SURVIVOR keeps
    /// every name, document and contact of both, and ABSORBED leads to it from then on. A
    /// revision of each: it travels in bundles, and `unmerge` undoes it.
    Merge {
        /// The person kept.
        #[arg(value_parser = record_id)]
        survivor: RecordId,
        /// The person merged into it.
        #[arg(value_parser = record_id)]
        absorbed: RecordId,
    },
    /// Undo a merge: SURVIVOR loses what the merge brought in (edits since stay), and ABSORBED
    /// is a person of its own again.
    Unmerge {
        /// The person kept by the merge.
        #[arg(value_parser = record_id)]
        survivor: RecordId,
        /// The person that was merged into it.
        #[arg(value_parser = record_id)]
        absorbed: RecordId,
    },
    /// List records whose versions conflict, with the fields that differ side by side.
    Conflicts,
    /// Resolve a conflict: keep one version, or give the merged record (whole JSON).
    Resolve {
        /// The record id.
        #[arg(value_parser = record_id)]
        id: RecordId,
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
    /// The organisation profile: coordinators write it, caseworkers check and load it
    /// instead of pasting keys.
    Profile {
        #[command(subcommand)]
        action: ProfileCmd,
    },
}

#[derive(Subcommand)]
pub enum ProfileCmd {
    /// Write the organisation profile, signed by this (coordinator's) vault, to a new file.
    Write {
        /// The organisation's name.
        #[arg(long)]
        organisation: String,
        /// A coordinator key (age1…, or age1…=LABEL); repeat for several (default: this
        /// vault's organisation identities).
        #[arg(long, value_name = "AGE1…")]
        coordinator: Vec<String>,
        /// The organisation's recovery key (age1…).
        #[arg(long, value_name = "AGE1…")]
        recovery: Option<String>,
        /// Whether caseworkers may encrypt bundles to a passphrase.
        #[arg(long, default_value = "deny")]
        passphrase_bundles: Permission,
        /// The longest idle time, in minutes, before a caseworker's vault locks itself.
        #[arg(long, default_value_t = 10, value_name = "MINUTES")]
        max_autolock: u32,
        /// How many days the profile stays valid.
        #[arg(long, default_value_t = 365, value_name = "DAYS")]
        valid_days: u32,
        /// The file to write (it must not exist).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Check a profile file and show what it says, with the fingerprint to compare aloud.
    Show {
        /// The profile file.
        file: PathBuf,
    },
    /// Load a profile into this vault: its coordinators, recovery key and a stricter policy.
    Load {
        /// The profile file.
        file: PathBuf,
        /// The fingerprint the coordinator reads aloud (six groups of five digits).
        #[arg(long, required = true)]
        fingerprint: String,
    },
    /// Forget the loaded profile, so that one signed by a new organisation key can be loaded.
    Forget,
}

#[derive(Subcommand)]
pub enum RecipientsCmd {
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
pub enum PartnersCmd {
    /// Add a partner organisation by its age key (age1… or "ssh-ed25519 …").
    Add {
        /// Its public key.
        key: String,
        /// Its name here ("UN WGEID", "Lawyer Seitkali").
        #[arg(long, required = true)]
        label: String,
    },
    /// List the partners.
    List,
    /// Remove a partner (by its label or key): what was sent to it can no longer be withdrawn
    /// from it, and if added again it gets new pseudonyms.
    Remove {
        /// The label or key.
        partner: String,
    },
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Whether bundles may be encrypted to a passphrase instead of the coordinators' keys.
    PassphraseBundles {
        /// allow or deny.
        value: Permission,
    },
}

#[derive(Subcommand)]
pub enum IdentityCmd {
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
pub enum TrustCmd {
    /// Trust a device key (as `kuager device` printed it on the caseworker's laptop).
    Add {
        /// The device key (the line starting RW…, or both lines).
        key: String,
        /// A name for the device.
        #[arg(long, required = true)]
        label: String,
    },
    /// List the trusted devices.
    List,
    /// Revoke a device (by its key, or its label): what it sent stays, any bundle it signs
    /// later is refused, and it cannot be trusted again.
    Remove {
        /// The key or its label.
        key: String,
    },
}

#[derive(Subcommand)]
pub enum RecoveryCmd {
    /// Add a recovery keyslot for an organisation key (age1…).
    Add {
        /// The organisation's age recipient.
        recipient: String,
    },
}

/// What to export, to whom, where.
#[derive(Args)]
#[command(group(ArgGroup::new("scope").args(["all", "since_last", "record"])))]
pub struct ExportArgs {
    /// For this partner organisation (its label): only testimonies whose consent allows
    /// partners, the people they name (contact removed, some as pseudonyms) and their
    /// attempts; what is withheld is named on standard error. Without `--record`, everything
    /// that may go.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["all", "since_last", "to", "passphrase"])]
    pub partner: Option<String>,
    /// With `--partner`: say what would go and what is withheld, and write nothing.
    #[arg(long, requires = "partner")]
    pub preview: bool,
    /// Everything, even what was exported before.
    #[arg(long)]
    pub all: bool,
    /// Only what is new since the last export to the same recipients (the default).
    #[arg(long)]
    pub since_last: bool,
    /// Only these records (with their whole history).
    #[arg(long = "record", value_name = "ID", value_parser = record_id)]
    pub record: Vec<RecordId>,
    /// Also encrypt to this key (age1… or ssh-ed25519 …); repeatable.
    #[arg(long = "to", value_name = "RECIPIENT")]
    pub to: Vec<String>,
    /// Where to write: a folder (default: the current one) or a file name.
    #[arg(short = 'o', long = "output", value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// ASCII-armored age instead of binary.
    #[arg(long)]
    pub armor: bool,
    /// Encrypt to a passphrase (asked twice) instead of the coordinators' keys; only if the
    /// vault's policy allows it (`kuager policy`).
    #[arg(long, conflicts_with = "to")]
    pub passphrase: bool,
}

/// What to do with an interrupted recording.
#[derive(Debug, Subcommand)]
pub enum RecordingsAction {
    /// List them (the default).
    List,
    /// Save one as an attachment of its testimony, as far as it was recorded.
    Save {
        /// Its id (from the list; the first 8 characters are enough).
        id: String,
    },
    /// Discard one for good.
    Discard {
        /// Its id (from the list; the first 8 characters are enough).
        id: String,
    },
}
