//! The `stancemine` command: parses arguments, sets up logging and progress,
//! and calls the library. Exit codes: 0 all inputs ok, 1 some inputs failed
//! (see `errors.jsonl`), 2 fatal error (bad arguments, unwritable output).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stancemine: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
