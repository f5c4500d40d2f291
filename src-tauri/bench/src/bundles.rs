//! Bundles: export of records and attachments vs Go `age` encrypting a tar of the same
//! plaintext; import vs `age -d` of that file; re-import of a bundle already imported — for
//! attachments in one file, in 16, and in 4096 small ones, at 1 GiB and at 10 GiB, through the
//! library and through the `kuager` command. Exports and imports run in child processes so
//! each one's peak memory is its own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kuager_bench::{gen, open_or_create};

use super::{hwm_mib, Row, PASS};

/// The same export or import through the `kuager` command (release build, beside this one),
/// timed from outside: (seconds, the bundle it wrote, if an export).
fn kuager_cli(dir: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<(f64, Option<PathBuf>)> {
    let exe = std::env::current_exe()?.with_file_name("kuager");
    let pass = dir.with_extension("pass");
    std::fs::write(&pass, format!("{PASS}\n"))?;
    let t = Instant::now();
    let out = Command::new(&exe)
        .arg("--vault")
        .arg(dir)
        .args(args)
        .env("KUAGER_PASSPHRASE_FILE", &pass)
        .stdin(std::process::Stdio::null())
        .output()?;
    let secs = t.elapsed().as_secs_f64();
    std::fs::remove_file(&pass)?;
    anyhow::ensure!(
        out.status.success(),
        "{} (build it with `cargo build --release -p kuager-cli`): {}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let path = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.ends_with(".kuager.age"))
        .map(PathBuf::from);
    Ok((secs, path))
}

/// Child process: export everything from the vault in `dir` into folder `out`.
pub(crate) fn export_child(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let mut v = open_or_create(dir, PASS, Some(10))?;
    let t = Instant::now();
    let r = v.export(
        &vault::bundle::ExportOptions {
            scope: vault::bundle::ExportScope::All,
            extra_recipients: vec![],
            confirmed: None,
            output: out.to_owned(),
            armor: false,
            passphrase: None,
            cancel: None,
            limits: Default::default(),
        },
        &mut |_| {},
    )?;
    anyhow::ensure!(r.bundles.len() == 1, "the bench vault fits one bundle");
    println!(
        "secs {} hwm_mib {} path {}",
        t.elapsed().as_secs_f64(),
        hwm_mib(),
        r.bundles[0].path.display()
    );
    Ok(())
}

/// Child process: import `bundle` into the coordinator vault in `dir` (twice: the second is the
/// all-known re-import).
pub(crate) fn import_child(dir: &Path, bundle: &Path) -> anyhow::Result<()> {
    let mut v = open_or_create(dir, PASS, Some(10))?;
    let t = Instant::now();
    let r = v.import(bundle, &Default::default())?;
    let first = t.elapsed().as_secs_f64();
    anyhow::ensure!(r.new_revisions > 0, "nothing imported");
    let t = Instant::now();
    let again = v.import(bundle, &Default::default())?;
    let second = t.elapsed().as_secs_f64();
    anyhow::ensure!(again.new_revisions == 0, "re-import added revisions");
    println!("secs {first} again {second} hwm_mib {}", hwm_mib());
    Ok(())
}

fn child_line(args: &[&std::ffi::OsStr]) -> anyhow::Result<Vec<String>> {
    let out = Command::new(std::env::current_exe()?).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect())
}

/// What the timings start from: a caseworker's vault with records and attachments, a
/// coordinator's trusting it, a plain tar of the same bytes, and a Go `age` key.
struct Setup {
    cw_dir: PathBuf,
    co_dir: PathBuf,
    tar_path: PathBuf,
    mib: f64,
    key_file: PathBuf,
    go_recipient: String,
    /// How many attachment files.
    parts: u64,
}

fn ustar(size: usize) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size as u64);
    h.set_mode(0o600);
    h.set_cksum();
    h
}

