//! What an upgrade must keep that the `kuager` command does not show: the drafts the app keeps
//! (packaging/linux/test-upgrade.sh). Built from this tree (`kuager-bench`'s example
//! `upgrade-check`), the same `vault` code the new package carries.
//!
//!   upgrade-check VAULT_DIR RECORD_ID TEXT   (the passphrase in $KUAGER_PASSPHRASE_FILE)
//!
//! Fails unless the vault opens, its draft of RECORD_ID's narrative is TEXT, and the copy of the
//! database kept before the schema update is there.

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, record, text] = args.as_slice() else {
        anyhow::bail!("usage: upgrade-check VAULT_DIR RECORD_ID TEXT");
    };
    let dir = std::path::Path::new(dir);
    let pass = std::fs::read_to_string(std::env::var("KUAGER_PASSPHRASE_FILE")?)?;
    let mut v = vault::Vault::open(dir)?;
    v.unlock(&vault::Passphrase::new(
        pass.trim_end_matches('\n').to_owned(),
    ))?;
    let id: vault::RecordId = record.parse()?;
    let (body, _) = v
        .draft(&format!("narrative:{id}"))?
        .ok_or_else(|| anyhow::anyhow!("the draft of {id} was lost in the upgrade"))?;
    anyhow::ensure!(
        body == *text,
        "the draft of {id} changed in the upgrade: {body:?}"
    );
    let backups: Vec<_> = std::fs::read_dir(dir.join("backups"))
        .map_err(|e| anyhow::anyhow!("no backups folder after a schema update: {e}"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    anyhow::ensure!(
        backups
            .iter()
            .any(|b| b.starts_with("vault-schema-") && b.ends_with(".db")),
        "no copy of the database before its update: {backups:?}"
    );
    println!("upgrade-check: the draft of {id} is as it was; kept before the update: {backups:?}");
    Ok(())
}
