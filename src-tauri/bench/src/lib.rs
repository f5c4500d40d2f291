//! Benchmarks and the demo-data generator for Kuager (not shipped to users).

pub mod gen;

use std::io::{self, Read};
use std::path::Path;

use vault::{CreateOptions, Kind, Passphrase, Vault};

/// The passphrase of demo vaults made by `kuager-gen` (synthetic data only).
pub const DEMO_PASSPHRASE: &str = "demo vault with synthetic data only";

/// A reader producing JSON Lines from a closure without holding them all in memory.
pub struct LineSource<F: FnMut(usize) -> Option<String>> {
    next: F,
    i: usize,
    buf: Vec<u8>,
    pos: usize,
}

impl<F: FnMut(usize) -> Option<String>> LineSource<F> {
    /// Lines `make(0)`, `make(1)`, … until it returns `None`.
    pub fn new(next: F) -> Self {
        LineSource {
            next,
            i: 0,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl<F: FnMut(usize) -> Option<String>> Read for LineSource<F> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            match (self.next)(self.i) {
                Some(line) => {
                    self.i += 1;
                    self.buf = line.into_bytes();
                    self.buf.push(b'\n');
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Fills `v` with `people` persons, `testimonies` testimonies and `attempts` attempts
/// generated from `seed`, each kind in one bulk transaction. Returns the person ids.
pub fn fill(
    v: &mut Vault,
    seed: u64,
    people: usize,
    testimonies: usize,
    attempts: usize,
) -> anyhow::Result<Vec<String>> {
    let mut rng = gen::Rng::new(seed);
    let src = LineSource::new(|i| (i < people).then(|| gen::person(&mut rng, i).to_string()));
    let ids: Vec<String> = v
        .add_many(Kind::Person, io::BufReader::new(src), &mut |_| {})?
        .map_err(|e| anyhow::anyhow!("generated people invalid: {:?}", e.errors.first()))?
        .into_iter()
        .map(|s| s.record.to_string())
        .collect();
    let mut rng = gen::Rng::new(seed ^ 0x7e57);
    let src = LineSource::new(|i| {
        (i < testimonies).then(|| {
            let w = ids[rng.below(ids.len())].clone();
            gen::testimony(&mut rng, &w).to_string()
        })
    });
    v.add_many(
        Kind::Testimony,
        io::BufReader::with_capacity(1 << 20, src),
        &mut |_| {},
    )?
    .map_err(|e| anyhow::anyhow!("generated testimonies invalid: {:?}", e.errors.first()))?;
    let mut rng = gen::Rng::new(seed ^ 0xa77e);
    let src = LineSource::new(|i| {
        (i < attempts).then(|| {
            let p = ids[rng.below(ids.len())].clone();
            gen::attempt(&mut rng, &p).to_string()
        })
    });
    v.add_many(Kind::Attempt, io::BufReader::new(src), &mut |_| {})?
        .map_err(|e| anyhow::anyhow!("generated attempts invalid: {:?}", e.errors.first()))?;
    Ok(ids)
}

/// Opens (or creates, with [`DEMO_PASSPHRASE`] or `passphrase`) a vault.
pub fn open_or_create(
    dir: &Path,
    passphrase: &str,
    work_factor: Option<u8>,
) -> anyhow::Result<Vault> {
    let p = Passphrase::new(passphrase.to_owned());
    if dir.join("vault.json").exists() {
        let mut v = Vault::open(dir)?;
        v.unlock(&p)?;
        Ok(v)
    } else {
        Ok(Vault::create(
            dir,
            &p,
            CreateOptions {
                work_factor,
                ..Default::default()
            },
        )?)
    }
}
