//! `kuager-bench` (`make bench`): the figures of issue #2, measured side by side in one run,
//! printed as a table. `--quick` runs every benchmark at a small scale (a smoke test).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kuager_bench::{gen, open_or_create};

mod app;
mod bundles;
mod coordinator;
mod evidence;
mod recording;
use vault::{AttachMeta, Kind};

struct Row {
    what: String,
    measured: String,
    baseline: String,
    target: String,
    ok: bool,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn p95(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64) * 0.95).ceil() as usize - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

const PASS: &str = "benchmark vault passphrase";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("attach-child") {
        return attach_child(Path::new(&args[2]), Path::new(&args[3]));
    }
    if args.get(1).map(String::as_str) == Some("export-child") {
        return bundles::export_child(Path::new(&args[2]), Path::new(&args[3]));
    }
    if args.get(1).map(String::as_str) == Some("import-child") {
        return bundles::import_child(Path::new(&args[2]), Path::new(&args[3]));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (n_testimonies, n_people, attach_bytes) = if quick {
        (5_000usize, 1_000usize, 64u64 << 20)
    } else {
        (100_000, 20_000, 1u64 << 30)
    };
    let base = std::env::var_os("KUAGER_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base)?;
    let root = tempfile::tempdir_in(&base)?;
    let mut rows = Vec::new();
    eprintln!(
        "kuager-bench: working in {}{}",
        root.path().display(),
        if quick { " (quick)" } else { "" }
    );

    // `--only save|bulk|attach|bundles|coordinator|evidence|recording|app` runs one group (for working on one figure).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let want = |name: &str| only.is_none_or(|o| o == name);
    if want("save") {
        rows.extend(bench_save_one(root.path())?);
    }
    if want("bulk") {
        rows.extend(bench_bulk_and_search(root.path(), n_people, n_testimonies)?);
    }
    if want("attach") {
        rows.extend(bench_attach(root.path(), attach_bytes)?);
    }
    if want("bundles") {
        rows.extend(bundles::bench_bundles(
            root.path(),
            if quick { 1_000 } else { 10_000 },
            attach_bytes,
            !quick,
        )?);
    }

    if want("coordinator") {
        rows.extend(coordinator::bench_all(root.path(), quick)?);
    }

    if want("evidence") {
        rows.extend(evidence::bench_all(quick)?);
    }

    if want("recording") {
        rows.extend(recording::bench_all(root.path(), quick)?);
    }

    if want("app") {
        let (people, testimonies) = if quick {
            (2_000, 5_000)
        } else {
            (100_000, 100_000)
        };
        rows.extend(app::bench_app(people, testimonies)?);
    }

    print_table(&rows)?;
    if std::env::var_os("KUAGER_BENCH_KEEP").is_some() {
        eprintln!("kuager-bench: kept {}", root.keep().display());
    }
    if rows.iter().any(|r| !r.ok) {
        eprintln!("kuager-bench: some figures miss their target (marked NO)");
    }
    Ok(())
}

/// Save one testimony (one transaction, durable) vs the same insert into plain SQLite.
fn bench_save_one(root: &Path) -> anyhow::Result<Vec<Row>> {
    let n = 1000;
    let mut v = open_or_create(&root.join("save-one"), PASS, Some(10))?;
    let ids = kuager_bench::fill(&mut v, 1, 200, 0, 0)?;
    let plain = rusqlite::Connection::open(root.join("plain.db"))?;
    plain.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE testimonies (id INTEGER PRIMARY KEY, data TEXT NOT NULL);",
    )?;
    let mut rng = gen::Rng::new(7);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for i in 0..n {
        let json = gen::testimony(&mut rng, &ids[i % ids.len()]).to_string();
        // Alternate which goes first so neither gets a warmer cache.
        let mut run_ours = || -> anyhow::Result<f64> {
            let t = Instant::now();
            v.add(Kind::Testimony, json.as_bytes())?;
            Ok(ms(t.elapsed()))
        };
        let run_plain = || -> anyhow::Result<f64> {
            let t = Instant::now();
            plain.execute("INSERT INTO testimonies(data) VALUES (?1)", [&json])?;
            Ok(ms(t.elapsed()))
        };
        if i % 2 == 0 {
            ours.push(run_ours()?);
            theirs.push(run_plain()?);
        } else {
            theirs.push(run_plain()?);
            ours.push(run_ours()?);
        }
    }
    let (mo, mp) = (median(&mut ours), median(&mut theirs));
    Ok(vec![
        Row {
            what: "save one testimony, median".into(),
            measured: format!("{mo:.2} ms"),
            baseline: format!("plain SQLite WAL+FULL {mp:.2} ms"),
            target: "≤ 5 ms".into(),
            ok: mo <= 5.0,
        },
        Row {
            what: "save one testimony, ratio to plain SQLite".into(),
            measured: format!("{:.2}×", mo / mp),
            baseline: "1.00×".into(),
            target: "≤ 1.5×".into(),
            ok: mo / mp <= 1.5,
        },
    ])
}