fn setup(root: &Path, records: usize, size: u64, parts: u64) -> anyhow::Result<Setup> {
    let cw_dir = root.join("bundle-cw");
    let co_dir = root.join("bundle-coord");
    for d in [&cw_dir, &co_dir] {
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
    }
    let mut cw = open_or_create(&cw_dir, PASS, Some(10))?;
    let mut co = open_or_create(&co_dir, PASS, Some(10))?;
    let org = co.new_identity(Some("org"))?;
    let ok = cw.confirm_passphrase(&vault::Passphrase::new(PASS.into()))?;
    cw.add_recipient(&org.parse()?, None, ok)?;
    co.trust_device(&cw.device_public_key()?.minisign, "caseworker")?;
    let ids = kuager_bench::fill(&mut cw, 11, 500, records, 0)?;
    // Attachments: `parts` files of pseudo-random bytes, `size` in all, also written to a plain
    // tar for the Go age baseline.
    let mut rng = gen::Rng::new(17);
    let tar_path = root.join("same-bytes.tar");
    let mut tar = tar::Builder::new(std::io::BufWriter::new(std::fs::File::create(&tar_path)?));
    for i in 0..parts {
        let mut blob = vec![0u8; (size / parts) as usize];
        for c in blob.chunks_mut(8) {
            let r = rng.next_u64().to_le_bytes();
            c.copy_from_slice(&r[..c.len()]);
        }
        let id: vault::RecordId = ids[i as usize % ids.len()].parse()?;
        cw.attach(id, &blob[..], vault::AttachMeta::default())?;
        tar.append_data(&mut ustar(blob.len()), format!("blobs/{i}"), &blob[..])?;
    }
    // The records, as the bundle carries them (about the same bytes as records.jsonl).
    let rec_bytes: Vec<u8> = cw
        .list(None)?
        .iter()
        .flat_map(|s| {
            serde_json::to_vec(&cw.get(s.id).map(|v| v.heads).unwrap_or_default())
                .unwrap_or_default()
        })
        .collect();
    tar.append_data(&mut ustar(rec_bytes.len()), "records.jsonl", &rec_bytes[..])?;
    tar.into_inner()?.into_inner()?.sync_all()?;
    let mib = std::fs::metadata(&tar_path)?.len() as f64 / (1 << 20) as f64;
    let (key_file, go_recipient) = go_key(root)?;
    Ok(Setup {
        cw_dir,
        co_dir,
        tar_path,
        mib,
        key_file,
        go_recipient,
        parts,
    })
}

/// Reads every file under `dir` once, into the page cache.
fn warm(dir: &Path) -> anyhow::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            warm(&p)?;
        } else {
            std::io::copy(&mut std::fs::File::open(&p)?, &mut std::io::sink())?;
        }
    }
    Ok(())
}

/// A key from `age-keygen`: its file and its public key.
fn go_key(root: &Path) -> anyhow::Result<(PathBuf, String)> {
    let key_file = root.join("org-age.key");
    let _ = std::fs::remove_file(&key_file);
    let k = Command::new("age-keygen")
        .args(["-o"])
        .arg(&key_file)
        .output()?;
    anyhow::ensure!(k.status.success(), "age-keygen failed");
    let keyfile_text = std::fs::read_to_string(&key_file)?;
    let go_recipient = keyfile_text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap_or_default()
        .to_owned();
    Ok((key_file, go_recipient))
}

/// Go `age -r` of `input` into `out`, synced; its time in seconds.
fn go_encrypt(s: &Setup, input: &Path, out: &Path) -> anyhow::Result<f64> {
    let t = Instant::now();
    let st = Command::new("age")
        .args(["-r", &s.go_recipient, "-o"])
        .arg(out)
        .arg(input)
        .status()?;
    anyhow::ensure!(st.success(), "age failed");
    std::fs::File::open(out)?.sync_all()?;
    Ok(t.elapsed().as_secs_f64())
}

