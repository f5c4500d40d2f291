//! Bundles (docs/bundle-format.md): the only way anything leaves a vault.
//!
//! A bundle (format 2) is a standard age file holding a POSIX tar stream under
//! `kuager-bundle/`: first `manifest.json`, listing every other entry in order with its size and
//! SHA-256, and `manifest.json.minisig`, the device's minisign signature of it; then a README,
//! `bundle.key` (an X25519 identity made for this bundle), `records.jsonl` (one revision per
//! line, oldest first), `audit.jsonl`, and `blobs/<random>.age`: each attachment, an age file
//! re-addressed from the vault to `bundle.key` without being decrypted. Any age implementation
//! with a matching identity decrypts it; `tar` lists it; `minisign -Vm manifest.json -P <device
//! key>` checks who made it; `age -d -i bundle.key` opens an attachment. Format 1 bundles
//! (manifest last, attachments in plaintext inside) are still read.

pub(crate) mod export;
pub(crate) mod import;
mod limits;
pub(crate) mod share;

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};

pub use export::{ExportOptions, ExportReport, ExportScope, PASSPHRASE_RECIPIENT};
#[cfg(fuzzing)]
pub use import::fuzz_parsers;
pub use import::{
    decrypt_outside, read_identity_file, ImportOptions, ImportReport, Signer, MAX_HEADER_BYTES,
    MAX_OUTSIDE_WORK_FACTOR,
};
pub use limits::{
    BundleLimits, MAX_BLOB_BYTES, MAX_ENTRIES, MAX_RECORDS_BYTES, MAX_REVISION_LINE_BYTES,
    MAX_SMALL_BYTES, MAX_TOTAL_BYTES,
};

/// Re-addresses the binary age file read from `input` (X25519, to `from`) to `to` alone: returns
/// the new header, and leaves `input` at the payload, which follows it unchanged
/// (docs/bundle-format.md "Re-addressing an attachment"). What a bundle does to every
/// attachment, for tools and tests; refused with a reason when the header is not a well-formed
/// one for `from`, or its MAC does not hold.
pub fn readdress(
    input: &mut impl std::io::BufRead,
    from: &age::x25519::Identity,
    to: &age::x25519::Recipient,
) -> Result<Vec<u8>> {
    crate::crypto::agefile::readdress(input, from, to).map_err(|e| {
        Error::Rejected(crate::error::Rejection::new(
            crate::error::RejectReason::Damaged,
            format!("this age file cannot be re-addressed: {e}"),
        ))
    })
}

/// The format name in `manifest.json`.
pub const FORMAT: &str = "kuager-bundle";
/// The format version this build writes.
pub const VERSION: u32 = 2;
/// The folder every entry lives under.
pub const ROOT: &str = "kuager-bundle";

/// Someone a bundle can be encrypted to: an age X25519 key or an SSH key (ed25519 or RSA).
#[derive(Clone)]
pub enum Recipient {
    /// `age1…`
    X25519(age::x25519::Recipient),
    /// `ssh-ed25519 …` or `ssh-rsa …`
    Ssh(age::ssh::Recipient),
}

impl Recipient {
    pub(crate) fn as_age(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r) => r,
        }
    }
}

impl FromStr for Recipient {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.starts_with("age1") {
            return age::x25519::Recipient::from_str(s)
                .map(Recipient::X25519)
                .map_err(|e| Error::invalid("recipient", format!("not a valid age1… key: {e}")));
        }
        if s.starts_with("ssh-") {
            return age::ssh::Recipient::from_str(s)
                .map(Recipient::Ssh)
                .map_err(|e| {
                    Error::invalid(
                        "recipient",
                        format!("not a usable SSH public key ({e:?}): use ssh-ed25519 or ssh-rsa"),
                    )
                });
        }
        if s.starts_with("age1pq") || s.starts_with("age1tag") {
            return Err(Error::invalid(
                "recipient",
                "post-quantum and tag recipients cannot be read by every age tool: use an age1… X25519 key",
            ));
        }
        Err(Error::invalid(
            "recipient",
            "expected an age public key (age1…) or an SSH public key (ssh-ed25519 …, ssh-rsa …)",
        ))
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recipient::X25519(r) => write!(f, "{r}"),
            Recipient::Ssh(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

/// A configured recipient of this vault's bundles.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientEntry {
    /// The public key as stored (canonical text).
    pub recipient: String,
    /// A name for people ("Almaty coordinators").
    pub label: Option<String>,
    /// When it was added.
    pub added_at: String,
}

/// The README at the top of every bundle, in English, Russian and Kazakh.
pub(crate) const README: &str = "\
Kuager bundle
=============
This archive was exported from a Kuager vault. It holds witness testimonies and other records:
handle it as the most sensitive material you have, and keep it only on encrypted disks.

- manifest.json        every other file, in order, with its size and SHA-256
- manifest.json.minisig  the exporting device's signature of manifest.json:
                       minisign -Vm manifest.json -P <the device key you were given>
- bundle.key           the key that opens the attachments (keep it as secret as the bundle)
- records.jsonl        one revision of a record per line (JSON), oldest first
- audit.jsonl          the vault's audit events covered by this bundle
- blobs/<name>.age     attachments, each an age file: age -d -i bundle.key blobs/<name>.age
                       (manifest.json gives each one's SHA-256 and size)

Import it with `kuager import`, which checks all of the above before changing anything.

Пакет Kuager
============
Этот архив выгружен из хранилища Kuager. В нём показания свидетелей и другие записи:
обращайтесь с ним как с самыми чувствительными данными и храните только на зашифрованных дисках.
manifest.json — список файлов с размерами и SHA-256, manifest.json.minisig — подпись устройства
(проверка: minisign -Vm manifest.json -P <ключ устройства>), records.jsonl — версии записей
(JSON), audit.jsonl — журнал аудита, blobs/ — вложения, файлы age (открыть:
age -d -i bundle.key blobs/<имя>.age). Импорт: kuager import.

Kuager бумасы
=============
Бұл мұрағат Kuager қоймасынан шығарылған. Онда куәгерлердің айғақтары мен басқа жазбалар бар:
оны ең құпия дерек ретінде ұстап, тек шифрланған дискілерде сақтаңыз.
manifest.json — файлдар тізімі (өлшемі мен SHA-256), manifest.json.minisig — құрылғы қолтаңбасы
(тексеру: minisign -Vm manifest.json -P <құрылғы кілті>), records.jsonl — жазбалардың нұсқалары
(JSON), audit.jsonl — аудит журналы, blobs/ — тіркемелер, age файлдары (ашу:
age -d -i bundle.key blobs/<аты>.age). Импорттау: kuager import.
";