const NAME_QUERIES_PER_KIND: usize = 300;
const TEXT_WORDS: &[&str] = &[
    "лагерь",
    "консульство",
    "WeChat",
    "factory",
    "фабрикаға",
    "паспорт",
    "Ghulja",
    "Кульджа",
    "жауап",
    "confiscated",
    "родственники",
    "political",
    "Үрімші",
    "консулдыққа",
    "камере",
    "brother",
];

fn bench_bulk_and_search(
    root: &Path,
    people: usize,
    testimonies: usize,
) -> anyhow::Result<Vec<Row>> {
    let mut v = open_or_create(&root.join("bulk"), PASS, Some(10))?;
    let t = Instant::now();
    let _ids = kuager_bench::fill(&mut v, 2026, people, 0, 0)?;
    let t_people = t.elapsed();
    let t = Instant::now();
    let ids: Vec<String> = v
        .list(Some(Kind::Person))?
        .into_iter()
        .map(|s| s.id.to_string())
        .collect();
    let mut rng = gen::Rng::new(99);
    let mut bytes = 0usize;
    let src = kuager_bench::LineSource::new(|i| {
        (i < testimonies).then(|| {
            let s = gen::testimony(&mut rng, &ids[i % ids.len()]).to_string();
            bytes += s.len();
            s
        })
    });
    v.add_many(
        Kind::Testimony,
        BufReader::with_capacity(1 << 20, src),
        &mut |_| {},
    )?
    .map_err(|e| anyhow::anyhow!("generated testimonies invalid: {:?}", e.errors.first()))?;
    let t_bulk = t.elapsed();
    let avg = bytes / testimonies.max(1);
    eprintln!(
        "bulk: {people} people in {:.1}s, {testimonies} testimonies (avg {avg} B) in {:.1}s",
        t_people.as_secs_f64(),
        t_bulk.as_secs_f64()
    );

    // Name queries in every script and spelling, full name or a prefix of one word.
    let mut rng = gen::Rng::new(5);
    let mut name_t = Vec::new();
    let mut name_found = 0;
    for _ in 0..NAME_QUERIES_PER_KIND {
        let g = rng.pick(gen::GIVEN);
        let f = rng.pick(gen::FAMILY);
        let q = match rng.below(4) {
            0 => format!("{} {}", g.0, f.0),
            1 => format!("{} {}", g.1, f.1),
            2 => format!("{} {}", g.2, f.2),
            _ => f.2.chars().take(5).collect(),
        };
        let t = Instant::now();
        let hits = v.search(&q, 50)?;
        name_t.push(ms(t.elapsed()));
        name_found += usize::from(!hits.is_empty());
    }
    let mut text_t = Vec::new();
    for i in 0..NAME_QUERIES_PER_KIND {
        let q = TEXT_WORDS[i % TEXT_WORDS.len()];
        let t = Instant::now();
        let hits = v.search(q, 50)?;
        text_t.push(ms(t.elapsed()));
        anyhow::ensure!(!hits.is_empty(), "full-text query {q} found nothing");
    }
    let (pn, pt) = (p95(&mut name_t), p95(&mut text_t));
    // The app's virtualised list: one page of 200 rows anywhere in the list (what a scroll asks
    // for), against summarising the whole list as the app did before pages.
    let mut page_t = Vec::new();
    for i in 0..50usize {
        let offset = (i * 7919) % testimonies.max(1);
        let t = Instant::now();
        let (total, rows) = v.list_page(Some(vault::Kind::Testimony), offset, 200)?;
        page_t.push(ms(t.elapsed()));
        anyhow::ensure!(
            total == testimonies && !rows.is_empty(),
            "list page is short"
        );
    }
    let t = Instant::now();
    let whole = v.list(Some(vault::Kind::Testimony))?.len();
    let t_whole = ms(t.elapsed());
    let pp = p95(&mut page_t);
    let limit_s = 30.0 * testimonies as f64 / 100_000.0;
    Ok(vec![
        Row {
            what: format!("list page of 200 (virtualised list), p95 at {testimonies}"),
            measured: format!("{pp:.1} ms"),
            baseline: format!("whole list of {whole}: {t_whole:.0} ms"),
            target: "≤ 16 ms (one frame)".into(),
            ok: pp <= 16.0,
        },
        Row {
            what: format!(
                "bulk add {testimonies} testimonies (~{:.1} KB)",
                avg as f64 / 1000.0
            ),
            measured: format!("{:.1} s", t_bulk.as_secs_f64()),
            baseline: format!("{people} people first: {:.1} s", t_people.as_secs_f64()),
            target: format!("≤ {limit_s:.0} s"),
            ok: t_bulk.as_secs_f64() <= limit_s,
        },
        Row {
            what: format!("search by name (any script), p95 at {testimonies}"),
            measured: format!("{pn:.1} ms"),
            baseline: format!("{name_found}/{NAME_QUERIES_PER_KIND} queries found someone"),
            target: "≤ 20 ms".into(),
            ok: pn <= 20.0,
        },
        Row {
            what: format!("full-text search, p95 at {testimonies}"),
            measured: format!("{pt:.1} ms"),
            baseline: "50 newest hits".into(),
            target: "≤ 50 ms".into(),
            ok: pt <= 50.0,
        },
    ])
}