/// The best of two exports and of two Go age encryptions of the same bytes: (export, Go age,
/// export's peak RSS, the bundle).
fn time_exports(root: &Path, s: &Setup) -> anyhow::Result<(f64, f64, f64, PathBuf)> {
    let (mut t_export, mut t_go_enc, mut hwm) = (f64::MAX, f64::MAX, 0f64);
    let mut bundle = PathBuf::new();
    for round in 0..2 {
        Command::new("sync").status()?;
        let out = root.join(format!("age-out-{round}"));
        t_go_enc = t_go_enc.min(go_encrypt(s, &s.tar_path, &out)?);
        std::fs::remove_file(&out)?;
        Command::new("sync").status()?;
        if round > 0 {
            // Room on the disk: the earlier round's bundle is not needed again.
            std::fs::remove_dir_all(root.join(format!("bundles-{}", round - 1)))?;
        }
        let dest = root.join(format!("bundles-{round}"));
        std::fs::create_dir_all(&dest)?;
        // Both inputs from the page cache: Go age's tar was just written through it, the
        // vault's attachments were written around it (O_DIRECT), so read them once first.
        warm(&s.cw_dir)?;
        let line = child_line(&[
            "export-child".as_ref(),
            s.cw_dir.as_os_str(),
            dest.as_os_str(),
        ])?;
        t_export = t_export.min(line[1].parse()?);
        hwm = hwm.max(line[3].parse()?);
        bundle = PathBuf::from(&line[5]);
    }
    Ok((t_export, t_go_enc, hwm, bundle))
}

/// The best of two imports (into a fresh copy of the coordinator each round) and of two Go
/// `age -d` of an age file of the same bytes (Go age cannot open our bundle with a key kept
/// inside the vault): (import, Go age -d, re-import, import's peak RSS).
///
/// The coordinator copies are removed by the caller, after the last import, when `parts` is
/// large: ext4 does not reuse an inode for about a minute after its file is deleted, and a new
/// file's inode is found by scanning past them, so 4096 files deleted just before an import of
/// 4096 more made a third of that import's CPU (`recently_deleted` in a profile) — a cost of
/// the benchmark's own clean-up, which no coordinator's machine pays.
fn time_imports(
    root: &Path,
    s: &Setup,
    bundle: &Path,
    later: &mut Vec<PathBuf>,
) -> anyhow::Result<(f64, f64, f64, f64)> {
    let enc = root.join("go-bundle.age");
    go_encrypt(s, &s.tar_path, &enc)?;
    // Room on the disk (10 GiB runs): the tar is not needed again.
    std::fs::remove_file(&s.tar_path)?;
    let (mut t_import, mut t_go_dec, mut t_again, mut hwm) = (f64::MAX, f64::MAX, f64::MAX, 0f64);
    for round in 0..2 {
        let co_copy = root.join(format!("bundle-coord-{round}"));
        let cp = Command::new("cp")
            .arg("-a")
            .arg(&s.co_dir)
            .arg(&co_copy)
            .status()?;
        anyhow::ensure!(cp.success());
        Command::new("sync").status()?;
        // Both inputs from the page cache: Go age's was just written through it, ours was
        // written around it (O_DIRECT), so read it once first.
        std::io::copy(&mut std::fs::File::open(bundle)?, &mut std::io::sink())?;
        let line = child_line(&[
            "import-child".as_ref(),
            co_copy.as_os_str(),
            bundle.as_os_str(),
        ])?;
        t_import = t_import.min(line[1].parse()?);
        t_again = t_again.min(line[3].parse()?);
        hwm = hwm.max(line[5].parse()?);
        if s.parts > 16 {
            later.push(co_copy);
        } else {
            std::fs::remove_dir_all(&co_copy)?;
        }
        Command::new("sync").status()?;
        let plain = root.join("go-decrypted");
        let t = Instant::now();
        let st = Command::new("age")
            .args(["-d", "-i"])
            .arg(&s.key_file)
            .arg("-o")
            .arg(&plain)
            .arg(&enc)
            .status()?;
        anyhow::ensure!(st.success(), "age -d failed");
        std::fs::File::open(&plain)?.sync_all()?;
        t_go_dec = t_go_dec.min(t.elapsed().as_secs_f64());
        std::fs::remove_file(&plain)?;
    }
    Ok((t_import, t_go_dec, t_again, hwm))
}

