//! Progress: a bar with count and ETA on a terminal, plain log lines
//! otherwise (CI, cron, redirected output).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stancemine::ingest::SourceFile;
use stancemine::pipeline::{Progress, RunSummary};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The bar log lines must print above, when there is one.
static BAR: OnceLock<ProgressBar> = OnceLock::new();

pub fn for_terminal(quiet: bool) -> Box<dyn Progress> {
    if !quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let _ = BAR.set(bar.clone());
        Box::new(Bar(bar))
    } else {
        Box::new(Lines {
            total: 0,
            done: 0,
            last: Instant::now(),
            started: Instant::now(),
            quiet,
        })
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&mut self, files: usize) {
        self.0.set_length(files as u64);
    }
    fn file_done(&mut self, _: &SourceFile, s: &RunSummary) {
        self.0.set_message(format!(
            "{} new/changed, {} unchanged, {} failed",
            s.processed, s.unchanged, s.failed
        ));
        self.0.inc(1);
    }
    fn finish(&mut self, s: &RunSummary) {
        self.0.finish_and_clear();
        report(s);
    }
}

struct Lines {
    total: usize,
    done: usize,
    last: Instant,
    started: Instant,
    quiet: bool,
}

impl Progress for Lines {
    fn start(&mut self, files: usize) {
        self.total = files;
        if !self.quiet {
            tracing::info!("reading {files} input file(s)");
        }
    }
    fn file_done(&mut self, _: &SourceFile, s: &RunSummary) {
        self.done += 1;
        if !self.quiet && self.last.elapsed() >= Duration::from_secs(10) {
            self.last = Instant::now();
            let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-9);
            let eta = (self.total - self.done) as f64 / rate.max(1e-9);
            tracing::info!(
                "{}/{} files, {} new/changed, {} unchanged, {} failed, ETA {:.0}s",
                self.done,
                self.total,
                s.processed,
                s.unchanged,
                s.failed,
                eta
            );
        }
    }
    fn finish(&mut self, s: &RunSummary) {
        if !self.quiet {
            report(s);
        }
    }
}

fn report(s: &RunSummary) {
    tracing::info!(
        "done: {} file(s); {} article(s) processed, {} unchanged (skipped), {} duplicate(s), {} failed",
        s.files,
        s.processed,
        s.unchanged,
        s.duplicates,
        s.failed
    );
}

/// Log output that does not tear the progress bar.
#[derive(Clone, Copy)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match BAR.get() {
            Some(bar) => {
                bar.suspend(|| std::io::stderr().write_all(buf))?;
                Ok(buf.len())
            }
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}
