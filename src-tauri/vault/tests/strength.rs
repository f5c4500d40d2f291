//! The passphrase strength rule, pinned by cases the app's page is tested against too: the
//! page computes the meter itself, so the passphrase being typed never crosses to the app on
//! each keystroke (issue #10, item 10; `ui/src/lib/strength.ts`). `tests/data/strength.json` is
//! written from this rule (`KUAGER_WRITE_STRENGTH_CASES=1 cargo test -p vault --test
//! strength`), never by hand; the test fails when the rule and the file drift apart.

use serde_json::{json, Value};

/// Passphrases across scripts, cases, digits, symbols, repetition and length boundaries.
const CASES: &[&str] = &[
    "",
    "short",
    "elevenchars",
    "twelve chars",
    "aaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "passwordpassword",
    "1234567890123",
    "!!!!!!!!!!!!!!",
    "Tr0ub4dor&3",
    "Tr0ub4dor&3xyz",
    "correct horse battery staple",
    "river lantern orchard violet seventy",
    "CorrectHorseBatteryStaple1!",
    "lowercase only words here",
    "UPPERCASE ONLY WORDS",
    "MiXeD CaSe WoRdS",
    "12 monkeys ate 45 bananas",
    "сенбай нұрахен",
    "Сенбай Нұрахен 1969",
    "қазақ тілі ұлттық",
    "ӘҒҚҢӨҰҮҺІ әғқңөұүһі",
    "ئۇيغۇرچە ئىم ئابدۇللا",
    "日本語のパスフレーズです",
    "emoji 🔐🔐 passphrase",
    "ÀÉÎÕÜ àéîõü çñ",
    "ß straße über alles",
    "ΑΒΓ greek αβγ δέλτα",
    "Ǆǅǆ titlecase mix",
    "ⅫⅪ roman numerals Ⅻ",
    "²³ superscripts ¹ here",
    "ª º ordinal indicators",
    "Ⓐ circled letters ⓑ",
    "ﬁ ligature ﬂ words",
    "tab\tand\nnewline here",
    "٣٤٥ arabic-indic digits ٦",
    // Exactly on a score's boundary: 50 bits is fair, not weak; 70 bits is good, not fair.
    "aA1!bBaA1!bB",
    "сенбай!нұрахен",
    // Exactly at the 90-bit line between "good" and "strong": 15 distinct lowercase Cyrillic
    // letters (a pool of 66: 15 × log2 66 = 90.7).
    "абвгдежзийклмно",
];

fn computed() -> Value {
    Value::Array(
        CASES
            .iter()
            .map(|p| {
                let s = vault::passphrase_strength(p);
                json!({ "passphrase": p, "score": s.score, "bits": s.bits })
            })
            .collect(),
    )
}

#[test]
fn the_strength_rule_matches_the_cases_the_page_is_tested_against() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/strength.json");
    let fresh = serde_json::to_string_pretty(&computed()).unwrap() + "\n";
    if std::env::var_os("KUAGER_WRITE_STRENGTH_CASES").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} differs from the rule: if the rule changed on purpose, rewrite it with \
         KUAGER_WRITE_STRENGTH_CASES=1 and change ui/src/lib/strength.ts the same way",
        path.display()
    );
}
