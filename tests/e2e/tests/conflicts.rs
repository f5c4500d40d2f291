//! Two caseworkers change one testimony before either sees the other's change (their vaults
//! made and edited with the `kuager` command); the coordinator imports both bundles in the real
//! app, sees the one conflict, and reconciles it field by field: the narrative from one, the
//! place from the other. The result is a merge revision whose parents are both versions
//! (issue #12).

use std::path::{Path, PathBuf};

use e2e::{cli_export, coordinator_sandbox, kuager_cli, vault_dir, App, Sandbox, Session, Steps};
use serde_json::json;
use testkit::cli::Env;
use testkit::fixture::PASS;

fn edit(env: &Env, id: &str, patch: serde_json::Value) {
    let f = env.outside.join("patch.json");
    std::fs::write(&f, patch.to_string()).unwrap();
    env.ok(&["edit", id, f.to_str().unwrap()], "");
}

fn pick(s: &Session, file: &Path, cards: usize) {
    s.type_text(
        &s.find("[data-testid=receive-files]", 20),
        file.to_str().unwrap(),
    );
    s.wait_for(
        &format!(
            "const c = document.querySelectorAll('[data-testid=bundle-card]'); return c.length === {cards} && c[{}].dataset.status === 'ready'",
            cards - 1
        ),
        60,
        "the bundle to be reviewed",
    );
}

/// A writes a testimony; B (who also holds the organisation key, as a second coordinator's
/// laptop might) receives it; both correct it. The caseworkers, the testimony's id, and the
/// bundles: A's first, A's correction, B's correction.
fn two_versions(sb: &Sandbox, key_file: &Path, org: &str) -> (Env, Env, String, [PathBuf; 3]) {
    let a = kuager_cli();
    let b = kuager_cli();
    for env in [&a, &b] {
        env.ok(&["recipients", "add", org], "");
    }
    let p = a
        .ok(
            &["add", "person"],
            &json!({"names": [{"value": "Сайрагүл Сауытбай"}]}).to_string(),
        )
        .trim()
        .to_owned();
    let t = a
        .ok(
            &["add", "testimony"],
            &json!({"witness": p, "narrative": "first telling", "place": "Almaty"}).to_string(),
        )
        .trim()
        .to_owned();
    let first = cli_export(&a, &sb.outside, "a1");
    b.ok(&["identity", "import", key_file.to_str().unwrap()], "");
    b.ok(
        &["trust", "add", a.ok(&["device"], "").trim(), "--label", "A"],
        "",
    );
    b.ok(&["import", first.to_str().unwrap()], "");
    edit(
        &a,
        &t,
        json!({"narrative": "A's correction: held in Ghulja from 2018"}),
    );
    edit(
        &b,
        &t,
        json!({"narrative": "B's correction", "place": "Taldykorgan"}),
    );
    let from_a = cli_export(&a, &sb.outside, "a2");
    let from_b = cli_export(&b, &sb.outside, "b2");

    (a, b, t, [first, from_a, from_b])
}

#[test]
fn a_coordinator_reconciles_two_caseworkers_versions_field_by_field() {
    let (sb, identity) = coordinator_sandbox();
    let key_file = sb.outside.join("org.key");
    let org = identity.to_public().to_string();
    let (a, b, t, [first, from_a, from_b]) = two_versions(&sb, &key_file, &org);

    {
        let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
        v.unlock(&testkit::fixture::pass()).unwrap();
        v.trust_device(a.ok(&["device"], "").trim(), "A").unwrap();
        v.trust_device(b.ok(&["device"], "").trim(), "B").unwrap();
        v.import(&first, &Default::default()).unwrap();
    }

    let s = sb.launch();
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-receive]", 60));
    pick(&s, &from_a, 1);
    s.click(&s.find("[data-testid=import-button]", 5));
    s.wait_for(
        "return document.querySelector('[data-testid=bundle-card]').dataset.status === 'done'",
        60,
        "A's bundle imported",
    );
    pick(&s, &from_b, 2);
    let review = s.text(&s.find(
        "[data-testid=bundle-card]:nth-child(2) [data-testid=bundle-summary]",
        5,
    ));
    assert!(
        review.contains("1 records will have two versions"),
        "{review}"
    );
    s.click(&s.find(
        "[data-testid=bundle-card]:nth-child(2) [data-testid=import-button]",
        5,
    ));
    s.wait_for(
        "return document.querySelectorAll('[data-testid=bundle-card]')[1].dataset.status === 'done'",
        60,
        "B's bundle imported",
    );

    s.click(&s.find("[data-testid=nav-conflicts]", 5));
    s.click(&s.find("[data-testid=conflict-row]", 20));
    s.find("[data-testid=resolve-table]", 20);
    let marked = s.exec(
        "return [...document.querySelectorAll('tr.differs')].map((r) => r.dataset.testid)",
        json!([]),
    );
    assert_eq!(marked, json!(["field-narrative", "field-place"]));
    // The narrative from A's version, the place from B's: the radio in the cell that shows it.
    for (field, text) in [("narrative", "A's correction"), ("place", "Taldykorgan")] {
        let r = s.exec(
            "const cells = [...document.querySelectorAll(`[data-testid=field-${arguments[0]}] td`)]; \
             const c = cells.find((td) => td.textContent.includes(arguments[1])); \
             if (!c) return false; c.querySelector('input[type=radio]').click(); return true;",
            json!([field, text]),
        );
        assert_eq!(r, json!(true), "no cell with {text}");
    }
    s.click(&s.find("[data-testid=merge]", 5));
    s.find("[data-testid=resolved]", 20);
    s.click(&s.find("[data-testid=nav-conflicts]", 5));
    s.find("[data-testid=conflicts-none]", 20);
    s.quit();
    sb.assert_no_network_calls();

    let mut v = vault::Vault::open(&vault_dir(&sb)).unwrap();
    v.unlock(&testkit::fixture::pass()).unwrap();
    let rec = v.get(t.parse().unwrap()).unwrap();
    assert_eq!(rec.heads.len(), 1);
    let head = &rec.heads[0];
    let data = head.data.as_ref().unwrap();
    assert_eq!(
        data["narrative"],
        "A's correction: held in Ghulja from 2018"
    );
    assert_eq!(data["place"], "Taldykorgan");
    assert_eq!(head.parents.len(), 2, "a merge of both versions");
    assert!(v.conflicts().unwrap().is_empty());
}
