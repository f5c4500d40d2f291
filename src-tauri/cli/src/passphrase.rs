//! Reading passphrases: from the terminal, or for scripts from `KUAGER_PASSPHRASE_FILE`
//! (first line, without its newline). Never from the command line, where other users of the
//! machine and the shell history would see it.

use std::io::Read;

use vault::Passphrase;
use zeroize::Zeroizing;

/// Env var naming a file whose first line is the passphrase (for scripts and tests).
pub const FILE_VAR: &str = "KUAGER_PASSPHRASE_FILE";
/// Env var naming a file whose first line is a bundle's passphrase (`export|import|inspect
/// --passphrase`): never the vault's own.
pub const BUNDLE_FILE_VAR: &str = "KUAGER_BUNDLE_PASSPHRASE_FILE";
/// Env var naming a file whose first line is the *new* passphrase (for `kuager passphrase`).
pub const NEW_FILE_VAR: &str = "KUAGER_NEW_PASSPHRASE_FILE";

fn from_file(var: &str) -> anyhow::Result<Option<Passphrase>> {
    let Some(path) = std::env::var_os(var) else {
        return Ok(None);
    };
    let mut buf = Zeroizing::new(Vec::new());
    std::fs::File::open(&path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut buf))
        .map_err(|e| {
            anyhow::anyhow!(
                "{var}: cannot read {}: {e}",
                std::path::Path::new(&path).display()
            )
        })?;
    let line_end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    let mut line = &buf[..line_end];
    if line.last() == Some(&b'\r') {
        line = &line[..line.len() - 1];
    }
    let s = String::from_utf8(line.to_vec())
        .map_err(|_| anyhow::anyhow!("{var}: the passphrase file is not UTF-8 text"))?;
    if s.is_empty() {
        anyhow::bail!("{var}: the first line of the passphrase file is empty");
    }
    Ok(Some(Passphrase::new(s)))
}

fn prompt(text: &str) -> anyhow::Result<Passphrase> {
    let s = rpassword::prompt_password(text).map_err(|e| {
        anyhow::anyhow!(
            "cannot read a passphrase from the terminal ({e}); for scripts set {FILE_VAR}"
        )
    })?;
    Ok(Passphrase::new(s))
}

/// The passphrase of an existing vault.
pub fn read(text: &str) -> anyhow::Result<Passphrase> {
    match from_file(FILE_VAR)? {
        Some(p) => Ok(p),
        None => prompt(text),
    }
}

/// A new passphrase: asked twice on the terminal with a strength hint, or read from a file
/// (`KUAGER_NEW_PASSPHRASE_FILE`, else `KUAGER_PASSPHRASE_FILE` for `init`).
pub fn new_passphrase() -> anyhow::Result<Passphrase> {
    if let Some(p) = from_file(NEW_FILE_VAR)? {
        return Ok(p);
    }
    if std::env::var_os(NEW_FILE_VAR).is_none() && std::env::var_os(FILE_VAR).is_some() {
        // `init` in a script: the vault's passphrase is the one in the file.
        if let Some(p) = from_file(FILE_VAR)? {
            return Ok(p);
        }
    }
    eprintln!("Choose a passphrase: four or five unrelated words are strong and easy to type.");
    ask_twice("New passphrase: ")
}

/// Asks until a passphrase strong enough is typed twice the same, showing its strength.
fn ask_twice(text: &str) -> anyhow::Result<Passphrase> {
    loop {
        let p = prompt(text)?;
        let s = vault::passphrase_strength(p.expose());
        eprintln!("Strength: {}/4 ({})", s.score, s.hint);
        if s.score == 0 {
            continue;
        }
        let again = prompt("Repeat it: ")?;
        if again.expose() != p.expose() {
            eprintln!("The two passphrases differ; try again.");
            continue;
        }
        return Ok(p);
    }
}

/// The passphrase of a bundle being opened.
pub fn bundle_passphrase() -> anyhow::Result<Passphrase> {
    match from_file(BUNDLE_FILE_VAR)? {
        Some(p) => Ok(p),
        None => prompt("Bundle passphrase: "),
    }
}

/// A passphrase for a new bundle: asked twice (it is the only key to the file), or read from
/// `KUAGER_BUNDLE_PASSPHRASE_FILE`.
pub fn new_bundle_passphrase() -> anyhow::Result<Passphrase> {
    if let Some(p) = from_file(BUNDLE_FILE_VAR)? {
        return Ok(p);
    }
    eprintln!("Choose a passphrase for this bundle, not the vault's own: whoever has the file and it can read everything in it.");
    ask_twice("Bundle passphrase: ")
}
