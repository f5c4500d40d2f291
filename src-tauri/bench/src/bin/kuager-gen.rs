//! `kuager-gen`: fills a vault with deterministic synthetic records (kk/ru/en) for demos.
//!
//! `kuager-gen --vault DIR [--people N] [--testimonies N] [--attempts N] [--seed N]`
//! A new vault gets the demo passphrase (printed); an existing one is opened with the passphrase
//! in `KUAGER_PASSPHRASE_FILE`, or the demo passphrase.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    vault::harden::disable_core_dumps();
    let mut args = std::env::args().skip(1);
    let (mut dir, mut people, mut testimonies, mut attempts, mut seed) =
        (None, 50usize, 100usize, 40usize, 2026u64);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--vault" => dir = Some(PathBuf::from(val()?)),
            "--people" => people = val()?.parse()?,
            "--testimonies" => testimonies = val()?.parse()?,
            "--attempts" => attempts = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            other => {
                anyhow::bail!("unknown option {other}; see the comment at the top of kuager-gen.rs")
            }
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("--vault DIR is required"))?;
    let pass = match std::env::var_os("KUAGER_PASSPHRASE_FILE") {
        Some(f) => std::fs::read_to_string(f)?
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned(),
        None => kuager_bench::DEMO_PASSPHRASE.to_owned(),
    };
    let mut v = kuager_bench::open_or_create(&dir, &pass, None)?;
    kuager_bench::fill(&mut v, seed, people.max(1), testimonies, attempts)?;
    println!(
        "{}: added {people} people, {testimonies} testimonies, {attempts} attempts (seed {seed})",
        dir.display()
    );
    if std::env::var_os("KUAGER_PASSPHRASE_FILE").is_none() {
        println!("demo passphrase: {}", kuager_bench::DEMO_PASSPHRASE);
    }
    Ok(())
}
