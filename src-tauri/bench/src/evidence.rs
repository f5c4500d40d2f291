//! Evidence out (issue #13), in the real app under Xvfb like `coordinator.rs`, over a vault of
//! 100,000 people, 100,000 testimonies and 20,000 renunciation attempts:
//!
//! - each dashboard (attempts, testimonies): from the click on its tab until every chart of it
//!   is drawn, timed in the page;
//! - the follow-up list (people waiting more than 180 days, the first hundred): click → drawn;
//! - a bundle to a partner of 1,000 testimonies chosen among the 100,000 (their consent made
//!   `partner-orgs` first): the preview and the export, as the Partners screen calls them
//!   (through the isolation frame), timed in the page; a new partner each round, so each
//!   sends the whole 1,000 with their witnesses.

use std::time::Instant;

use e2e::{root, Sandbox, Steps};

use kuager_bench::open_or_create;

use super::{median, p95, Row, PASS};

/// Rounds of each dashboard and of the follow-up list.
const ROUNDS: usize = 21;
/// Rounds of the partner bundle (each a new preview and bundle of the same 1,000).
const PARTNER_ROUNDS: usize = 5;

/// The rows of `make bench`: the figures at 100,000 / 100,000 / 20,000, or small ones.
pub(crate) fn bench_all(quick: bool) -> anyhow::Result<Vec<Row>> {
    if quick {
        bench_evidence(2_000, 2_000, 400, 100)
    } else {
        bench_evidence(100_000, 100_000, 20_000, 1_000)
    }
}

