//! `make screenshots`: PNGs of the main screens in Kazakh, Russian and English, taken in the
//! real app under Xvfb, into the folder given (docs/screenshots).

use std::path::PathBuf;

use e2e::{App, Sandbox, Steps};
use serde_json::json;

const PASS: &str = "river lantern orchard violet seventy";

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/screenshots".into()),
    );
    std::fs::create_dir_all(&out).unwrap();
    // One app session per language: WebKitWebDriver's snapshot stops answering after a
    // handful of screenshots in one session.
    for lang in ["kk", "ru", "en"] {
        session(&out, lang);
    }
}

fn session(out: &std::path::Path, lang: &str) {
    let sb = Sandbox::start();
    let s = sb.launch();
    let shot = |name: &str| {
        std::thread::sleep(std::time::Duration::from_millis(600));
        std::fs::write(out.join(format!("{name}-{lang}.png")), s.screenshot()).unwrap();
        eprintln!("screenshots: {name}-{lang}.png");
    };
    let p1 = s.find("[data-testid=pass1]", 60);
    s.exec(
        "const sel = document.querySelector('form select'); sel.value = arguments[0]; sel.dispatchEvent(new Event('change', { bubbles: true }));",
        json!([lang]),
    );
    shot("first-run");
    s.type_text(&p1, PASS);
    s.type_text(&s.find("[data-testid=pass2]", 5), PASS);
    s.wait_for(
        "return !document.querySelector('[data-testid=create]').disabled",
        10,
        "the passphrase check",
    );
    s.click(&s.find("[data-testid=create]", 5));

    // A few records, names in several scripts.
    let person = |names: &[&str]| {
        s.click(&s.find("[data-testid=nav-home]", 30));
        s.click(&s.find("[data-testid=new-person]", 10));
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                s.click(&s.find("[data-testid=add-name]", 5));
            }
            let inputs = s.find_all("[data-testid=name-value]");
            s.type_text(&inputs[i], n);
        }
        s.click(&s.find("[data-testid=save]", 5));
        s.find("[data-testid=person-new-testimony]", 20);
    };
    person(&["Айгерім Сейтқали", "Aigerim Seitkali"]);
    person(&[
        "Абдурахман Тохти",
        "ئابدۇراخمان توختى",
        "阿不都热合曼·托合提",
    ]);
    person(&["Сенбай Нұрахен", "Senbay Nurakhen"]);
    s.click(&s.find("[data-testid=person-new-testimony]", 5));
    s.wait_for(
        "return !!document.querySelector('[data-testid=witness-name]')",
        20,
        "the witness",
    );
    s.click(&s.find("[data-testid=consent-given]", 5));
    s.type_text(
        &s.find("[data-testid=narrative]", 5),
        "In 2018 I was taken from my home in Ghulja to a building the officials called a school. We were forty in one room…",
    );
    s.click(&s.find("[data-testid=save]", 5));
    s.find("[data-testid=attach-input]", 20);
    shot("testimony");
    s.click(&s.find("[data-testid=nav-home]", 5));
    s.type_text(&s.find("[data-testid=search]", 5), "Senbai");
    s.wait_for("const h = document.querySelector('[data-testid=hits]'); return !!h && h.textContent.includes('Сенбай')", 10, "search");
    shot("search");
    s.click(&s.find("[data-testid=nav-people]", 5));
    shot("people");
    s.quit();

    // A second start of the app on the same vault (the snapshot tires within one session).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let s = sb.launch();
    let shot = |name: &str| {
        std::thread::sleep(std::time::Duration::from_millis(600));
        match s.try_screenshot() {
            Some(png) => {
                std::fs::write(out.join(format!("{name}-{lang}.png")), png).unwrap();
                eprintln!("screenshots: {name}-{lang}.png");
            }
            None => eprintln!("screenshots: {name}-{lang}.png: WebKitWebDriver gave no snapshot"),
        }
    };
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-cases]", 30));
    s.click(&s.find("[data-testid=new-case]", 10));
    s.case_with_person_and_testimony("Senbay");
    shot("case");
    let key = std::process::Command::new("age-keygen").output().unwrap();
    let public = String::from_utf8_lossy(&key.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .unwrap_or_default()
        .to_owned();
    s.click(&s.find("[data-testid=nav-export]", 5));
    s.type_text(&s.find("[data-testid=recipient-key]", 10), &public);
    s.click(&s.find("[data-testid=recipient-add]", 5));
    s.find("[data-testid=recipients] li", 10);
    shot("export");
    s.quit();
}
