//! Bundles in and out: export to the coordinators, import and inspect what caseworkers sent
//! (docs/bundle-format.md). The work is `crate::bundle`'s; here are the policy checks and the
//! vault's side of it.

use std::path::Path;

use super::lifecycle::check_strength;
use super::{purges, Vault};
use crate::bundle::import::{Mode, Source, Target};
use crate::bundle::{self, ExportOptions, ExportReport, ImportOptions, ImportReport};
use crate::error::{Error, Result};

impl Vault {
    /// Writes a bundle to the configured recipients plus any given in `opts`.
    pub fn export(
        &mut self,
        opts: &ExportOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ExportReport> {
        if let Some(p) = &opts.passphrase {
            self.passphrase_bundles_allowed()?;
            if !opts.extra_recipients.is_empty() {
                return Err(Error::invalid(
                    "passphrase",
                    "a passphrase bundle has the passphrase as its only recipient: add no keys to it",
                ));
            }
            check_strength(p)?;
        }
        let o = self.o()?;
        bundle::export::export(&o.conn, &o.secrets, &self.dir, opts, None, progress)
    }

    /// Imports a bundle: every check of docs/bundle-format.md "Reading", then one
    /// transaction, or nothing (and an audit event either way).
    ///
    /// A purge that arrives for a person merged here with others purges them too, as a purge
    /// made here would ([`Vault::purge`]), and so does a merge that arrives for a person purged
    /// here: the person kept holds copies of the purged one's names and documents.
    pub fn import(&mut self, file: &Path, opts: &ImportOptions) -> Result<ImportReport> {
        self.run_import(Source::File(file), opts, Mode::Import)
    }

    /// Decrypts and checks a bundle and reports what importing it would do, changing nothing.
    /// An unknown signer is reported, not refused.
    pub fn inspect(&mut self, file: &Path, opts: &ImportOptions) -> Result<ImportReport> {
        self.run_import(Source::File(file), opts, Mode::Inspect)
    }

    /// Runs the importer on an already decrypted tar stream, for fuzzing everything after the
    /// age layer (which the C2SP vectors cover). Only in fuzzing builds. Any signer whose
    /// signature holds is trusted, so that a signed seed (fuzz/seeds/import) takes the fuzzer
    /// past the signature into everything format 2 streams after it.
    #[cfg(fuzzing)]
    pub fn fuzz_import_plaintext(&mut self, tar: &[u8]) -> Result<ImportReport> {
        let opts = ImportOptions {
            trust_signer: Some("fuzzing".into()),
            ..Default::default()
        };
        self.run_import(Source::Plain(tar), &opts, Mode::Import)
    }

    fn run_import(
        &mut self,
        source: Source<'_>,
        opts: &ImportOptions,
        mode: Mode,
    ) -> Result<ImportReport> {
        let o = self.o()?;
        let target = Target {
            conn: &o.conn,
            secrets: &o.secrets,
            device: &o.device,
            dir: &self.dir,
            after: Some(&|tx, touched, purged| {
                purges::after_import(tx, &o.device, touched, purged)
            }),
        };
        bundle::import::run(&target, source, opts, mode)
    }
}
