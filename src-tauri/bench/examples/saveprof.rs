use kuager_bench::{gen, open_or_create};
use std::time::Instant;
use vault::Kind;
fn main() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut v = open_or_create(
        &root.path().join("v"),
        "benchmark vault passphrase",
        Some(10),
    )?;
    let ids = kuager_bench::fill(&mut v, 1, 200, 0, 0)?;
    let mut rng = gen::Rng::new(7);
    let jsons: Vec<String> = (0..20000)
        .map(|i| gen::testimony(&mut rng, &ids[i % ids.len()]).to_string())
        .collect();
    let t = Instant::now();
    for j in &jsons {
        v.add(Kind::Testimony, j.as_bytes())?;
    }
    eprintln!(
        "avg {:.3} ms",
        t.elapsed().as_secs_f64() * 1000.0 / jsons.len() as f64
    );
    let t = Instant::now();
    for j in &jsons {
        vault::model::validate(Kind::Testimony, j.as_bytes())?;
    }
    eprintln!(
        "validate avg {:.3} ms",
        t.elapsed().as_secs_f64() * 1000.0 / jsons.len() as f64
    );
    Ok(())
}
