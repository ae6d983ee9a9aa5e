//! Pipeline: one batch run over many inputs. Each article flows through
//! ingest → segment → NER → actors → stance → holders → store → output; an
//! article the store already holds with the same content and the same
//! pipeline fingerprint is not recomputed, and one whose only change is the
//! stance model keeps its stored entities and actors. Bad inputs are
//! recorded and the run goes on.

use crate::actors::ActorTable;
use crate::aggregate;
use crate::article::ArticleRecord;
use crate::article::Sentence;
use crate::ingest::{self, IngestError, Limits, SourceFile};
use crate::ner::annotate::NerAnnotator;
use crate::output::{ErrorRecord, OutputError, Writer};
use crate::report;
use crate::segment::segment;
use crate::stance::StanceAnnotator;
use crate::store::{Freshness, RunCounts, Store, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;

/// Versions of the rule-based stages; with the models' versions they make
/// the fingerprint a stored record is checked against.
pub const BASE_FINGERPRINT: &str = "ingest-1+segment-1";

/// Version of the holder rules, part of the stance stage's fingerprint.
pub const ATTRIBUTION_VERSION: &str = "holders-3";

/// The NER stage: the model and the alias table that merges its mentions.
pub struct NerStage {
    pub annotator: NerAnnotator,
    pub actors: ActorTable,
}

/// The model stages of a run; each is optional.
#[derive(Default)]
pub struct Stages {
    pub ner: Option<NerStage>,
    pub stance: Option<StanceAnnotator>,
}

impl Stages {
    /// Versions of every stage that shapes a stored record; a change means
    /// stored results are recomputed.
    pub fn fingerprint(&self) -> String {
        let mut f = BASE_FINGERPRINT.to_string();
        if let Some(n) = &self.ner {
            f += &format!(
                "+ner:{}:actors-{}:{}",
                n.annotator.version(),
                n.actors.fingerprint(),
                crate::actors::RESOLVER_VERSION
            );
        }
        if let Some(s) = &self.stance {
            f += "+";
            f += &s.fingerprint();
            f += ":";
            f += ATTRIBUTION_VERSION;
            // Aggregation belongs to the stance part: a change re-stages, keeping entities.
            f += ":";
            f += &aggregate::article::Params::default().fingerprint(&s.targets.0);
        }
        f
    }
}

/// The part of a fingerprint that shapes sentences, entities and actors:
/// when only the rest changed, those are reused from the store.
fn front(fingerprint: &str) -> Vec<&str> {
    fingerprint
        .split('+')
        .filter(|p| !p.starts_with("stance:"))
        .collect()
}

/// Everything a run needs to know.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub inputs: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// Defaults to `<out_dir>/stancemine.sqlite`.
    pub store: Option<PathBuf>,
    pub limits: Limits,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub files: usize,
    pub processed: usize,
    pub unchanged: usize,
    pub duplicates: usize,
    pub failed: usize,
}

