//! `kuager-docs OUT_DIR`: the `kuager` command's manual pages and shell completions, made from
//! the same clap definition the command parses with (src/args.rs), so what is installed can
//! never describe another command than the one installed (packaging/linux/package.sh):
//! - OUT_DIR/man/kuager.1 and kuager-COMMAND.1 for each command (roff, for `man`);
//! - OUT_DIR/completions/kuager.bash, _kuager (zsh), kuager.fish.
//!
//! Not installed itself: a build tool of the packages.

#[path = "../args.rs"]
#[allow(dead_code)] // the commands' fields are read by `kuager`, not here
mod args;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: kuager-docs OUT_DIR");
        return ExitCode::from(2);
    };
    match write(&out) {
        Ok(n) => {
            println!(
                "kuager-docs: {n} manual pages and 3 completions in {}",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kuager-docs: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

fn write(out: &std::path::Path) -> std::io::Result<usize> {
    let cmd = args::Cli::command();
    let man = out.join("man");
    std::fs::create_dir_all(&man)?;
    clap_mangen::generate_to(cmd.clone(), &man)?;
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut cmd.clone(), "kuager", &completions)?;
    }
    Ok(std::fs::read_dir(&man)?.count())
}
