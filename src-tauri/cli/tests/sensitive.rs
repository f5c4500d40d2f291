//! Text that should not be on the command line (issue #10, item 12; docs/threat-model.md): a
//! search for a witness's name, a purge's reason, a caption and the vault's label can come
//! from standard input (`-`), and a search or a reason left out is asked on the terminal —
//! never needing to be typed where the shell's history and `/proc/<pid>/cmdline` keep it.

use std::process::{Command, Stdio};

use testkit::cli::*;

const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

/// A vault with one person; the person's id.
fn vault_with_a_person(env: &Env) -> String {
    let out = env.ok(
        &["add", "person"],
        r#"{"names":[{"value":"Сенбай Нұрахен"}]}"#,
    );
    out.split_whitespace().next().unwrap().to_owned()
}

#[test]
fn sensitive_text_comes_from_standard_input_with_a_dash() {
    let env = Env::new(KUAGER).with_vault();
    let person = vault_with_a_person(&env);

    let hits = env.ok(&["search", "-"], "Senbay\n");
    assert!(hits.contains(&person), "search -: {hits}");

    env.ok(&["label", "-"], "Almaty office, laptop 3\n");
    assert_eq!(env.ok(&["label"], "").trim(), "Almaty office, laptop 3");

    let photo = env.outside.join("photo.jpg");
    std::fs::write(&photo, b"\xff\xd8\xff not really a photo").unwrap();
    env.ok(
        &["attach", &person, photo.to_str().unwrap(), "--caption", "-"],
        "At the consulate, 2019\n",
    );
    let shown = env.ok(&["show", &person, "--json"], "");
    assert!(shown.contains("At the consulate, 2019"), "{shown}");

    env.ok(
        &["purge", &person, "--reason", "-"],
        "Consent withdrawn by phone, 3 May\n",
    );
    let audit = env.ok(&["audit"], "");
    assert!(
        audit.contains("Consent withdrawn by phone, 3 May"),
        "the reason read from standard input is in the audit log: {audit}"
    );
}

#[test]
fn a_search_or_a_reason_left_out_is_asked_on_the_terminal() {
    let env = Env::new(KUAGER).with_vault();
    let person = vault_with_a_person(&env);
    let on_terminal = |args: &str, line: &str| {
        let o = testkit::terminal::on_terminal(
            &format!("{KUAGER} {args}"),
            |c| {
                env.sandboxed(c);
            },
            &[line],
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };

    let out = on_terminal("search", "Senbai");
    assert!(out.contains("Search: "), "{out}");
    assert!(out.contains(&person), "{out}");

    let out = on_terminal(&format!("purge {person}"), "Court order 17/2026");
    assert!(out.contains("Why is this record purged"), "{out}");
    let audit = env.ok(&["audit"], "");
    assert!(audit.contains("Court order 17/2026"), "{audit}");
}

#[test]
fn without_a_terminal_a_missing_search_says_how_to_give_it() {
    let env = Env::new(KUAGER).with_vault();
    // `setsid`: no controlling terminal, as under cron or a script.
    let mut c = Command::new("setsid");
    c.args(["-w", KUAGER, "search"]);
    let o = env.sandboxed(&mut c).stdin(Stdio::null()).output().unwrap();
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("no terminal to ask the search on")
            && err.contains("give `-` and send it on standard input"),
        "{err}"
    );
    let long = "x".repeat(70 * 1024);
    let o = env.run(
        &[
            "purge",
            "01930000-0000-7000-8000-000000000000",
            "--reason",
            "-",
        ],
        &long,
    );
    let (_, err) = text(&o);
    assert!(err.contains("the reason is longer than 64 KiB"), "{err}");
}
