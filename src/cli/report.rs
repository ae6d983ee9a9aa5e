//! `stancemine report` (reports from a store, no model) and
//! `stancemine eval articles` (article stances against gold).

use anyhow::Context;
use clap::Args;
use stancemine::aggregate::eval::{self, GoldArticle, GoldSentence};
use stancemine::article::ArticleRecord;
use stancemine::report::{self, Filter};
use stancemine::store::Store;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// SQLite store written by `stancemine run`.
    #[arg(long)]
    store: PathBuf,
    /// Folder for report.json, report.md and report.html.
    #[arg(long, short, default_value = "out")]
    out: PathBuf,
    /// Only this target.
    #[arg(long)]
    target: Option<String>,
    /// Only articles dated on or after this date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Only articles dated on or before this date.
    #[arg(long)]
    to: Option<String>,
}

pub fn report(args: ReportArgs) -> anyhow::Result<()> {
    let filter = Filter {
        target: args.target,
        from: args.from,
        to: args.to,
    };
    filter.validate()?;
    // Opening creates a missing store; a report of nothing helps no one.
    if !args.store.is_file() {
        anyhow::bail!("--store {}: no such file", args.store.display());
    }
    let store = Store::open(&args.store)?;
    let r = report::build(&store, &filter)
        .with_context(|| format!("cannot build a report from {}", args.store.display()))?;
    if let Some(t) = &filter.target {
        if r.targets.is_empty() {
            tracing::warn!("target {t} has no stance results in the store");
        }
    }
    report::write(&r, &args.out)?;
    tracing::info!(
        "report of {} articles written to {}/report.{{json,md,html}}",
        r.articles_total,
        args.out.display()
    );
    Ok(())
}

#[derive(Args)]
pub struct EvalArticlesArgs {
    /// Gold files (JSONL: article, gold.<target>.author_stance and .actors).
    #[arg(long, required = true, num_args = 1..)]
    gold: Vec<PathBuf>,
    /// articles.jsonl written by `stancemine run`.
    #[arg(long, conflicts_with = "store", required_unless_present = "store")]
    articles: Option<PathBuf>,
    /// …or the store.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Labelled sentences with holders (e.g. data/stance/test.jsonl) for holder accuracy.
    #[arg(long)]
    holders: Option<PathBuf>,
}

pub fn eval_articles(args: EvalArticlesArgs) -> anyhow::Result<()> {
    let records: Vec<ArticleRecord> = match (&args.articles, &args.store) {
        (Some(p), _) => eval::read_jsonl(p)?,
        (None, Some(s)) => {
            if !s.is_file() {
                anyhow::bail!("--store {}: no such file", s.display());
            }
            Store::open(s)?.records()?
        }
        (None, None) => unreachable!("clap requires --articles or --store"),
    };
    let mut gold: Vec<GoldArticle> = Vec::new();
    for g in &args.gold {
        gold.extend(eval::read_jsonl::<GoldArticle>(g)?);
    }
    let sentences: Option<Vec<GoldSentence>> =
        args.holders.as_deref().map(eval::read_jsonl).transpose()?;
    let result = eval::evaluate(&records, &gold, sentences.as_deref());
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
