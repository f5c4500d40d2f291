//! Duplicate people in the real app (issue #12): two caseworkers entered the same witness as
//! two people, in two scripts (Сенбай Нұрахен b. 1969, Senbay Nurakhen b. 1969-03-02). Each
//! one's page suggests the other, says why, and opens it; a namesake born in another year is
//! not suggested.

use e2e::{coordinator_sandbox, vault_dir, App, Steps};
use serde_json::json;
use testkit::fixture::PASS;

#[test]
fn a_persons_page_suggests_the_same_witness_entered_in_another_script() {
    let (sb, _) = coordinator_sandbox();
    {
        let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
        v.unlock(&testkit::fixture::pass()).unwrap();
        for p in [
            json!({"names": [{"value": "Сенбай Нұрахен"}], "date_of_birth": "1969"}),
            json!({"names": [{"value": "Senbay Nurakhen"}], "date_of_birth": "1969-03-02"}),
            json!({"names": [{"value": "Senbai Nurakhen"}], "date_of_birth": "1984"}),
        ] {
            v.add(vault::Kind::Person, p.to_string().as_bytes())
                .unwrap();
        }
    }
    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-people]", 60));
    s.wait_for(
        "return [...document.querySelectorAll('.viewport button.row')].some((b) => b.textContent.includes('Сенбай Нұрахен'))",
        20,
        "the people list",
    );
    s.exec(
        "[...document.querySelectorAll('.viewport button.row')].find((b) => b.textContent.includes('Сенбай Нұрахен')).click(); return true;",
        json!([]),
    );
    let suggested = s.text(&s.find("[data-testid=suggested]", 20));
    assert!(suggested.contains("Senbay Nurakhen"), "{suggested}");
    assert!(suggested.contains("born the same year"), "{suggested}");
    assert!(
        !suggested.contains("1984"),
        "a namesake born in another year: {suggested}"
    );
    s.click(&s.find("[data-testid=suggested-person] button", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=name-value]')?.value === 'Senbay Nurakhen'",
        20,
        "the suggested person's page",
    );
    let back = s.text(&s.find("[data-testid=suggested]", 20));
    assert!(back.contains("Сенбай Нұрахен"), "{back}");
    s.quit();
    sb.assert_no_network_calls();
}
