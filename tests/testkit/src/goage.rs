//! Debian's Go `age` (installed by packaging/linux/deps.sh): the reference implementation our
//! files must open with. It asks passphrases on a terminal only, so `script` gives it one.

use std::path::Path;
use std::process::{Command, Output};

/// `age -d -o OUT FILE`, typing `passphrase` at its prompt.
pub fn decrypt_with_passphrase(file: &Path, out: &Path, passphrase: &str) -> Output {
    crate::terminal::on_terminal(
        &format!("age -d -o '{}' '{}'", out.display(), file.display()),
        |_| {},
        &[passphrase],
    )
}

/// A new X25519 key pair from `age-keygen`: (the identity file's text, the public key).
pub fn keygen() -> (String, String) {
    let o = Command::new("age-keygen")
        .output()
        .expect("age-keygen is installed by packaging/linux/deps.sh");
    let public = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("age-keygen: {}", String::from_utf8_lossy(&o.stderr)));
    (String::from_utf8(o.stdout).unwrap(), public)
}
