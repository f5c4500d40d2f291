//! What the `kuager` command leaves on a disk: no canary anywhere under `$HOME` or `$TMPDIR`
//! (R1, including `kill -9` mid bulk add), no core dumps (R12), and the escape hatch through
//! tools we did not write (Go `age`, a second SQLCipher client; docs/recovery.md).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::canary::canary_hits;
use testkit::cli::*;
use testkit::fixture::PASS;
use testkit::leaks::core_file_limit;

const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

#[test]
fn r1_canaries_never_reach_the_disk_in_plaintext() {
    let env = Env::new(KUAGER).with_vault();
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
fn r12_cli_runs_without_core_dumps() {
    let env = Env::new(KUAGER).with_vault();
    // A command waiting on its input: the process is alive and unlocked.
    let mut child = env
        .cmd(&["add", "person"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let core = core_file_limit(&child.id().to_string());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_ne!(
        core_file_limit("self"),
        ["0", "0"],
        "the check below cannot fail"
    );
    assert_eq!(core, ["0", "0"]);
}

/// docs/recovery.md, step by step, with tools we did not write: Debian's Go `age` opens the
/// passphrase keyslot (made by `kuager init` at its real work factor), Python's sqlcipher3
/// (SQLCipher 4) reads the database with the raw key, and `age -d -i` opens an attachment.
#[test]
fn escape_hatch_go_age_and_a_second_sqlcipher_client_open_the_vault() {
    let env = Env::new(KUAGER);
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
    let o = testkit::goage::decrypt_with_passphrase(
        &dir.join("keyslots/passphrase.age"),
        &secrets,
        PASS,
    );
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