/// The vault at `dir`: an organisation identity, the records, `chosen` testimonies whose
/// consent allows partners (their ids), and a partner for each round.
fn prepare(
    dir: &std::path::Path,
    people: usize,
    testimonies: usize,
    attempts: usize,
    chosen: usize,
) -> anyhow::Result<Vec<String>> {
    let mut v = open_or_create(dir, PASS, Some(10))?;
    v.new_identity(Some("org"))?;
    let t = Instant::now();
    kuager_bench::fill(&mut v, 53, people, testimonies, attempts)?;
    eprintln!(
        "evidence: {people} people, {testimonies} testimonies, {attempts} attempts in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    let (_, all) = v.list_page(Some(vault::Kind::Testimony), 0, testimonies)?;
    let mut rng = kuager_bench::gen::Rng::new(7);
    let mut picked = Vec::new();
    while picked.len() < chosen {
        let s = &all[rng.below(all.len())];
        let id = s.id.to_string();
        if picked.contains(&id) {
            continue;
        }
        v.edit(s.id, br#"{"consent": {"given": true, "scope": "partner-orgs", "recorded_how": "signed-form"}}"#, None, false)?;
        picked.push(id);
    }
    // A partner for each round: each gets the same 1,000 as new.
    for round in 0..PARTNER_ROUNDS {
        let key = age_public_key()?;
        let ok = v.confirm_passphrase(&vault::Passphrase::new(PASS.into()))?;
        v.add_partner(&key.parse()?, &format!("Partner {round}"), ok)?;
    }
    Ok(picked)
}

fn bench_evidence(
    people: usize,
    testimonies: usize,
    attempts: usize,
    chosen: usize,
) -> anyhow::Result<Vec<Row>> {
    let app = root().join("target/debug/kuager-app");
    anyhow::ensure!(
        app.exists(),
        "{} is missing: `make bench` builds it",
        app.display()
    );
    let sb = Sandbox::start();
    let dir = sb.home.join(".local/share/kuager/default");
    std::fs::create_dir_all(dir.parent().unwrap())?;
    let picked = prepare(&dir, people, testimonies, attempts, chosen)?;
    let config = sb.home.join(".config/kuager/app.json");
    std::fs::create_dir_all(config.parent().unwrap())?;
    std::fs::write(&config, r#"{"language":"en","autolock_minutes":30}"#)?;
    let s = sb.launch_binary(&app);
    s.unlock(PASS);
    s.click(&s.find("[data-testid=nav-dashboards]", 60));
    s.find("[data-testid=charts-ready]", 60);
    let mut rows = Vec::new();
    for (tab, what, ready) in [
        (
            "attempts",
            "attempts dashboard (4 charts)",
            "[data-testid=charts-ready] [data-testid=chart-attempts-per-person]",
        ),
        (
            "testimonies",
            "testimonies dashboard (5 charts)",
            "[data-testid=charts-ready] [data-testid=chart-activity]",
        ),
        (
            "follow-up",
            "follow-up list (> 180 days, first 100 people)",
            "[data-testid=follow-up] tbody tr:nth-child(100)",
        ),
    ] {
        let other = if tab == "attempts" {
            "testimonies"
        } else {
            "attempts"
        };
        let mut times = Vec::new();
        for _ in 0..ROUNDS {
            s.click(&s.find(&format!("[data-testid=dash-tab-{other}]"), 10));
            s.find("[data-testid=charts-ready]", 60);
            let ms = s.exec_async(&format!(
                "const done = arguments[arguments.length - 1];\
                 const t0 = performance.now(); document.querySelector('[data-testid=dash-tab-{tab}]').click();\
                 const tick = () => {{ if (document.querySelector('{ready}')) done(performance.now() - t0); else requestAnimationFrame(tick); }};\
                 requestAnimationFrame(tick);"
            ));
            let Some(ms) = ms.as_f64() else {
                anyhow::bail!("the page answered {ms}");
            };
            times.push(ms);
        }
        let worst = times.iter().cloned().fold(0.0, f64::max);
        let (m, p) = (median(&mut times.clone()), p95(&mut times));
        let target = if tab == "follow-up" { 100.0 } else { 300.0 };
        rows.push(Row {
            what: format!("app: {what}, click → drawn, over {people} people, {testimonies} testimonies, {attempts} attempts"),
            measured: format!("p95 {p:.0} ms (median {m:.0}, worst {worst:.0}) of {ROUNDS}"),
            baseline: "-".into(),
            target: format!("≤ {target:.0} ms"),
            ok: p <= target,
        });
    }
    let ids = serde_json::to_string(&picked)?;
    let mut times = Vec::new();
    for round in 0..PARTNER_ROUNDS {
        let r = s.exec_async(&format!(
            "const done = arguments[arguments.length - 1];\
             const invoke = window.__TAURI_INTERNALS__.invoke; const records = {ids}; const partner = 'Partner {round}';\
             const t0 = performance.now();\
             invoke('partner_preview', {{ partner, records }})\
               .then((p) => invoke('partner_export', {{ partner, records, digest: p.digest }}))\
               .then((s) => done([performance.now() - t0, s.preview.going.length]), (e) => done(String(e && e.message || e)));"
        ));
        let (Some(ms), Some(going)) = (r[0].as_f64(), r[1].as_u64()) else {
            anyhow::bail!("the page answered {r}");
        };
        anyhow::ensure!(going as usize >= chosen, "{going} records went");
        times.push(ms);
    }
    s.quit();
    let (m, worst) = (
        median(&mut times.clone()),
        times.iter().cloned().fold(0.0, f64::max),
    );
    rows.push(Row {
        what: format!("app: partner bundle of {chosen} testimonies chosen among {testimonies}, preview + bundle written"),
        measured: format!("median {:.2} s, worst {:.2} s of {PARTNER_ROUNDS}", m / 1000.0, worst / 1000.0),
        baseline: "-".into(),
        target: "≤ 3 s".into(),
        ok: worst <= 3000.0,
    });
    Ok(rows)
}

/// A new X25519 public key from `age-keygen` (a partner's).
fn age_public_key() -> anyhow::Result<String> {
    let o = std::process::Command::new("age-keygen").output()?;
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("Public key: "))
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("age-keygen gave no key"))
}
