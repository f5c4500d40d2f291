//! The desktop app's figures (issue #4), measured in the real app under Xvfb through
//! tauri-driver + WebKitWebDriver, the same harness as the end-to-end tests:
//!
//! - cold start to the unlock screen vs a hello-world Tauri 2 window (`kuager-hello`), both
//!   debug builds started the same way, alternately, in the same run;
//! - opening a testimony and saving it, end to end (click → IPC → vault → rendered), timed in
//!   the page with `performance.now()`, on a vault of `people` + `testimonies` records;
//! - the virtualised people and testimony lists at that size: how long rows take to fill after a
//!   jump to a random place, and the frame intervals while scrolling continuously.
//!
//! Debug builds because a release build refuses automation (it is incognito and drops
//! `TAURI_WEBVIEW_AUTOMATION`); both apps pay the same for it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::{root, Sandbox, Session, Steps};
use serde_json::{json, Value};

use kuager_bench::gen::Rng;

use super::{median, p95, Row, PASS};

/// Both binaries, built by `make bench` before this runs.
fn binary(name: &str) -> anyhow::Result<PathBuf> {
    let p = root().join("target/debug").join(name);
    anyhow::ensure!(
        p.exists(),
        "{} is missing: `make bench` builds it (cargo build -p kuager-app -p kuager-hello)",
        p.display()
    );
    Ok(p)
}

/// Polls (every few ms) until `css` matches; returns the time since `t0`.
fn wait_css(s: &Session, css: &str, t0: Instant, limit: Duration) -> anyhow::Result<Duration> {
    loop {
        if s.exec(
            "return document.querySelector(arguments[0]) !== null",
            json!([css]),
        ) == json!(true)
        {
            return Ok(t0.elapsed());
        }
        anyhow::ensure!(t0.elapsed() < limit, "{css} never appeared");
        std::thread::sleep(Duration::from_millis(3));
    }
}

/// Time since boot, in ms (10 ms resolution), from /proc/uptime.
fn uptime_ms() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/uptime").ok()?;
    Some(s.split(' ').next()?.parse::<f64>().ok()? * 1000.0)
}

/// When the running process of `binary` started, in ms since boot (10 ms resolution):
/// /proc/PID/stat's start time, in clock ticks (100 per second) after boot.
fn process_start_ms(binary: &Path) -> Option<f64> {
    let want = binary.as_os_str().as_encoded_bytes();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmd.split(|b| *b == 0).next() != Some(want) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        // Fields after the command's closing parenthesis; the start time is field 22.
        let rest = &stat[stat.rfind(')')? + 2..];
        let ticks: f64 = rest.split(' ').nth(19)?.parse().ok()?;
        return Some(ticks * 10.0);
    }
    None
}

/// Opens the list behind `nav`, scrolls to `row`, and once the rows there are loaded clicks the
/// middle one; returns the ms from that click until `shown` (a function body) returns true.
fn open_from_list(s: &Session, nav: &str, row: usize, shown: &str) -> anyhow::Result<f64> {
    s.click(&s.find(&format!("[data-testid={nav}]"), 5));
    s.find(".viewport button.row", 30);
    s.exec(
        "document.querySelector('.viewport').scrollTop = arguments[0] * 44",
        json!([row]),
    );
    page_ms(
        s,
        &format!(
            "const done = arguments[arguments.length - 1];\
             const shown = () => {{ {shown} }};\
             let t0 = 0;\
             const tick = () => {{ if (shown()) done(performance.now() - t0); else requestAnimationFrame(tick); }};\
             const start = () => {{ const v = document.querySelector('.viewport'); const rows = v ? v.querySelectorAll('button.row') : [];\
               if (rows.length < 5 || v.textContent.includes('…')) {{ requestAnimationFrame(start); return; }}\
               t0 = performance.now(); rows[Math.floor(rows.length / 2)].click(); requestAnimationFrame(tick); }};\
             start();"
        ),
    )
}

/// Runs an async page script that answers a number (milliseconds).
fn page_ms(s: &Session, script: &str) -> anyhow::Result<f64> {
    let v = s.exec_async(script);
    v.as_f64()
        .ok_or_else(|| anyhow::anyhow!("the page answered {v} instead of a time"))
}

/// Fills the vault the app opens by default, before it starts.
fn fill_default_vault(sb: &Sandbox, people: usize, testimonies: usize) -> anyhow::Result<()> {
    // The vault the app opens by default, filled before it starts.
    let dir = sb.home.join(".local/share/kuager/default");
    std::fs::create_dir_all(dir.parent().unwrap())?;
    {
        let t = Instant::now();
        let mut v = kuager_bench::open_or_create(&dir, PASS, Some(10))?;
        kuager_bench::fill(&mut v, 4, people, testimonies, testimonies / 5)?;
        eprintln!(
            "app: vault of {people} people + {testimonies} testimonies + {} attempts in {:.1}s",
            testimonies / 5,
            t.elapsed().as_secs_f64()
        );
    }
    // The fill's writes reach the disk before anything is timed.
    std::process::Command::new("sync").status()?;
    std::thread::sleep(Duration::from_secs(2));

    Ok(())
}

