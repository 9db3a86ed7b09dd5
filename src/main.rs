//! The `vercel-oidc` command. Everything but argument parsing lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
