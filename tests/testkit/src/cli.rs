//! The `kuager` command as a user runs it: a sandbox with its own `$HOME` and `$TMPDIR`, the
//! passphrase in a file outside both, and nothing else of the caller's environment.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::canary::canary_hits;
use crate::fixture::PASS;

/// A sandbox: its own $HOME, $TMPDIR and a passphrase file outside both.
pub struct Env {
    _root: tempfile::TempDir,
    /// The `kuager` binary.
    bin: PathBuf,
    /// $HOME (the default vault lives under it).
    pub home: PathBuf,
    /// $TMPDIR.
    pub tmp: PathBuf,
    /// Outside both: keys, files to attach, bundles.
    pub outside: PathBuf,
    /// The file `KUAGER_PASSPHRASE_FILE` names.
    pub pass_file: PathBuf,
}

impl Env {
    /// A new sandbox for the binary `bin` (`env!("CARGO_BIN_EXE_kuager")`).
    pub fn new(bin: &str) -> Env {
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let tmp = root.path().join("tmp");
        let outside = root.path().join("outside");
        for d in [&home, &tmp, &outside] {
            std::fs::create_dir_all(d).unwrap();
        }
        let pass_file = outside.join("pass");
        std::fs::write(&pass_file, format!("{PASS}\n")).unwrap();
        Env {
            _root: root,
            bin: bin.into(),
            home,
            tmp,
            outside,
            pass_file,
        }
    }

    /// The default vault location for this $HOME (no --vault, no KUAGER_VAULT).
    pub fn default_vault(&self) -> PathBuf {
        self.home.join(".local/share/kuager/default")
    }

    /// A vault at the default location, made with a small work factor so each command is quick.
    pub fn with_vault(self) -> Env {
        let dir = self.default_vault();
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        crate::fixture::new_vault(&dir);
        self
    }

    /// The command with the sandbox's environment (and nothing else of ours but PATH).
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        self.sandboxed(c.args(args)).stdin(Stdio::null());
        c
    }

    /// `c` with the sandbox's environment — `$HOME`, `$TMPDIR`, the passphrase file — and
    /// nothing else of ours but PATH.
    pub fn sandboxed<'c>(&self, c: &'c mut Command) -> &'c mut Command {
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("KUAGER_PASSPHRASE_FILE", &self.pass_file)
    }

    /// Runs `kuager ARGS` with `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        // A command may fail (and exit) before reading its input: a broken pipe is not an error.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    /// Runs `kuager ARGS`, which must succeed; its standard output.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let o = self.run(args, stdin);
        assert!(
            o.status.success(),
            "kuager {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

/// Standard output and error as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Fails when a canary is in a file (content or name) under the sandbox's $HOME or $TMPDIR.
pub fn assert_no_canary(env: &Env, canaries: &[&str], when: &str) {
    for c in canaries {
        for dir in [&env.home, &env.tmp] {
            let hits = canary_hits(dir, c);
            assert!(
                hits.is_empty(),
                "{when}: canary {c:?} found in plaintext: {hits:?}"
            );
        }
    }
}

/// A shell command's output.
pub fn sh(cmd: &str) -> Output {
    Command::new("sh").args(["-c", cmd]).output().unwrap()
}

/// SHA-256 through a tool we did not write (coreutils' `sha256sum`).
pub fn sha256sum(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let o = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// The Python of the second SQLCipher client (`sqlcipher3`, installed by deps.sh).
pub fn tools_python() -> PathBuf {
    std::env::var_os("KUAGER_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target/tools/py/bin/python"))
}
