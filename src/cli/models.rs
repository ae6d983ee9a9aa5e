//! `stancemine models export`: a trained model as a Hugging Face model
//! directory (config.json with id2label, tokenizer files, full
//! model.safetensors) that `transformers` loads with
//! `BertForSequenceClassification` (stance) or `BertForTokenClassification`
//! (NER) `.from_pretrained`.

use anyhow::{bail, Context};
use stancemine::model::backbone_dir;
use stancemine::model::card::ModelCard;
use stancemine::ner::model::NerModel;
use stancemine::stance::model::StanceModel;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The stancemine model directory (head + card).
    pub model: PathBuf,
    /// Output directory (replaced atomically if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let card = ModelCard::read(&args.model)?;
    let load = |dir: &Path| -> anyhow::Result<(nn::VarStore, String)> {
        Ok(match card.task.as_str() {
            "stance" => {
                let m = StanceModel::load(dir)?;
                let v = m.version().to_string();
                (m.vs, v)
            }
            "ner" => {
                let m = NerModel::load(dir)?;
                let v = m.version().to_string();
                (m.vs, v)
            }
            other => bail!("{}: cannot export a {other} model", dir.display()),
        })
    };
    let (vs, version) =
        load(&args.model).with_context(|| format!("cannot load {}", args.model.display()))?;
    let mut exported = card.clone();
    exported.notes.push(format!(
        "Hugging Face export of {} (full weights: the backbone plus the trained head).",
        args.model.display()
    ));
    let backbone = backbone_dir(&args.model);
    stancemine::model::write_dir(&args.out, exported, |dir| {
        let mut tensors: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().to_kind(Kind::Float).to_device(Device::Cpu)))
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let io = |path: PathBuf| move |source| stancemine::model::ModelError::Io { path, source };
        write_hf_safetensors(&tensors, &dir.join("model.safetensors")).map_err(|e| {
            stancemine::model::ModelError::Invalid {
                path: dir.join("model.safetensors"),
                message: e.to_string(),
            }
        })?;
        std::fs::copy(args.model.join("config.json"), dir.join("config.json"))
            .map_err(io(args.model.join("config.json")))?;
        for f in [
            "tokenizer.json",
            "vocab.txt",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ] {
            let src = backbone.join(f);
            if src.is_file() {
                std::fs::copy(&src, dir.join(f)).map_err(io(src.clone()))?;
            }
        }
        Ok(())
    })?;
    // The export must load as it is, tokenizer and all.
    load(&args.out).context("the exported directory does not load")?;
    tracing::info!(
        "exported {} ({}) to {}",
        args.model.display(),
        version,
        args.out.display()
    );
    Ok(())
}

/// Write f32 tensors as safetensors with the `{"format": "pt"}` metadata
/// that `transformers` requires (tch writes none).
fn write_hf_safetensors(tensors: &[(String, Tensor)], path: &Path) -> anyhow::Result<()> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let values = Vec::<f32>::try_from(t.flatten(0, -1))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        buffers.push((name.clone(), shape, bytes));
    }
    let views = buffers
        .iter()
        .map(|(n, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (n.as_str(), v))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_string(),
        "pt".to_string(),
    )]));
    safetensors::serialize_to_file(views, &metadata, path)?;
    Ok(())
}
