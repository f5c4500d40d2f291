//! The commands, one file per area: `vault` (the vault itself), `records`, `keys` (recipients,
//! identities, trusted devices), `bundles`, `partners` (partner organisations and their
//! bundles) and `record` (recording interviews). Each takes typed arguments from `crate::args`
//! and writes for people to `out`; notes and progress go to standard error.

pub mod bundles;
pub mod keys;
pub mod partners;
pub mod profile;
pub mod record;
pub mod records;
pub mod vault;

use std::fs::File;
use std::io::{self, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use ::vault::Vault;

use crate::passphrase;

/// Where a command writes for people.
pub type Out<'a> = &'a mut dyn Write;

/// Opens the vault at `dir` and unlocks it with the passphrase (asked, or from the file
/// `KUAGER_PASSPHRASE_FILE` names).
pub fn unlock(dir: &Path) -> anyhow::Result<Vault> {
    let mut v = Vault::open(dir)?;
    let p = passphrase::read("Passphrase: ")?;
    v.unlock(&p)?;
    Ok(v)
}

/// [`unlock`], and the passphrase typed for it confirms this command's change to who can read
/// what leaves the vault (a recipient added or removed, a bundle to a new key, a policy).
pub fn unlock_confirmed(dir: &Path) -> anyhow::Result<(Vault, ::vault::Confirmed)> {
    let mut v = Vault::open(dir)?;
    let p = passphrase::read("Passphrase: ")?;
    let ok = v.unlock_confirmed(&p)?;
    Ok((v, ok))
}

/// Input from a file, or standard input for none or `-`.
pub fn input(file: Option<&Path>) -> anyhow::Result<Box<dyn io::BufRead>> {
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

/// The identities in `age-keygen` files.
pub fn identity_files(paths: &[PathBuf]) -> anyhow::Result<Vec<age::x25519::Identity>> {
    let mut ids = Vec::new();
    for p in paths {
        ids.extend(::vault::bundle::read_identity_file(p)?);
    }
    Ok(ids)
}