/// Child process: attach one file, report seconds and peak RSS (VmHWM).
fn attach_child(dir: &Path, file: &Path) -> anyhow::Result<()> {
    let mut v = open_or_create(dir, PASS, Some(10))?;
    let p = v
        .add(Kind::Person, br#"{"names":[{"value":"Attachment owner"}]}"#)?
        .record;
    let f = std::fs::File::open(file)?;
    let t = Instant::now();
    v.attach(p, f, AttachMeta::default())?;
    let secs = t.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("0");
    println!("secs {secs} hwm_kib {hwm}");
    Ok(())
}

fn bench_attach(root: &Path, size: u64) -> anyhow::Result<Vec<Row>> {
    let file = root.join("big.bin");
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&file)?);
        let mut rng = gen::Rng::new(3);
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..(size >> 20) {
            for c in block.chunks_mut(8) {
                c.copy_from_slice(&rng.next_u64().to_le_bytes());
            }
            w.write_all(&block)?;
        }
    }
    // Warm the page cache for both readers.
    std::io::copy(&mut std::fs::File::open(&file)?, &mut std::io::sink())?;
    let identity_out = Command::new("age-keygen").output();
    let recipient = match identity_out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
            .unwrap_or_default(),
        _ => String::new(),
    };
    anyhow::ensure!(
        !recipient.is_empty(),
        "Go age (age-keygen) is needed for this benchmark: run packaging/linux/deps.sh"
    );
    // Three runs each, alternating, best of three; dirty pages of earlier steps are flushed
    // first so neither side pays for the other's writeback (this disk's speed varies by run).
    let (mut t_age, mut secs, mut hwm_mib) = (f64::MAX, f64::MAX, 0f64);
    for round in 0..3 {
        Command::new("sync").status()?;
        let out = root.join("big.age");
        let t = Instant::now();
        let st = Command::new("age")
            .args(["-r", &recipient, "-o"])
            .arg(&out)
            .arg(&file)
            .status()?;
        anyhow::ensure!(st.success(), "age failed");
        // Go age does not fsync; we do (a save is durable when it returns). Count its sync too.
        std::fs::File::open(&out)?.sync_all()?;
        t_age = t_age.min(t.elapsed().as_secs_f64());
        std::fs::remove_file(&out)?;

        Command::new("sync").status()?;
        let child = Command::new(std::env::current_exe()?)
            .args(["attach-child"])
            .arg(root.join(format!("attach-vault-{round}")))
            .arg(&file)
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        BufReader::new(child.stdout.unwrap()).read_line(&mut line)?;
        let parts: Vec<&str> = line.split_whitespace().collect();
        anyhow::ensure!(parts.len() == 4, "attach child failed: {line:?}");
        secs = secs.min(parts[1].parse()?);
        hwm_mib = hwm_mib.max(parts[3].parse::<f64>()? / 1024.0);
        std::fs::remove_dir_all(root.join(format!("attach-vault-{round}")))?;
    }
    let mib = (size >> 20) as f64;
    let ratio = t_age / secs;
    Ok(vec![
        Row {
            what: format!("attach a {} MiB file, throughput", size >> 20),
            measured: format!("{:.0} MiB/s", mib / secs),
            baseline: format!("Go age {:.0} MiB/s", mib / t_age),
            target: "≥ 1.2× Go age".into(),
            ok: ratio >= 1.2,
        },
        Row {
            what: "attach, ratio to Go age".into(),
            measured: format!("{ratio:.2}×"),
            baseline: "1.00×".into(),
            target: "≥ 1.2×".into(),
            ok: ratio >= 1.2,
        },
        Row {
            what: "attach, peak RSS of the process".into(),
            measured: format!("{hwm_mib:.1} MiB"),
            baseline: "-".into(),
            target: "≤ 64 MiB".into(),
            ok: hwm_mib <= 64.0,
        },
    ])
}

pub(crate) fn hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// The rows as a Markdown table on standard output.
fn print_table(rows: &[Row]) -> std::io::Result<()> {
    let header = ["benchmark", "kuager", "baseline (same run)", "target", "ok"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.what.clone(),
                r.measured.clone(),
                r.baseline.clone(),
                r.target.clone(),
                if r.ok { "yes".into() } else { "NO".into() },
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..5)
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap()
        })
        .collect();
    let line = |c: &[String]| {
        let mut s = String::from("|");
        for (i, x) in c.iter().enumerate() {
            s.push_str(&format!(
                " {}{} |",
                x,
                " ".repeat(widths[i] - x.chars().count())
            ));
        }
        s
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", line(&header.map(String::from)))?;
    writeln!(
        out,
        "|{}|",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("|")
    )?;
    for c in &cells {
        writeln!(out, "{}", line(c))?;
    }
    Ok(())
}