/// Cold start of the app and of a hello-world Tauri window.
fn cold_start(sb: &Sandbox, app: &Path, hello: &Path) -> anyhow::Result<Row> {
    // Cold start, alternately, eleven each (the first of each discarded as warm-up of the disk
    // cache, so both start from the same cache state). Both apps sometimes take ~0.5 s longer
    // to show their page (WebKit's own start-up, the hello-world window too): the median of
    // eleven is what is compared.
    let mut t_hello = Vec::new();
    let mut t_app = Vec::new();
    let mut w_hello = Vec::new();
    let mut w_app = Vec::new();
    for round in 0..12 {
        for (bin, css, out, whole) in [
            (hello, "#hello", &mut t_hello, &mut w_hello),
            (app, "[data-testid=passphrase]", &mut t_app, &mut w_app),
        ] {
            let t0 = Instant::now();
            let s = sb.launch_binary(bin);
            let d = wait_css(&s, css, t0, Duration::from_secs(60))?;
            // From the process's own start (the kernel's record of it) to the first screen, so
            // the WebDriver session's set-up (which sometimes idles ~0.5 s) is not counted.
            let shown = uptime_ms();
            let started = process_start_ms(bin);
            s.quit();
            std::thread::sleep(Duration::from_millis(800));
            if round > 0 {
                let (Some(shown), Some(started)) = (shown, started) else {
                    anyhow::bail!("could not time the start of {}", bin.display());
                };
                out.push(shown - started);
                whole.push(d.as_secs_f64() * 1000.0);
            }
        }
    }
    eprintln!("app: from process start (ms): hello-world {t_hello:.0?}, app {t_app:.0?}");
    eprintln!("app: from the session request (ms): hello-world {w_hello:.0?}, app {w_app:.0?}");
    let (h, a) = (median(&mut t_hello), median(&mut t_app));
    eprintln!("app: cold start {a:.0} ms vs hello-world {h:.0} ms");
    Ok(Row {
        what: "app: cold start to the unlock screen (median of 11)".into(),
        measured: format!("{a:.0} ms"),
        baseline: format!("hello-world Tauri window {h:.0} ms"),
        target: "≤ 1.3× baseline".into(),
        ok: a <= 1.3 * h,
    })
}

/// Opening and saving testimonies, opening people, in the unlocked app.
fn open_and_save(
    s: &Session,
    rng: &mut Rng,
    people: usize,
    testimonies: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    // Unlock, then open and save testimonies.
    let mut open_t = Vec::new();
    let mut save_t = Vec::new();
    for i in 0..20 {
        open_t.push(open_from_list(
            s,
            "nav-testimonies",
            rng.below(testimonies.min(5_000)),
            "const n = document.querySelector('[data-testid=narrative]'); const w = document.querySelector('[data-testid=witness-name]');\
             return n && n.value.length > 0 && w && w.textContent.length > 0;",
        )?);
        save_t.push(page_ms(
            s,
            &format!(
                "const done = arguments[arguments.length - 1];\
                 const n = document.querySelector('[data-testid=narrative]');\
                 n.value = n.value + ' (checked {i})'; n.dispatchEvent(new Event('input', {{ bubbles: true }}));\
                 const b = document.querySelector('[data-testid=save]'); const st = document.querySelector('[data-testid=status]');\
                 const t0 = performance.now(); b.click();\
                 const tick = () => {{ if (!b.disabled && st.textContent.trim().length > 0) done(performance.now() - t0); else requestAnimationFrame(tick); }};\
                 requestAnimationFrame(tick);"
            ),
        )?);
    }
    // A person's page: names, their renunciation timeline, and what refers to them.
    let mut person_t = Vec::new();
    for _ in 0..20 {
        person_t.push(open_from_list(
            s,
            "nav-people",
            rng.below(people.min(5_000)),
            "const n = document.querySelector('[data-testid=name-value]'); const r = document.querySelector('[data-testid=related]');\
             return n && n.value.length > 0 && r && (r.querySelector('button.row') || r.querySelector('p.muted'));",
        )?);
    }
    let (p50, p95_) = (median(&mut person_t.clone()), p95(&mut person_t));
    eprintln!("app: person page {p50:.1}/{p95_:.1} ms (median/p95)");
    let (o50, o95) = (median(&mut open_t.clone()), p95(&mut open_t));
    let (s50, s95) = (median(&mut save_t.clone()), p95(&mut save_t));
    eprintln!("app: open {o50:.1}/{o95:.1} ms, save {s50:.1}/{s95:.1} ms (median/p95)");
    rows.push(Row {
        what: format!("app: open a testimony, click → shown ({testimonies} in vault)"),
        measured: format!("p95 {o95:.1} ms (median {o50:.1})"),
        baseline: "-".into(),
        target: "≤ 100 ms".into(),
        ok: o95 <= 100.0,
    });
    rows.push(Row {
        what: format!("app: open a person, click → names, timeline, related ({people})"),
        measured: format!("p95 {p95_:.1} ms (median {p50:.1})"),
        baseline: "-".into(),
        target: "≤ 100 ms".into(),
        ok: p95_ <= 100.0,
    });
    rows.push(Row {
        what: "app: save a testimony, click → saved and reloaded".into(),
        measured: format!("p95 {s95:.1} ms (median {s50:.1})"),
        baseline: "-".into(),
        target: "≤ 100 ms".into(),
        ok: s95 <= 100.0,
    });

    Ok(rows)
}

