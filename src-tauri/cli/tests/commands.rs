//! The `kuager` command's behaviour a user sees: exit codes, errors that name the line and
//! field, where the vault is, what `show`, `list` and `history` print, `init` on a terminal,
//! `verify`, the device key.

use std::process::Command;

use testkit::cli::*;
use testkit::fixture::{new_vault, PASS};

const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

#[test]
fn wrong_passphrase_has_its_own_exit_code_and_message() {
    let env = Env::new(KUAGER).with_vault();
    std::fs::write(&env.pass_file, "not the passphrase\n").unwrap();
    let o = env.run(&["list"], "");
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("wrong passphrase"), "{err}");
}

#[test]
fn bad_records_name_the_line_and_field_and_add_nothing() {
    let env = Env::new(KUAGER).with_vault();
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
    let env = Env::new(KUAGER);
    let dir = env.outside.join("elsewhere");
    new_vault(&dir);
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
    let env = Env::new(KUAGER).with_vault();
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

/// `kuager init` on a real terminal (a pty from `script`): the passphrase is asked twice with a
/// strength hint, a too-short one is refused, and nothing needs a passphrase file.
#[test]
fn init_asks_the_passphrase_twice_on_a_terminal_with_a_strength_hint() {
    let env = Env::new(KUAGER);
    let dir = env.outside.join("tty-vault");
    let o = testkit::terminal::on_terminal(
        &format!("{KUAGER} init --vault {}", dir.display()),
        |c| {
            c.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", &env.home)
                .env("TMPDIR", &env.tmp);
        },
        &["short", PASS, "a different passphrase entirely", PASS, PASS],
    );
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
    let env = Env::new(KUAGER).with_vault();
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
    let env = Env::new(KUAGER).with_vault();
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

/// `kuager rotate`: new keys and a new passphrase; the old passphrase opens nothing after, and
/// the records are all there.
#[test]
fn rotate_gives_new_keys_and_the_old_passphrase_opens_nothing() {
    let env = Env::new(KUAGER).with_vault();
    let out = env.ok(
        &["add", "person"],
        r#"{"names":[{"value":"Сенбай Нұрахен"}]}"#,
    );
    let person = out.split_whitespace().next().unwrap().to_owned();
    let new_pass = env.outside.join("new-pass");
    std::fs::write(&new_pass, "lantern harbour quiet seventeen\n").unwrap();
    let o = env
        .cmd(&["rotate"])
        .env("KUAGER_NEW_PASSPHRASE_FILE", &new_pass)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("Keys rotated"), "{stdout}");
    let old = env.run(&["show", &person], "");
    assert_eq!(
        old.status.code(),
        Some(3),
        "the old passphrase: {}",
        text(&old).1
    );
    let shown = env
        .cmd(&["show", &person])
        .env("KUAGER_PASSPHRASE_FILE", &new_pass)
        .output()
        .unwrap();
    assert!(
        text(&shown).0.contains("Сенбай Нұрахен"),
        "{}",
        text(&shown).1
    );
}

#[test]
fn merge_makes_one_person_of_two_and_unmerge_two_again() {
    let env = Env::new(KUAGER).with_vault();
    let cyr = env
        .ok(
            &["add", "person"],
            r#"{"names":[{"value":"Сенбай Нұрахен"}]}"#,
        )
        .trim()
        .to_owned();
    let lat = env
        .ok(
            &["add", "person"],
            r#"{"names":[{"value":"Senbay Nurakhen"}]}"#,
        )
        .trim()
        .to_owned();
    let o = env.run(&["merge", &cyr, &lat], "");
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(
        err.contains(&format!("kuager unmerge {cyr} {lat}")),
        "{err}"
    );
    let listed = env.ok(&["list", "person"], "");
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(env.ok(&["show", &cyr], "").contains("Senbay Nurakhen"));
    // Merging again, or undoing what was not merged, is refused and says why.
    let o = env.run(&["merge", &cyr, &lat], "");
    assert_eq!(o.status.code(), Some(4), "{:?}", text(&o));
    assert!(text(&o).1.contains("already merged"), "{:?}", text(&o));
    let o = env.run(&["unmerge", &lat, &cyr], "");
    assert!(text(&o).1.contains("is not merged into"), "{:?}", text(&o));
    env.ok(&["unmerge", &cyr, &lat], "");
    assert_eq!(env.ok(&["list", "person"], "").lines().count(), 2);
    assert!(!env.ok(&["show", &cyr], "").contains("Senbay"));
}
