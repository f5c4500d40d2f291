//! `kuager partners` and `kuager export --partner` as a coordinator uses them (issue #13): a
//! partner added by its key, a preview that says what goes and what is withheld and why, a
//! bundle that Go `age` and `tar` open and that holds nothing withheld.

use testkit::cli::{text, Env};

fn add(env: &Env, kind: &str, json: &serde_json::Value) -> String {
    let out = env.ok(&["add", kind], &json.to_string());
    out.split_whitespace().next().unwrap().to_owned()
}

/// A vault with a partner "UN WGEID" (an `age-keygen` key), a witness with a phone number, a
/// testimony that may go to partners and one that may not: (the key file, witness, shared,
/// internal).
fn set_up(env: &Env) -> (std::path::PathBuf, String, String, String) {
    let (secret, key) = testkit::goage::keygen();
    let key_file = env.outside.join("partner.key");
    std::fs::write(&key_file, secret).unwrap();
    let o = env.run(&["partners", "list"], "");
    assert!(text(&o).1.contains("no partners yet"));
    env.ok(&["partners", "add", &key, "--label", "UN WGEID"], "");
    // A label or a key is taken once; the error says by whom.
    let o = env.run(&["partners", "add", &key, "--label", "Other"], "");
    assert!(!o.status.success());
    assert!(text(&o).1.contains("UN WGEID"), "{}", text(&o).1);
    assert!(env.ok(&["partners", "list"], "").contains("UN WGEID"));
    let named = add(
        env,
        "person",
        &serde_json::json!({"names": [{"value": "Serikzhan Named"}], "contact": {"phones": ["CANARY-PHONE-77"]}}),
    );
    let shared = add(
        env,
        "testimony",
        &serde_json::json!({"witness": named, "narrative": "May go to partners", "consent": {"given": true, "scope": "partner-orgs"}}),
    );
    let internal = add(
        env,
        "testimony",
        &serde_json::json!({"witness": named, "narrative": "CANARY-INTERNAL-TEXT", "consent": {"given": true, "scope": "internal"}}),
    );

    (key_file, named, shared, internal)
}

#[test]
fn a_partner_gets_what_consent_allows_and_stderr_names_the_rest() {
    let env = Env::new(env!("CARGO_BIN_EXE_kuager")).with_vault();
    let (key_file, named, shared, internal) = set_up(&env);
    // The preview writes nothing and names what is withheld, and why.
    let o = env.run(
        &[
            "export",
            "--partner",
            "UN WGEID",
            "--record",
            &shared,
            "--record",
            &internal,
            "--preview",
        ],
        "",
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.contains(&format!("testimony {shared}  named")),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "withheld: testimony {internal}: consent covers this organisation only"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("contact details left out: 1 person"),
        "{stderr}"
    );
    let dest = env.outside.join("out");
    std::fs::create_dir_all(&dest).unwrap();
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);

    let o = env.run(
        &[
            "export",
            "--partner",
            "UN WGEID",
            "--record",
            &shared,
            "--record",
            &internal,
            "-o",
            dest.to_str().unwrap(),
        ],
        "",
    );
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("withheld: testimony {internal}")),
        "{stderr}"
    );
    let bundle = stdout.trim();
    let opened = testkit::partners::open_with_go_age(
        std::path::Path::new(bundle),
        &key_file,
        &env.outside.join("opened"),
    );
    let all = String::from_utf8_lossy(&testkit::partners::all_bytes(&opened)).into_owned();
    assert!(all.contains("May go to partners") && all.contains("Serikzhan Named"));
    assert!(
        !all.contains("CANARY"),
        "withheld content reached the partner"
    );
    assert!(
        !all.contains(&shared) && !all.contains(&named),
        "our ids reached the partner"
    );

    // Nothing new: a clear error, no file.
    let o = env.run(
        &[
            "export",
            "--partner",
            "UN WGEID",
            "--record",
            &shared,
            "-o",
            dest.to_str().unwrap(),
        ],
        "",
    );
    assert!(!o.status.success());
    assert!(
        text(&o).1.contains("nothing new to send to UN WGEID"),
        "{}",
        text(&o).1
    );
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 1);
    // --partner takes no coordinators' options.
    let o = env.run(&["export", "--partner", "UN WGEID", "--all"], "");
    assert!(!o.status.success());
    let o = env.run(&["export", "--partner", "Nobody"], "");
    assert!(text(&o).1.contains("Nobody"), "{}", text(&o).1);
    env.ok(&["partners", "remove", "UN WGEID"], "");
    assert!(!env.ok(&["partners", "list"], "").contains("UN WGEID"));
}