/// Errors that stop a whole run (as opposed to one bad input).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot write output: {0}")]
    Output(#[from] OutputError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

/// Receives progress as files are read.
pub trait Progress {
    fn start(&mut self, files: usize);
    fn file_done(&mut self, file: &SourceFile, summary: &RunSummary);
    fn finish(&mut self, summary: &RunSummary);
}

/// No progress reporting (tests, library use).
pub struct Silent;

impl Progress for Silent {
    fn start(&mut self, _: usize) {}
    fn file_done(&mut self, _: &SourceFile, _: &RunSummary) {}
    fn finish(&mut self, _: &RunSummary) {}
}

/// Run the pipeline over `config.inputs`.
pub fn run(
    config: &RunConfig,
    stages: &Stages,
    progress: &mut dyn Progress,
) -> Result<RunSummary, RunError> {
    let fingerprint = stages.fingerprint();
    let mut writer = Writer::create(&config.out_dir)?;
    let store_path = config
        .store
        .clone()
        .unwrap_or_else(|| config.out_dir.join("stancemine.sqlite"));
    let mut store = Store::open(&store_path)?;
    let inputs = config
        .inputs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let run_id = store.begin_run(&inputs, &fingerprint)?;

    let mut summary = RunSummary::default();
    let (files, discovery_errors) = ingest::discover(&config.inputs);
    summary.files = files.len();
    for e in discovery_errors {
        fail(&mut writer, &store, run_id, &mut summary, e)?;
    }
    progress.start(files.len());
    // Article id → source, to spot the same piece read twice in one run.
    let mut seen: HashMap<String, String> = HashMap::new();
    // Articles wait here until enough sentences are queued for the models
    // to batch across articles; records are written in input order.
    let mut queue: Vec<Queued> = Vec::new();
    for file in &files {
        let source_file = file.path.display().to_string();
        let mut ids = Vec::new();
        let mut complete = true;
        for item in ingest::read(file, config.limits) {
            let article = match item {
                Ok(a) => a,
                Err(e) => {
                    complete &= e.line().is_some();
                    fail(&mut writer, &store, run_id, &mut summary, e)?;
                    continue;
                }
            };
            if let Some(first) = seen.get(&article.id) {
                tracing::warn!("{}: same article as {first}; skipped", article.source);
                summary.duplicates += 1;
                continue;
            }
            seen.insert(article.id.clone(), article.source.clone());
            ids.push(article.id.clone());
            let hash = article.content_hash();
            // An unchanged article is written as stored; one whose only change
            // is the stance stage keeps its sentences, entities and actors.
            let (mut unchanged, mut reuse) = (None, None);
            match store.freshness(&article.id, &hash, &fingerprint)? {
                Freshness::Unchanged => unchanged = store.record(&article.id)?,
                Freshness::Restaged(stored) if front(&stored) == front(&fingerprint) => {
                    reuse = store.record(&article.id)?
                }
                _ => {}
            }
            queue.push(match unchanged {
                Some(record) => {
                    tracing::debug!("{}: unchanged", article.source);
                    Queued::Unchanged(record)
                }
                None => Queued::Fresh(prepare(article, stages, reuse, hash, source_file.clone())?),
            });
            if queue_full(&queue) {
                flush(
                    &mut queue,
                    stages,
                    &mut store,
                    run_id,
                    &fingerprint,
                    &mut writer,
                    &mut summary,
                )?;
            }
        }
        // Only a file read to its end says which stored articles it no longer holds.
        if complete {
            let removed = store.remove_stale(&source_file, &ids)?;
            if removed > 0 {
                tracing::info!(
                    "{source_file}: {removed} stored article(s) no longer present, removed"
                );
            }
        }
        progress.file_done(file, &summary);
    }
    flush(
        &mut queue,
        stages,
        &mut store,
        run_id,
        &fingerprint,
        &mut writer,
        &mut summary,
    )?;
    store.finish_run(
        run_id,
        RunCounts {
            processed: summary.processed,
            unchanged: summary.unchanged,
            failed: summary.failed,
        },
    )?;
    // From the store, as `stancemine report` does, so both write the same bytes.
    let report = report::build(&store, &report::Filter::default())?;
    report::write(&report, &config.out_dir)?;
    progress.finish(&summary);
    Ok(summary)
}

/// Sentences queued before the stance model runs: enough for batches of
/// similar lengths across short articles, little memory.
const QUEUE_SENTENCES: usize = 512;
/// Articles queued at most (many unchanged ones among few fresh).
const QUEUE_ARTICLES: usize = 256;

/// Whether the queue holds enough sentences (or articles) to flush.
fn queue_full(queue: &[Queued]) -> bool {
    let sentences: usize = queue
        .iter()
        .map(|q| match q {
            Queued::Fresh(p) => p.sentences.len(),
            Queued::Unchanged(_) => 0,
        })
        .sum();
    sentences >= QUEUE_SENTENCES || queue.len() >= QUEUE_ARTICLES
}

/// An article through segmentation, NER and actors, waiting for stance.
struct Prepared {
    article: crate::article::Article,
    sentences: Vec<Sentence>,
    entities: Vec<crate::article::Entity>,
    actors: Vec<crate::article::Actor>,
    models: std::collections::BTreeMap<String, String>,
    hash: String,
    source_file: String,
}

/// An article waiting for the stance stage (or, unchanged, for its turn
/// to be written).
enum Queued {
    Unchanged(ArticleRecord),
    Fresh(Prepared),
}

/// Segmentation, NER and actors for one article. `reuse` is the stored
/// record of the same content when only the stance stage changed: its
/// sentences, entities and actors are kept.
fn prepare(
    article: crate::article::Article,
    stages: &Stages,
    reuse: Option<ArticleRecord>,
    hash: String,
    source_file: String,
) -> Result<Prepared, RunError> {
    let mut models = std::collections::BTreeMap::new();
    let (sentences, entities, actors) = match reuse {
        Some(r) => {
            tracing::debug!("{}: stance only (entities reused)", article.source);
            if let Some(v) = r.models.get("ner") {
                models.insert("ner".to_string(), v.clone());
            }
            let mut sentences = r.sentences;
            for s in &mut sentences {
                s.stance.clear();
            }
            let mut actors = r.actors;
            for a in &mut actors {
                a.stance.clear();
            }
            (sentences, r.entities, actors)
        }
        None => {
            let sentences = segment(&article.text);
            let (mut entities, mut actors) = (Vec::new(), Vec::new());
            if let Some(ner) = &stages.ner {
                entities = ner.annotator.annotate(&sentences)?;
                actors = ner.actors.resolve(&article.text, &mut entities);
                models.insert("ner".to_string(), ner.annotator.version().to_string());
            }
            (sentences, entities, actors)
        }
    };
    Ok(Prepared {
        article,
        sentences,
        entities,
        actors,
        models,
        hash,
        source_file,
    })
}

/// Run the stance stage over every queued article at once (one batched
/// call), then attribute holders, store and write the records in queue order.
fn flush(
    queue: &mut Vec<Queued>,
    stages: &Stages,
    store: &mut Store,
    run_id: i64,
    fingerprint: &str,
    writer: &mut Writer,
    summary: &mut RunSummary,
) -> Result<(), RunError> {
    if let Some(stance) = &stages.stance {
        // One call over all queued sentences; split back per article.
        let mut all: Vec<Sentence> = Vec::new();
        let mut counts = Vec::new();
        for q in queue.iter_mut() {
            if let Queued::Fresh(p) = q {
                counts.push(p.sentences.len());
                all.append(&mut p.sentences);
            }
        }
        if !all.is_empty() {
            stance.annotate(&mut all)?;
        }
        let mut it = all.into_iter();
        let mut counts = counts.into_iter();
        for q in queue.iter_mut() {
            if let Queued::Fresh(p) = q {
                let n = counts.next().unwrap_or(0);
                p.sentences.extend(it.by_ref().take(n));
                crate::attribution::attribute(&mut p.sentences, &p.entities);
                p.models
                    .insert("stance".to_string(), stance.version().to_string());
            }
        }
    }
    for q in queue.drain(..) {
        match q {
            Queued::Unchanged(record) => {
                writer.article(&record)?;
                summary.unchanged += 1;
            }
            Queued::Fresh(p) => {
                let mut record = ArticleRecord::new(p.article, p.sentences);
                record.entities = p.entities;
                record.actors = p.actors;
                record.models = p.models;
                // Last, once sentences, actors and holders are filled.
                if let Some(stance) = &stages.stance {
                    aggregate::article::aggregate(
                        &mut record,
                        &stance.targets.0,
                        &Default::default(),
                    );
                }
                store.put_article(run_id, &p.source_file, &record, &p.hash, fingerprint)?;
                writer.article(&record)?;
                summary.processed += 1;
            }
        }
    }
    Ok(())
}

fn fail(
    writer: &mut Writer,
    store: &Store,
    run_id: i64,
    summary: &mut RunSummary,
    e: IngestError,
) -> Result<(), RunError> {
    tracing::error!("{e}");
    let source = match e.path() {
        Some(p) => p.display().to_string(),
        None => match &e {
            IngestError::NoText { what } => what.clone(),
            _ => String::new(),
        },
    };
    let record = ErrorRecord {
        source,
        line: e.line(),
        error: e.to_string(),
    };
    store.record_error(run_id, &record.source, record.line, &record.error)?;
    writer.error(&record)?;
    summary.failed += 1;
    Ok(())
}