/// The lists at full size: rows filled after a jump, frames while scrolling.
fn lists(
    s: &Session,
    rng: &mut Rng,
    people: usize,
    testimonies: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (nav, n, what) in [
        ("nav-people", people, "people"),
        ("nav-testimonies", testimonies, "testimonies"),
    ] {
        s.click(&s.find(&format!("[data-testid={nav}]"), 5));
        s.find(".viewport button.row", 30);
        let mut fill = Vec::new();
        for _ in 0..20 {
            let row = rng.below(n);
            fill.push(page_ms(
                s,
                &format!(
                    "const done = arguments[arguments.length - 1];\
                     const v = document.querySelector('.viewport'); const t0 = performance.now(); v.scrollTop = {row} * 44;\
                     const tick = () => {{ const rows = v.querySelectorAll('button.row');\
                       if (rows.length > 5 && !v.textContent.includes('…')) done(performance.now() - t0); else requestAnimationFrame(tick); }};\
                     requestAnimationFrame(tick);"
                ),
            )?);
        }
        // Continuous scrolling: three rows per frame for 300 frames, through unloaded pages.
        let frames: Value = s.exec_async(
            "const done = arguments[arguments.length - 1];\
             const v = document.querySelector('.viewport'); v.scrollTop = 1000 * 44;\
             const gaps = []; let last = performance.now(); let k = 0;\
             const step = () => { const now = performance.now(); gaps.push(now - last); last = now;\
               v.scrollTop += 132; if (++k < 300) requestAnimationFrame(step); else done(gaps.slice(1)); };\
             requestAnimationFrame(step);",
        );
        let mut gaps: Vec<f64> = frames
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("no frame times: {frames}"))?
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        let long = gaps.iter().filter(|g| **g > 50.0).count();
        let (f50, f95) = (median(&mut gaps.clone()), p95(&mut gaps));
        let (j50, j95) = (median(&mut fill.clone()), p95(&mut fill));
        eprintln!(
            "app: {what} list: jump fill {j50:.1}/{j95:.1} ms, frames {f50:.1}/{f95:.1} ms, {long} over 50 ms"
        );
        rows.push(Row {
            what: format!("app: {what} list of {n}, rows filled after a jump"),
            measured: format!("p95 {j95:.1} ms (median {j50:.1})"),
            baseline: "-".into(),
            target: "≤ 100 ms".into(),
            ok: j95 <= 100.0,
        });
        rows.push(Row {
            what: format!("app: {what} list of {n}, frame interval while scrolling"),
            measured: format!("p95 {f95:.1} ms, {long}/{} over 50 ms", gaps.len()),
            baseline: "-".into(),
            target: "p95 ≤ 33 ms".into(),
            ok: f95 <= 33.4,
        });
    }
    Ok(rows)
}

pub(crate) fn bench_app(people: usize, testimonies: usize) -> anyhow::Result<Vec<Row>> {
    let app = binary("kuager-app")?;
    let hello = binary("kuager-hello")?;
    let sb = Sandbox::start();
    fill_default_vault(&sb, people, testimonies)?;
    let mut rows = vec![cold_start(&sb, &app, &hello)?];
    let s = sb.launch_binary(&app);
    s.unlock(PASS);
    s.find("[data-testid=nav-testimonies]", 60);
    let mut rng = Rng::new(17);
    rows.extend(open_and_save(&s, &mut rng, people, testimonies)?);
    rows.extend(lists(&s, &mut rng, people, testimonies)?);
    s.quit();
    Ok(rows)
}