/// What one mix measured.
struct Mix {
    mib: f64,
    export: f64,
    go_enc: f64,
    export_hwm: f64,
    import: f64,
    go_dec: f64,
    again: f64,
    import_hwm: f64,
    cli_export: f64,
    cli_import: f64,
}

/// Export, import and re-import of `records` testimonies and `size` bytes of attachments in
/// `parts` files, each side by side with Go age on the same bytes, through the library and
/// the `kuager` command. Leaves nothing behind in `root`.
fn measure(root: &Path, records: usize, size: u64, parts: u64) -> anyhow::Result<Mix> {
    let s = setup(root, records, size, parts)?;
    let (export, go_enc, export_hwm, bundle) = time_exports(root, &s)?;
    let mut later = Vec::new();
    let (import, go_dec, again, import_hwm) = time_imports(root, &s, &bundle, &mut later)?;
    std::fs::remove_file(&bundle)?;
    // Through the command: the caseworker exports, a copy of the coordinator imports.
    let dest = root.join("bundles-cli");
    std::fs::create_dir_all(&dest)?;
    warm(&s.cw_dir)?;
    let (cli_export, cli_bundle) = kuager_cli(
        &s.cw_dir,
        &[
            "export".as_ref(),
            "--all".as_ref(),
            "-o".as_ref(),
            dest.as_os_str(),
        ],
    )?;
    let cli_bundle = cli_bundle.ok_or_else(|| anyhow::anyhow!("kuager export named no file"))?;
    let co_copy = root.join("bundle-coord-cli");
    anyhow::ensure!(Command::new("cp")
        .arg("-a")
        .arg(&s.co_dir)
        .arg(&co_copy)
        .status()?
        .success());
    Command::new("sync").status()?;
    std::io::copy(&mut std::fs::File::open(&cli_bundle)?, &mut std::io::sink())?;
    let (cli_import, _) = kuager_cli(&co_copy, &["import".as_ref(), cli_bundle.as_os_str()])?;
    let mix = Mix {
        mib: s.mib,
        export,
        go_enc,
        export_hwm,
        import,
        go_dec,
        again,
        import_hwm,
        cli_export,
        cli_import,
    };
    if std::env::var_os("KUAGER_BENCH_KEEP").is_some() {
        eprintln!(
            "kuager-bench: kept {} and {}",
            s.cw_dir.display(),
            cli_bundle.display()
        );
        return Ok(mix);
    }
    for d in [&dest, &co_copy, &s.cw_dir, &s.co_dir]
        .into_iter()
        .chain(&later)
    {
        std::fs::remove_dir_all(d)?;
    }
    for round in 0..2 {
        let _ = std::fs::remove_dir_all(root.join(format!("bundles-{round}")));
    }
    let _ = std::fs::remove_file(root.join("go-bundle.age"));
    Ok(mix)
}

fn gib(size: u64) -> String {
    format!("{:.0} GiB", size as f64 / (1u64 << 30) as f64)
}

