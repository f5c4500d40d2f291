//! The part of an upgrade test's vault no command makes: a draft, as the app keeps one while a
//! narrative is typed. Built against the *previous* release's `vault` crate (copied into its
//! worktree by packaging/linux/test-upgrade.sh, never into this tree's build), so the draft is
//! written by the code that release shipped.
//!
//!   fixture VAULT_DIR RECORD_ID TEXT   (the passphrase in $KUAGER_PASSPHRASE_FILE)

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, record, text] = args.as_slice() else {
        anyhow::bail!("usage: fixture VAULT_DIR RECORD_ID TEXT");
    };
    let pass = std::fs::read_to_string(std::env::var("KUAGER_PASSPHRASE_FILE")?)?;
    let mut v = vault::Vault::open(std::path::Path::new(dir))?;
    v.unlock(&vault::Passphrase::new(pass.trim_end_matches('\n').to_owned()))?;
    let id: vault::RecordId = record.parse()?;
    v.save_draft(&format!("narrative:{id}"), Some(id), text)?;
    println!("fixture: a draft of {id} kept");
    Ok(())
}
