//! The command-line contract, pinned as case files in `tests/cmd/` (read them as documentation:
//! they are Markdown): every `--help`, the version, and the errors a user sees with their exit
//! codes. A change to any of them fails here until the case file says the new words.
//! `TRYCMD=overwrite cargo test -p kuager-cli --test contract` rewrites the files; review the
//! diff before committing it.

use testkit::fixture::{add_person, TempVault, PASS};

#[test]
fn the_command_line_says_what_its_case_files_say() {
    // A vault with one person, and its passphrase in a file, for the cases that unlock.
    let mut v = TempVault::new();
    add_person(&mut v, "Сенбай Нұрахен");
    let pass = v.outside("pass");
    std::fs::write(&pass, format!("{PASS}\n")).unwrap();
    let dir = v.dir();
    let cases = trycmd::TestCases::new();
    cases
        .env("KUAGER_VAULT", dir.display().to_string())
        .env("KUAGER_PASSPHRASE_FILE", pass.display().to_string())
        .env("KUAGER_BUNDLE_PASSPHRASE_FILE", pass.display().to_string())
        .env("NO_COLOR", "1")
        .insert_var("[VAULT]", dir.display().to_string())
        .unwrap();
    cases.case("tests/cmd/*.md");
    cases.run();
}