/// The rows of one mix, named `what`.
fn mix_rows(what: &str, m: &Mix, again: bool) -> Vec<Row> {
    let mut rows = vec![
        Row {
            what: format!("export, {what}"),
            measured: format!(
                "{:.0} MiB/s ({:.2}×)",
                m.mib / m.export,
                m.go_enc / m.export
            ),
            baseline: format!("Go age on a tar of it {:.0} MiB/s", m.mib / m.go_enc),
            target: "≥ 0.95× Go age".into(),
            ok: m.go_enc / m.export >= 0.95,
        },
        Row {
            what: format!("import, {what}"),
            measured: format!(
                "{:.0} MiB/s ({:.2}×)",
                m.mib / m.import,
                m.go_dec / m.import
            ),
            baseline: format!("Go age -d {:.0} MiB/s", m.mib / m.go_dec),
            target: "≥ 0.85× Go age -d".into(),
            ok: m.go_dec / m.import >= 0.85,
        },
        Row {
            what: format!("export / import peak RSS, {what}"),
            measured: format!("{:.1} / {:.1} MiB", m.export_hwm, m.import_hwm),
            baseline: "-".into(),
            target: "≤ 64 MiB each".into(),
            ok: m.export_hwm <= 64.0 && m.import_hwm <= 64.0,
        },
        Row {
            what: format!("`kuager export` / `kuager import`, {what}"),
            measured: format!(
                "{:.2}× / {:.2}× Go age",
                m.go_enc / m.cli_export,
                m.go_dec / m.cli_import
            ),
            baseline: format!(
                "{:.2} s / {:.2} s (process start, unlock included)",
                m.cli_export, m.cli_import
            ),
            target: "≥ 0.95× / ≥ 0.85×".into(),
            ok: m.go_enc / m.cli_export >= 0.95 && m.go_dec / m.cli_import >= 0.85,
        },
    ];
    if again {
        rows.push(Row {
            what: format!("re-import (all records known), {what}"),
            measured: format!("{:.2} s", m.again),
            baseline: "-".into(),
            target: "≤ 2 s".into(),
            ok: m.again <= 2.0,
        });
    }
    rows
}

/// Every bundle figure of docs/benchmarks.md: `records` testimonies with `size` bytes of
/// attachments in 16 files, in one, and in 4096; then ten times the bytes (`large`), whose
/// time must grow linearly and memory not at all.
pub(crate) fn bench_bundles(
    root: &Path,
    records: usize,
    size: u64,
    large: bool,
) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    // KUAGER_BENCH_PARTS=N: the mix with N files alone (for working on one figure).
    if let Some(parts) = std::env::var("KUAGER_BENCH_PARTS")
        .ok()
        .and_then(|p| p.parse().ok())
    {
        let m = measure(root, records, size, parts)?;
        rows.extend(mix_rows(
            &format!("{records} records + {} in {parts} files", gib(size)),
            &m,
            true,
        ));
        return Ok(rows);
    }
    let base = measure(root, records, size, 16)?;
    rows.extend(mix_rows(
        &format!("{records} records + {} in 16 files", gib(size)),
        &base,
        true,
    ));
    for parts in [1, 4096] {
        let m = measure(root, records, size, parts)?;
        let what = format!(
            "{records} records + {} in {parts} file{}",
            gib(size),
            if parts == 1 { "" } else { "s" }
        );
        rows.extend(mix_rows(&what, &m, false));
    }
    if large {
        let m = measure(root, records, size * 10, 16)?;
        rows.extend(mix_rows(
            &format!("{records} records + {} in 16 files", gib(size * 10)),
            &m,
            false,
        ));
        let (e, i) = (
            m.export / (10.0 * base.export),
            m.import / (10.0 * base.import),
        );
        rows.push(Row {
            what: format!("{} vs 10 × {}: time", gib(size * 10), gib(size)),
            measured: format!("export {e:.2}×, import {i:.2}×"),
            baseline: format!(
                "{:.1} s / {:.1} s at {}",
                base.export,
                base.import,
                gib(size)
            ),
            target: "≤ 1.1×".into(),
            ok: e <= 1.1 && i <= 1.1,
        });
        rows.push(Row {
            what: format!("{} vs {}: peak RSS", gib(size * 10), gib(size)),
            measured: format!("{:.1} / {:.1} MiB", m.export_hwm, m.import_hwm),
            baseline: format!("{:.1} / {:.1} MiB", base.export_hwm, base.import_hwm),
            target: "flat (≤ +8 MiB)".into(),
            ok: m.export_hwm <= base.export_hwm + 8.0 && m.import_hwm <= base.import_hwm + 8.0,
        });
    }
    Ok(rows)
}
