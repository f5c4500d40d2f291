//! `kuager profile`: a coordinator writes the organisation profile, a caseworker checks it and
//! loads it only with the fingerprint the coordinator reads aloud (docs/bundle-format.md
//! "Organisation profile").

use testkit::cli::*;

const KUAGER: &str = env!("CARGO_BIN_EXE_kuager");

/// The value after `name` on the line that starts with it.
fn field(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in {out}"))
        .trim()
        .to_owned()
}

#[test]
fn a_caseworker_loads_the_coordinators_profile_only_with_its_fingerprint() {
    let coord = Env::new(KUAGER).with_vault();
    let org_key = coord.ok(&["identity", "new", "--label", "coordinators"], "");
    let org_key = org_key.trim();
    let recovery = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
    let file = coord.outside.join("atajurt.kuager-profile");
    let written = coord.ok(
        &[
            "profile",
            "write",
            "--organisation",
            "Atajurt",
            "--recovery",
            recovery,
            "--max-autolock",
            "5",
            "-o",
            file.to_str().unwrap(),
        ],
        "",
    );
    let fingerprint = field(&written, "fingerprint");
    assert_eq!(fingerprint.len(), 35, "{fingerprint}");
    // Not overwritten by a second write.
    let first = std::fs::read(&file).unwrap();
    let again = coord.run(
        &[
            "profile",
            "write",
            "--organisation",
            "Atajurt",
            "-o",
            file.to_str().unwrap(),
        ],
        "",
    );
    let (_, err) = text(&again);
    assert!(!again.status.success());
    assert!(err.contains("cannot write"), "{err}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        first,
        "the profile was overwritten"
    );

    let cw = Env::new(KUAGER).with_vault();
    let shown = cw.ok(&["profile", "show", file.to_str().unwrap()], "");
    assert_eq!(field(&shown, "fingerprint"), fingerprint);
    assert!(shown.contains(org_key), "{shown}");

    // A wrong fingerprint: refused before the vault is touched.
    let o = cw.run(
        &[
            "profile",
            "load",
            file.to_str().unwrap(),
            "--fingerprint",
            "00000 00000 00000 00000 00000 00000",
        ],
        "",
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("not this profile's"), "{err}");
    assert!(cw.ok(&["recipients", "list"], "").trim().is_empty());

    // The right one, typed without spaces.
    cw.ok(
        &[
            "profile",
            "load",
            file.to_str().unwrap(),
            "--fingerprint",
            &fingerprint.replace(' ', ""),
        ],
        "",
    );
    let listed = cw.ok(&["recipients", "list"], "");
    assert!(listed.contains(org_key), "{listed}");
    assert!(cw.ok(&["policy"], "").contains("passphrase-bundles deny"));
    // An altered copy is refused with its reason.
    let mut bytes = std::fs::read_to_string(&file).unwrap();
    bytes = bytes.replace("Atajurt", "Atajurd");
    let bad = cw.outside.join("altered.kuager-profile");
    std::fs::write(&bad, bytes).unwrap();
    let o = cw.run(&["profile", "show", bad.to_str().unwrap()], "");
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("signature does not match"), "{err}");
}
