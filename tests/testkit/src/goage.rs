//! Debian's Go `age` (installed by packaging/linux/deps.sh): the reference implementation our
//! files must open with. It asks passphrases on a terminal only, so `script` gives it one.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `age -d -o OUT FILE`, typing `passphrase` at its prompt.
pub fn decrypt_with_passphrase(file: &Path, out: &Path, passphrase: &str) -> Output {
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("age -d -o '{}' '{}'", out.display(), file.display()),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (bsdutils) is installed by packaging/linux/deps.sh");
    {
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        writeln!(stdin, "{passphrase}").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    child.wait_with_output().unwrap()
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
