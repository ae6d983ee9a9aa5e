//! The `stancemine` command: parses arguments, sets up logging and progress,
//! and calls the library. Exit codes: 0 all inputs ok, 1 some inputs failed
//! (see `errors.jsonl`), 2 fatal error (bad arguments, unwritable output).

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stancemine: error: {}", render(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, like `{:#}`, but a cause is left
/// out when the message before it already says it: the library's errors
/// name their file and include their OS error, which anyhow would repeat.
fn render(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::render;
    use anyhow::Context;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = stancemine::config::ConfigError::Io {
            path: "t.toml".into(),
            source: io,
        };
        let e = anyhow::Error::new(e).context("cannot load targets");
        assert_eq!(render(&e), "cannot load targets: t.toml: No such file");
        let plain: anyhow::Result<()> = Err(anyhow::anyhow!("inner")).context("outer");
        assert_eq!(render(&plain.unwrap_err()), "outer: inner");
    }
}
