//! The `kuager` binary as a user runs it: R1 leak scans (including `kill -9` mid bulk add),
//! exit codes, R12 process hardening, and the escape hatch through tools we did not write
//! (Go `age`, a second SQLCipher client).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

// The vault's own test helpers: the same canary scanner and test-vault maker.
#[path = "../../vault/tests/common/mod.rs"]
mod common;

use common::{canary_hits, PASS};
const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

/// A sandbox: its own $HOME, $TMPDIR and a passphrase file outside both.
struct Env {
    _root: tempfile::TempDir,
    home: PathBuf,
    tmp: PathBuf,
    outside: PathBuf,
    pass_file: PathBuf,
}

impl Env {
    fn new() -> Env {
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
            home,
            tmp,
            outside,
            pass_file,
        }
    }

    /// The default vault location for this $HOME (no --vault, no KUAGER_VAULT).
    fn default_vault(&self) -> PathBuf {
        self.home.join(".local/share/kuager/default")
    }

    /// A vault at the default location, made with a small work factor so each command is quick.
    fn with_vault(self) -> Env {
        let dir = self.default_vault();
        std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
        common::new_vault(&dir);
        self
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(KUAGER);
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("TMPDIR", &self.tmp)
            .env("KUAGER_PASSPHRASE_FILE", &self.pass_file)
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = self.cmd(args);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        // A command may fail (and exit) before reading its input: a broken pipe is not an error.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let o = self.run(args, stdin);
        assert!(
            o.status.success(),
            "kuager {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn assert_no_canary(env: &Env, canaries: &[&str], when: &str) {
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

#[test]
fn r1_canaries_never_reach_the_disk_in_plaintext() {
    let env = Env::new().with_vault();
    // Cyrillic and Latin canaries, so both UTF-8 multi-byte and ASCII forms are scanned.
    let name_canary = "Канарейкабек Qanareika7731";
    let narr_canary = "NARRATIVE-CANARY-5f3a9c";
    let edit_canary = "EDITED-CANARY-77d1e0";
    let att_canary = "ATTACHMENT-CANARY-0b41ee";
    let person = env
        .ok(
            &["add", "person"],
            &format!(r#"{{"names":[{{"value":"{name_canary}"}}]}}"#),
        )
        .trim()
        .to_owned();
    let testimony = env
        .ok(
            &["add", "testimony", "-"],
            &format!(r#"{{"witness":"{person}","narrative":"{narr_canary} held in the camp"}}"#),
        )
        .trim()
        .to_owned();
    env.ok(
        &["edit", &testimony],
        &format!(r#"{{"summary":"{edit_canary}"}}"#),
    );
    let att = env.outside.join("interview.txt");
    std::fs::write(
        &att,
        format!("audio transcript {att_canary} ").repeat(20_000),
    )
    .unwrap();
    env.ok(
        &[
            "attach",
            &testimony,
            att.to_str().unwrap(),
            "--caption",
            "interview",
        ],
        "",
    );
    // Reading back through the normal commands, then a normal exit.
    assert!(env.ok(&["show", &testimony], "").contains(narr_canary));
    assert!(env.ok(&["search", "Qanareika7731"], "").contains(&person));
    env.ok(&["list"], "");
    env.ok(&["verify"], "");
    let all = [
        name_canary,
        "Qanareika7731",
        narr_canary,
        edit_canary,
        att_canary,
    ];
    // The scanner itself works: it finds the canary where it does sit in plaintext.
    assert!(!canary_hits(&env.outside, att_canary).is_empty());
    assert_no_canary(&env, &all, "after add/edit/attach and a normal exit");
    let db = std::fs::read(env.default_vault().join("vault.db")).unwrap();
    assert!(!db.starts_with(b"SQLite format 3"));

    // kill -9 in the middle of a bulk add.
    let bulk_canary = "BULK-CANARY-c0ffee";
    let mut child = env
        .cmd(&["add", "testimony"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let person2 = person.clone();
    let writer = std::thread::spawn(move || {
        for i in 0..200_000 {
            let line = format!(
                "{{\"witness\":\"{person2}\",\"narrative\":\"{bulk_canary} {i} {}\"}}\n",
                "testimony text ".repeat(60)
            );
            if stdin.write_all(line.as_bytes()).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(1500));
    let pid = child.id();
    assert!(
        child.try_wait().unwrap().is_none(),
        "the bulk add ended before the kill"
    );
    // Some of the batch is in the (encrypted) WAL by now.
    child.kill().unwrap();
    child.wait().unwrap();
    writer.join().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
    // The batch was really being written when it died (uncommitted pages in the WAL)…
    let wal = std::fs::metadata(env.default_vault().join("vault.db-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        wal > 1_000_000,
        "WAL is {wal} bytes: the kill came before any write"
    );
    assert_no_canary(&env, &[bulk_canary], "after kill -9 mid bulk add");
    // The interrupted batch left nothing: all or nothing.
    let found = env.ok(&["search", bulk_canary], "");
    assert!(found.trim().is_empty(), "{found}");
    env.ok(&["verify"], "");
    assert_no_canary(&env, &all, "at the end");
}

#[test]
fn wrong_passphrase_has_its_own_exit_code_and_message() {
    let env = Env::new().with_vault();
    std::fs::write(&env.pass_file, "not the passphrase\n").unwrap();
    let o = env.run(&["list"], "");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("wrong passphrase"), "{err}");
}

#[test]
fn bad_records_name_the_line_and_field_and_add_nothing() {
    let env = Env::new().with_vault();
    let input = "{\"names\":[{\"value\":\"Асан\"}]}\n{\"names\":[{\"value\":\"Үсен\"}],\"date_of_birth\":\"1990-14\"}\n{\"names\":[{\"value\":\"Y\"}]}\n";
    let o = env.run(&["add", "person"], input);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("line 2: date_of_birth: "), "{err}");
    assert!(err.contains("nothing was added"), "{err}");
    assert!(out.trim().is_empty());
    let listed = env.ok(&["list"], "");
    assert!(listed.trim().is_empty(), "{listed}");
    // Unknown kind, unknown id, bad id.
    assert_eq!(env.run(&["add", "witness"], "{}").status.code(), Some(4));
    assert_eq!(
        env.run(&["show", "01930000-0000-7000-8000-000000000000"], "")
            .status
            .code(),
        Some(6)
    );
    assert_eq!(
        env.run(&["show", "../../etc/passwd"], "").status.code(),
        Some(4)
    );
}

#[test]
fn vault_option_goes_before_or_after_the_subcommand_and_env_works() {
    let env = Env::new();
    let dir = env.outside.join("elsewhere");
    common::new_vault(&dir);
    let d = dir.to_str().unwrap();
    let id = env.ok(
        &["--vault", d, "add", "case"],
        r#"{"reference":"AJ-2026-0142"}"#,
    );
    assert!(env.ok(&["list", "--vault", d], "").contains("AJ-2026-0142"));
    let mut c = env.cmd(&["search", "AJ-2026-0142"]);
    c.env("KUAGER_VAULT", d);
    let o = c.output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains(id.trim()));
    // No vault at the default place: a clear error with what to do.
    let o = env.run(&["list"], "");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(6));
    assert!(err.contains("kuager init"), "{err}");
}

#[test]
fn show_list_and_history_print_for_people() {
    let env = Env::new().with_vault();
    let p = env
        .ok(
            &["add", "person"],
            r#"{"names":[{"value":"Сенбай Нұрахен"},{"value":"森拜"}],"date_of_birth":"1985-03~"}"#,
        )
        .trim()
        .to_owned();
    let a = env
        .ok(
            &["add", "attempt"],
            &format!(r#"{{"person":"{p}","submitted_on":"2024-02-11","outcome":"no-response"}}"#),
        )
        .trim()
        .to_owned();
    let shown = env.ok(&["show", &a], "");
    assert!(
        shown.contains("#1 submitted 2024-02-11 · waiting"),
        "{shown}"
    );
    let listed = env.ok(&["list", "people"], "");
    assert!(
        listed.contains("Сенбай Нұрахен") && listed.contains("森拜"),
        "{listed}"
    );
    env.ok(&["edit", &p], r#"{"gender":"male"}"#);
    let hist = env.ok(&["history", &p], "");
    assert_eq!(hist.lines().count(), 2, "{hist}");
    assert!(hist.lines().nth(1).unwrap().contains("current"), "{hist}");
    let audit = env.ok(&["audit"], "");
    assert!(
        audit.contains("record created") && audit.contains("record revised"),
        "{audit}"
    );
    // The audit log carries no record content.
    assert!(!audit.contains("Сенбай"));
}

#[test]
fn r12_cli_runs_without_core_dumps() {
    let env = Env::new().with_vault();
    // A command waiting on its input: the process is alive and unlocked.
    let mut child = env
        .cmd(&["add", "person"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let nums: Vec<&str> = core.split_whitespace().skip(4).take(2).collect();
    assert_eq!(nums, ["0", "0"], "{core}");
}

fn tools_python() -> PathBuf {
    std::env::var_os("KUAGER_PY")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/py/bin/python")
        })
}

/// docs/recovery.md, step by step, with tools we did not write: Debian's Go `age` opens the
/// passphrase keyslot (made by `kuager init` at its real work factor), Python's sqlcipher3
/// (SQLCipher 4) reads the database with the raw key, and `age -d -i` opens an attachment.
#[test]
fn escape_hatch_go_age_and_a_second_sqlcipher_client_open_the_vault() {
    let env = Env::new();
    let dir = env.outside.join("v");
    let d = dir.to_str().unwrap();
    env.ok(&["init", "--vault", d], "");
    let p = env
        .ok(
            &["add", "person", "--vault", d],
            r#"{"names":[{"value":"Сенбай Escapehatch"}]}"#,
        )
        .trim()
        .to_owned();
    let att = env.outside.join("scan.bin");
    std::fs::write(&att, b"scan of a passport page").unwrap();
    env.ok(&["attach", &p, att.to_str().unwrap(), "--vault", d], "");

    // 1. Go age, asking for the passphrase on a terminal (script gives it one).
    let secrets = env.outside.join("secrets.json");
    let mut c = Command::new("script");
    c.args([
        "-qec",
        &format!(
            "age -d -o {} {}",
            secrets.display(),
            dir.join("keyslots/passphrase.age").display()
        ),
        "/dev/null",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .expect("`script` (bsdutils) is installed by packaging/linux/deps.sh");
    {
        let mut stdin = child.stdin.take().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        writeln!(stdin, "{PASS}").unwrap();
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        secrets.exists(),
        "Go age did not decrypt the keyslot: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(&secrets).unwrap()).unwrap();
    let key = s["sqlcipher_key"].as_str().unwrap();
    let identity = s["age_identity"].as_str().unwrap();
    assert_eq!(key.len(), 64);
    assert!(identity.starts_with("AGE-SECRET-KEY-1"));

    // 2. A second SQLCipher 4 client with the raw key.
    let py = tools_python();
    let script = format!(
        "import sqlcipher3,sys\n\
         c=sqlcipher3.connect(sys.argv[1])\n\
         c.execute(\"PRAGMA key=\\\"x'{key}'\\\"\")\n\
         rows=c.execute(\"SELECT r.data, b.file FROM revisions r, blobs b\").fetchall()\n\
         print(rows[-1][0]); print(rows[-1][1])\n"
    );
    let o = Command::new(&py)
        .args(["-c", &script, dir.join("vault.db").to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} (installed by packaging/linux/deps.sh): {e}",
                py.display()
            )
        });
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("Сенбай Escapehatch"), "{out}");
    let blob_rel = out.lines().nth(1).unwrap().trim().to_owned();

    // 3. Go age with the vault identity opens the attachment.
    let id_file = env.outside.join("identity.txt");
    std::fs::write(&id_file, format!("{identity}\n")).unwrap();
    let o = Command::new("age")
        .args([
            "-d",
            "-i",
            id_file.to_str().unwrap(),
            dir.join(&blob_rel).to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.stdout,
        b"scan of a passport page",
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `kuager init` on a real terminal (a pty from `script`): the passphrase is asked twice with a
/// strength hint, a too-short one is refused, and nothing needs a passphrase file.
#[test]
fn init_asks_the_passphrase_twice_on_a_terminal_with_a_strength_hint() {
    let env = Env::new();
    let dir = env.outside.join("tty-vault");
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{KUAGER} init --vault {}", dir.display()),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &env.home)
        .env("TMPDIR", &env.tmp)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`script` (bsdutils) is installed by packaging/linux/deps.sh");
    {
        let mut stdin = child.stdin.take().unwrap();
        for line in ["short", PASS, "a different passphrase entirely", PASS, PASS] {
            std::thread::sleep(Duration::from_millis(400));
            writeln!(stdin, "{line}").unwrap();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Strength: 0/4 (too short"), "{out}");
    assert!(out.contains("The two passphrases differ"), "{out}");
    assert!(out.contains("Created a vault"), "{out}");
    // The passphrase typed on the terminal opens it; it never appeared in the output.
    assert!(!out.contains(PASS), "{out}");
    let mut v = vault::Vault::open(&dir).unwrap();
    v.unlock(&vault::Passphrase::new(PASS.into())).unwrap();
}

#[test]
fn verify_exits_non_zero_and_names_what_is_wrong() {
    let env = Env::new().with_vault();
    let p = env
        .ok(&["add", "person"], r#"{"names":[{"value":"Сенбай"}]}"#)
        .trim()
        .to_owned();
    let scan = env.outside.join("scan.bin");
    std::fs::write(&scan, b"passport page").unwrap();
    env.ok(&["attach", &p, scan.to_str().unwrap()], "");
    assert!(env.ok(&["verify"], "").contains("ok: the vault is intact"));
    // Lose the attachment's file (a bad copy, a disk error).
    let blobs = env.default_vault().join("blobs");
    for d in std::fs::read_dir(&blobs).unwrap().flatten() {
        if d.path().is_dir() {
            std::fs::remove_dir_all(d.path()).unwrap();
        }
    }
    let o = env.run(&["verify"], "");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("problem: attachment") && err.contains("missing its file"),
        "{err}"
    );
}

/// `kuager device` prints a key that Debian's `minisign` uses to verify this vault's signatures
/// (and to reject a changed file).
#[test]
fn device_key_verifies_signatures_with_minisign() {
    let env = Env::new().with_vault();
    let printed = env.ok(&["device"], "");
    let pub_file = env.outside.join("device.pub");
    std::fs::write(&pub_file, &printed).unwrap();
    let mut v = vault::Vault::open(&env.default_vault()).unwrap();
    v.unlock(&vault::Passphrase::new(PASS.into())).unwrap();
    assert!(printed.contains(&v.device_public_key().unwrap().minisign));
    let data = env.outside.join("manifest.json");
    std::fs::write(&data, br#"{"format":"kuager-bundle"}"#).unwrap();
    let sig = v
        .sign(&std::fs::read(&data).unwrap(), "kuager bundle test")
        .unwrap();
    std::fs::write(env.outside.join("manifest.json.minisig"), sig).unwrap();
    let verify = || {
        Command::new("minisign")
            .args([
                "-V",
                "-p",
                pub_file.to_str().unwrap(),
                "-m",
                data.to_str().unwrap(),
            ])
            .output()
            .expect("minisign is installed by packaging/linux/deps.sh")
    };
    let o = verify();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("kuager bundle test"));
    std::fs::write(&data, br#"{"format":"kuager-bundle!"}"#).unwrap();
    assert!(
        !verify().status.success(),
        "minisign accepted a changed file"
    );
}

fn sh(cmd: &str) -> Output {
    Command::new("sh").args(["-c", cmd]).output().unwrap()
}

/// BUNDLE.md read with tools we did not write: Go `age -d -i` (X25519 from `age-keygen`, and
/// ssh-ed25519 from `ssh-keygen`, binary and armored), `tar` sees exactly the entries in order,
/// `minisign` verifies the manifest with the key `kuager device` printed, and the manifest's
/// sizes and hashes, the revision ids and the attachment all check out.
#[test]
fn export_is_read_by_go_age_tar_and_minisign() {
    let env = Env::new().with_vault();
    let canary = "EXPORT-CANARY-61d2";
    let p = env
        .ok(
            &["add", "person"],
            r#"{"names":[{"value":"Сенбай Нұрахен"}]}"#,
        )
        .trim()
        .to_owned();
    let t = env
        .ok(
            &["add", "testimony"],
            &format!(r#"{{"witness":"{p}","narrative":"{canary} in the camp"}}"#),
        )
        .trim()
        .to_owned();
    let att = env.outside.join("audio.ogg");
    std::fs::write(&att, format!("{canary} audio")).unwrap();
    env.ok(&["attach", &t, att.to_str().unwrap()], "");
    let o = env.outside.display();
    assert!(sh(&format!("age-keygen -o {o}/coord.key 2>/dev/null"))
        .status
        .success());
    let key = std::fs::read_to_string(env.outside.join("coord.key")).unwrap();
    let recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    assert!(
        sh(&format!("ssh-keygen -q -t ed25519 -N '' -f {o}/id_ed25519"))
            .status
            .success()
    );
    let ssh_pub = std::fs::read_to_string(env.outside.join("id_ed25519.pub")).unwrap();
    env.ok(
        &[
            "recipients",
            "add",
            &recipient,
            "--label",
            "Almaty coordinators",
        ],
        "",
    );
    assert!(env
        .ok(&["recipients", "list"], "")
        .contains("Almaty coordinators"));
    std::fs::write(env.outside.join("device.pub"), env.ok(&["device"], "")).unwrap();

    let dest = env.home.join("Desktop");
    std::fs::create_dir_all(&dest).unwrap();
    let bundle = env.ok(
        &[
            "export",
            "-o",
            dest.to_str().unwrap(),
            "--to",
            ssh_pub.trim(),
        ],
        "",
    );
    let bundle = PathBuf::from(bundle.trim());
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("kuager-") && name.ends_with(".kuager.age"),
        "{name}"
    );
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        1,
        "a temp file was left behind"
    );
    assert_no_canary(&env, &[canary], "after export");

    let b = bundle.display();
    let listing = sh(&format!("age -d -i {o}/coord.key {b} | tar -t"));
    assert!(
        listing.status.success(),
        "{}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let sha = {
        use sha2_like::hex_sha256;
        hex_sha256(format!("{canary} audio").as_bytes())
    };
    let expected = [
        "kuager-bundle/README.txt".to_owned(),
        "kuager-bundle/records.jsonl".to_owned(),
        "kuager-bundle/audit.jsonl".to_owned(),
        format!("kuager-bundle/blobs/{sha}"),
        "kuager-bundle/manifest.json".to_owned(),
        "kuager-bundle/manifest.json.minisig".to_owned(),
    ];
    let got: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, expected);
    // The ssh-ed25519 recipient opens it too.
    let x = sh(&format!("age -d -i {o}/id_ed25519 {b} | tar -t | wc -l"));
    assert_eq!(String::from_utf8_lossy(&x.stdout).trim(), "6");

    let out = env.outside.join("extracted");
    std::fs::create_dir_all(&out).unwrap();
    let x = sh(&format!(
        "cd {} && age -d -i {o}/coord.key {b} | tar -x",
        out.display()
    ));
    assert!(x.status.success());
    let root = out.join("kuager-bundle");
    let v = Command::new("minisign")
        .args([
            "-V",
            "-p",
            &format!("{o}/device.pub"),
            "-m",
            root.join("manifest.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "kuager-bundle");
    assert_eq!(manifest["counts"]["revisions"], 3);
    let entries = manifest["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4);
    for e in entries {
        let bytes = std::fs::read(root.join(e["path"].as_str().unwrap())).unwrap();
        assert_eq!(e["size"].as_u64().unwrap(), bytes.len() as u64);
        assert_eq!(e["sha256"].as_str().unwrap(), sha2_like::hex_sha256(&bytes));
    }
    for line in std::fs::read_to_string(root.join("records.jsonl"))
        .unwrap()
        .lines()
    {
        let rev: vault::Revision = serde_json::from_str(line).unwrap();
        assert_eq!(rev.id_matches(), Some(true), "{line}");
    }
    assert_eq!(
        std::fs::read(root.join(format!("blobs/{sha}"))).unwrap(),
        format!("{canary} audio").as_bytes()
    );

    // Nothing new for the same recipients: no second file. The cursor is per recipient set:
    // the coordinators alone have not had it yet.
    let again = env.run(
        &[
            "export",
            "-o",
            dest.to_str().unwrap(),
            "--to",
            ssh_pub.trim(),
        ],
        "",
    );
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing new"));
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
    env.ok(&["export", "-o", dest.to_str().unwrap()], "");
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 2);
    let armored = env.ok(
        &["export", "--all", "--armor", "-o", dest.to_str().unwrap()],
        "",
    );
    let text = std::fs::read_to_string(armored.trim()).unwrap();
    assert!(text.starts_with("-----BEGIN AGE ENCRYPTED FILE-----"));
    let x = sh(&format!(
        "age -d -i {o}/coord.key {} | tar -t | wc -l",
        armored.trim()
    ));
    assert_eq!(String::from_utf8_lossy(&x.stdout).trim(), "6");
    assert_no_canary(&env, &[canary], "after the exports");
    assert!(env.ok(&["audit"], "").contains("bundle exported"));
}

/// SHA-256 for the test's own checks, through a tool we did not write (coreutils).
mod sha2_like {
    pub fn hex_sha256(data: &[u8]) -> String {
        use std::io::Write;
        let mut c = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
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
}

/// The coordinator's side with the real tools: an unknown signer is refused (exit 9, nothing
/// changed) until trusted; a bundle that Go age decrypted and re-encrypted to another key still
/// imports (the signature is inside); no canary reaches the disk outside the encrypted files.
#[test]
fn coordinator_imports_what_go_age_re_encrypted_and_refuses_unknown_signers() {
    let cw = Env::new().with_vault();
    let canary = "IMPORT-CANARY-77aa";
    let p = cw
        .ok(&["add", "person"], r#"{"names":[{"value":"Сенбай"}]}"#)
        .trim()
        .to_owned();
    cw.ok(
        &["add", "testimony"],
        &format!(r#"{{"witness":"{p}","narrative":"{canary}"}}"#),
    );
    let org = Env::new();
    let org_dir = org.outside.join("coord");
    common::new_vault(&org_dir);
    let od = org_dir.to_str().unwrap();
    let org_key = org
        .ok(&["identity", "new", "--label", "Almaty", "--vault", od], "")
        .trim()
        .to_owned();
    assert!(org_key.starts_with("age1"));
    cw.ok(&["recipients", "add", &org_key], "");
    let bundle = cw
        .ok(&["export", "-o", cw.outside.to_str().unwrap()], "")
        .trim()
        .to_owned();

    let refused = org.run(&["import", &bundle, "--vault", od], "");
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(9), "{err}");
    assert!(err.contains("unknown device key"), "{err}");
    assert!(org.ok(&["list", "--vault", od], "").trim().is_empty());

    // Go age: decrypt with a second organisation key file and re-encrypt to it only.
    let o = org.outside.display();
    assert!(sh(&format!("age-keygen -o {o}/second.key 2>/dev/null"))
        .status
        .success());
    let second = std::fs::read_to_string(org.outside.join("second.key")).unwrap();
    let second_pub = second
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    cw.ok(&["recipients", "add", &second_pub], "");
    let both = cw
        .ok(&["export", "--all", "-o", cw.outside.to_str().unwrap()], "")
        .trim()
        .to_owned();
    let re = org.outside.join("re-encrypted.age");
    let x = sh(&format!(
        "age -d -i {o}/second.key {both} | age -r {second_pub} -o {}",
        re.display()
    ));
    assert!(x.status.success(), "{}", String::from_utf8_lossy(&x.stderr));
    let device = cw.ok(&["device"], "");
    let key_line = device.lines().nth(1).unwrap();
    org.ok(
        &[
            "trust",
            "add",
            key_line,
            "--label",
            "caseworker 1",
            "--vault",
            od,
        ],
        "",
    );
    let plan = org.ok(
        &[
            "inspect",
            re.to_str().unwrap(),
            "-i",
            &format!("{o}/second.key"),
            "--vault",
            od,
        ],
        "",
    );
    assert!(
        plan.contains("signed by caseworker 1") && plan.contains("2 new records"),
        "{plan}"
    );
    let done = org.ok(
        &[
            "import",
            re.to_str().unwrap(),
            "-i",
            &format!("{o}/second.key"),
            "--vault",
            od,
        ],
        "",
    );
    assert!(done.contains("imported: 2 new records"), "{done}");
    assert!(org
        .ok(&["search", "senbai", "--vault", od], "")
        .contains(&p));
    // The first bundle (to the organisation key held in the vault) adds nothing new now.
    let again = org.ok(&["import", &bundle, "--vault", od], "");
    assert!(again.contains("nothing new"), "{again}");
    assert_no_canary(&org, &[canary], "after import");
    // …nor in the coordinator's vault, the bundles or the re-encrypted copy.
    let hits = canary_hits(&org.outside, canary);
    assert!(hits.is_empty(), "{hits:?}");
    org.ok(&["verify", "--vault", od], "");
}

/// Go `age -d` with the passphrase typed on a terminal (`script` gives it one).
fn go_age_decrypt_with_passphrase(file: &Path, out: &Path, passphrase: &str) -> Output {
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("age -d -o {} {}", out.display(), file.display()),
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

/// BUNDLE.md "Outside": a passphrase (scrypt) bundle only where the vault's policy allows it;
/// Go `age` opens it with the passphrase, the manifest carries the vault's label, and a
/// coordinator imports it with the passphrase (a wrong one is refused, changing nothing).
#[test]
fn passphrase_bundles_follow_the_vault_policy_and_open_with_go_age() {
    let cw = Env::new().with_vault();
    let canary = "PASSPHRASE-BUNDLE-CANARY-3b9e";
    let p = cw
        .ok(&["add", "person"], r#"{"names":[{"value":"Шынар"}]}"#)
        .trim()
        .to_owned();
    cw.ok(
        &["add", "testimony"],
        &format!(r#"{{"witness":"{p}","narrative":"{canary}"}}"#),
    );
    let bundle_pass = cw.outside.join("bundle-pass");
    let words = "river lantern orchard violet seventy";
    std::fs::write(&bundle_pass, format!("{words}\n")).unwrap();
    let export = |extra: &[&str]| {
        let mut args = vec!["export", "--passphrase", "-o", cw.outside.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut c = cw.cmd(&args);
        c.env("KUAGER_BUNDLE_PASSPHRASE_FILE", &bundle_pass);
        c.output().unwrap()
    };

    // Refused by default, with the way forward, and nothing written.
    let refused = export(&[]);
    let (_, err) = text(&refused);
    assert_eq!(refused.status.code(), Some(4), "{err}");
    assert!(err.contains("policy does not allow"), "{err}");
    assert_eq!(std::fs::read_dir(&cw.outside).unwrap().count(), 2);
    assert!(cw.ok(&["policy"], "").contains("passphrase-bundles deny"));

    cw.ok(&["policy", "passphrase-bundles", "allow"], "");
    cw.ok(&["label", "Almaty office, laptop 3"], "");
    assert_eq!(cw.ok(&["label"], "").trim(), "Almaty office, laptop 3");
    // Never mixed with key recipients (age forbids it; so do we, clearly).
    let mixed = export(&[
        "--to",
        "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
    ]);
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed).1);
    let done = export(&[]);
    let (bundle, err) = text(&done);
    assert!(done.status.success(), "{err}");
    assert!(err.contains("passphrase (scrypt)"), "{err}");
    let bundle = PathBuf::from(bundle.trim());
    let name = bundle.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        !name.contains("Almaty"),
        "the label is not in the file name: {name}"
    );

    // Go age with the passphrase; the manifest inside names the vault.
    let plain = cw.outside.join("bundle.tar");
    let o = go_age_decrypt_with_passphrase(&bundle, &plain, words);
    assert!(
        plain.exists(),
        "Go age did not decrypt the passphrase bundle: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    let x = sh(&format!(
        "tar -xOf {} kuager-bundle/manifest.json",
        plain.display()
    ));
    let manifest: serde_json::Value = serde_json::from_slice(&x.stdout).unwrap();
    assert_eq!(manifest["source"]["label"], "Almaty office, laptop 3");
    assert_eq!(
        manifest["recipients"],
        serde_json::json!(["passphrase (scrypt)"])
    );
    std::fs::remove_file(&plain).unwrap();

    // The coordinator: a wrong passphrase is refused and changes nothing; the right one imports.
    let org = Env::new();
    let org_dir = org.outside.join("coord");
    common::new_vault(&org_dir);
    let od = org_dir.to_str().unwrap();
    let b = bundle.to_str().unwrap();
    let wrong = org.outside.join("wrong");
    std::fs::write(&wrong, "river lantern orchard violet seventy-one\n").unwrap();
    let mut c = org.cmd(&[
        "import",
        b,
        "--passphrase",
        "--trust-signer",
        "cw",
        "--vault",
        od,
    ]);
    let o = c
        .env("KUAGER_BUNDLE_PASSPHRASE_FILE", &wrong)
        .output()
        .unwrap();
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(9), "{err}");
    assert!(err.contains("passphrase does not open"), "{err}");
    assert!(org.ok(&["list", "--vault", od], "").trim().is_empty());
    let mut c = org.cmd(&[
        "import",
        b,
        "--passphrase",
        "--trust-signer",
        "cw",
        "--vault",
        od,
    ]);
    let o = c
        .env("KUAGER_BUNDLE_PASSPHRASE_FILE", &bundle_pass)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("imported: 2 new records"), "{out}");
    assert!(org
        .ok(&["search", "Shynar", "--vault", od], "")
        .contains(&p));
    assert_no_canary(&org, &[canary], "after a passphrase import");
    assert_no_canary(&cw, &[canary], "after a passphrase export");
}
