//! Duplicate people in the real app (issue #12): two caseworkers entered the same witness as
//! two people, in two scripts (Сенбай Нұрахен b. 1969, Senbay Nurakhen b. 1969-03-02). Each
//! one's page suggests the other, says why, and opens it; a namesake born in another year is
//! not suggested. The two are merged (the list shows one person with both spellings; a
//! relative's link to the merged id opens the one person) and the merge is undone.

use e2e::{coordinator_sandbox, vault_dir, App, Steps};
use serde_json::json;
use testkit::fixture::PASS;

#[test]
fn a_persons_page_suggests_the_same_witness_entered_in_another_script() {
    let (sb, _) = coordinator_sandbox();
    {
        let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
        v.unlock(&testkit::fixture::pass()).unwrap();
        let mut ids = Vec::new();
        for p in [
            json!({"names": [{"value": "Сенбай Нұрахен"}], "date_of_birth": "1969"}),
            json!({"names": [{"value": "Senbay Nurakhen"}], "date_of_birth": "1969-03-02"}),
            json!({"names": [{"value": "Senbai Nurakhen"}], "date_of_birth": "1984"}),
        ] {
            ids.push(
                v.add(vault::Kind::Person, p.to_string().as_bytes())
                    .unwrap()
                    .record,
            );
        }
        let son = json!({"names": [{"value": "Нұрлан Сенбайұлы"}],
            "relationships": [{"person": ids[0], "relation": "child"}]});
        v.add(vault::Kind::Person, son.to_string().as_bytes())
            .unwrap();
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

    // Merge Сенбай Нұрахен into Senbay Nurakhen, after a confirmation.
    s.click(&s.find("[data-testid=suggested-person] [data-testid=merge]", 5));
    s.click(&s.find("[data-testid=merge-confirm]", 5));
    let status = s.text(&s.find("[data-testid=merge-status]", 20));
    assert!(status.starts_with("Merged."), "{status}");
    let merged = s.text(&s.find("[data-testid=merged]", 20));
    assert!(merged.contains("Сенбай Нұрахен"), "{merged}");
    let names = "return [...document.querySelectorAll('[data-testid=name-value]')].map((i) => i.value).join('|')";
    s.wait_for(
        &format!("{names} === 'Senbay Nurakhen|Сенбай Нұрахен'"),
        20,
        "both spellings on the one person",
    );
    // The list shows the one person once, with both spellings on one row.
    s.click(&s.find("[data-testid=nav-people]", 5));
    let rows = "const rows = [...document.querySelectorAll('.viewport button.row')].map((b) => b.textContent); \
        const either = rows.filter((r) => r.includes('Senbay Nurakhen') || r.includes('Сенбай Нұрахен')); \
        const both = rows.filter((r) => r.includes('Senbay Nurakhen') && r.includes('Сенбай Нұрахен'));";
    s.wait_for(
        &format!("{rows} return either.length === 1 && both.length === 1;"),
        20,
        "the people list with one row for the two",
    );
    // A relative's link to the merged id opens the one person, saying so.
    s.exec(
        "[...document.querySelectorAll('.viewport button.row')].find((b) => b.textContent.includes('Нұрлан')).click(); return true;",
        json!([]),
    );
    s.wait_for(
        "const l = [...document.querySelectorAll('button.link')].find((b) => b.textContent.includes('Сенбай Нұрахен')); if (l) l.click(); return !!l;",
        20,
        "the relative's link on Нұрлан's page",
    );
    let note = s.text(&s.find("[data-testid=merged-from]", 20));
    assert!(note.contains("Сенбай Нұрахен"), "{note}");
    s.wait_for(
        &format!("{names} === 'Senbay Nurakhen|Сенбай Нұрахен'"),
        20,
        "the one person's page",
    );

    // Undo: two people again, each with their own name.
    s.click(&s.find("[data-testid=unmerge]", 5));
    let status = s.text(&s.find("[data-testid=merge-status]", 20));
    assert!(status.contains("Merge undone"), "{status}");
    s.wait_for(
        &format!("return !document.querySelector('[data-testid=merged]') && (() => {{ {names} }})() === 'Senbay Nurakhen'"),
        20,
        "the merge undone",
    );
    s.click(&s.find("[data-testid=nav-people]", 5));
    s.wait_for(
        &format!("{rows} return either.length === 2 && both.length === 0;"),
        20,
        "both people listed again, each with their own name",
    );
    s.quit();
    sb.assert_no_network_calls();
}
