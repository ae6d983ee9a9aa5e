//! The MiniLM/BERT encoder assembled from rust-bert's BERT modules, layer by
//! layer, so training can run the frozen lower layers once and cache their
//! output, and train only the top layers and a head.

use rust_bert::bert::{BertConfig, BertEmbedding, BertEmbeddings, BertLayer, BertPooler};
use std::ops::Range;
use tch::{nn, Kind, Tensor};

/// BERT embeddings, transformer layers and (optionally) the pooler, with
/// Hugging Face variable names under the path it is built at (`bert.…`).
pub struct Encoder {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
    pooler: Option<BertPooler>,
}

impl Encoder {
    pub fn new(p: &nn::Path, config: &BertConfig, with_pooler: bool) -> Encoder {
        let layers = (0..config.num_hidden_layers)
            .map(|i| BertLayer::new(&(p / "encoder" / "layer" / i), config))
            .collect();
        Encoder {
            embeddings: BertEmbeddings::new(p / "embeddings", config),
            layers,
            pooler: with_pooler.then(|| BertPooler::new(p / "pooler", config)),
        }
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Token embeddings for `ids` (batch × length) and segment ids.
    pub fn embed(&self, ids: &Tensor, type_ids: &Tensor, train: bool) -> Tensor {
        self.embeddings
            .forward_t(Some(ids), Some(type_ids), None, None, train)
            // Only fails when neither ids nor embeddings are given.
            .expect("input ids are given")
    }

    /// The additive attention mask the layers expect: 0 for tokens, -10000
    /// for padding, shaped batch × 1 × 1 × length.
    pub fn attention_bias(mask: &Tensor) -> Tensor {
        (mask.to_kind(Kind::Float).ones_like() - mask.to_kind(Kind::Float))
            .unsqueeze(1)
            .unsqueeze(1)
            * -10000.0
    }

    /// Run layers `range` over hidden states.
    pub fn layers(
        &self,
        hidden: &Tensor,
        bias: &Tensor,
        range: Range<usize>,
        train: bool,
    ) -> Tensor {
        let mut h = hidden.shallow_clone();
        for layer in &self.layers[range] {
            h = layer
                .forward_t(&h, Some(bias), None, None, train)
                .hidden_state;
        }
        h
    }

    /// The whole encoder: last hidden states (batch × length × hidden).
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let h = self.embed(ids, type_ids, train);
        self.layers(&h, &Self::attention_bias(mask), 0..self.layers.len(), train)
    }

    /// BERT's pooled [CLS] vector; panics if built without a pooler.
    pub fn pool(&self, hidden: &Tensor) -> Tensor {
        self.pooler
            .as_ref()
            .expect("encoder built with a pooler")
            .forward(hidden)
    }
}

/// Why a fused forward cannot be built over a variable store.
#[derive(Debug, thiserror::Error)]
pub enum FusedError {
    #[error("variable {0} missing")]
    Missing(String),
    #[error("activation {0:?} has no fused form (only gelu)")]
    Activation(String),
}

/// One transformer layer's weights for [`FusedEncoder`].
struct FusedLayer {
    /// Q, K and V stacked into one (3·hidden × hidden) linear.
    qkv: Linear,
    out: Linear,
    ln1_w: Tensor,
    ln1_b: Tensor,
    up: Linear,
    down: Linear,
    ln2_w: Tensor,
    ln2_b: Tensor,
}

/// A linear layer of the fused forward: f32 weights, or int8 weights with
/// activations quantised to 8 bits per call (dynamic quantisation, fbgemm
/// kernels: 2–3× the f32 matmul rate on this CPU).
enum Linear {
    F32 {
        w: Tensor,
        b: Tensor,
    },
    Int8 {
        /// Weights as int8 (out × in), one symmetric scale per output row.
        q: Tensor,
        /// `q` packed for fbgemm.
        packed: Tensor,
        /// Per output row, the sum of its int8 weights (fbgemm's column
        /// offsets for a zero point of 0).
        col_offsets: Tensor,
        /// Per output row, the weight scale.
        scales: Tensor,
        b: Tensor,
        /// Zeros: the kernel adds a bias before our per-row scaling.
        zero_bias: Tensor,
    },
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        match self {
            Linear::F32 { w, b } => x.linear(w, Some(b)),
            Linear::Int8 {
                q,
                packed,
                col_offsets,
                scales,
                b,
                zero_bias,
            } => {
                // fbgemm's kernel takes one weight scale; scaling the output
                // columns afterwards gives each row its own.
                let y = x.contiguous().fbgemm_linear_int8_weight_fp32_activation(
                    q,
                    packed,
                    col_offsets,
                    tch::Scalar::float(1.0),
                    tch::Scalar::int(0),
                    zero_bias,
                );
                y * scales + b
            }
        }
    }

    /// Switch an f32 layer to int8 in place: each output row's largest
    /// weight mapped to ±127 (one scale per row keeps small rows precise).
    /// An int8 layer stays as it is.
    fn quantize_int8(&mut self) {
        let Linear::F32 { w, b } = self else {
            return;
        };
        let scales = (w.abs().amax([1], true) / 127.0).clamp_min(1e-12);
        let q = (&*w / &scales)
            .round()
            .clamp(-127.0, 127.0)
            .to_kind(Kind::Int8)
            .contiguous();
        let col_offsets = q
            .to_kind(Kind::Int)
            .sum_dim_intlist(1, false, Kind::Int)
            .contiguous();
        *self = Linear::Int8 {
            packed: q.fbgemm_pack_quantized_matrix(),
            q,
            col_offsets,
            scales: scales.squeeze_dim(1),
            zero_bias: b.zeros_like(),
            b: b.shallow_clone(),
        };
    }

    fn is_int8(&self) -> bool {
        matches!(self, Linear::Int8 { .. })
    }
}

/// Which linears [`FusedEncoder::quantize_int8`] switches to int8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Int8Scope {
    /// QKV, attention output and both feed-forward linears.
    All,
    /// All but the feed-forward down-projection, whose input (the GELU
    /// output: sparse, with a long tail) loses the most to 8-bit
    /// activations; it is a third of the linears' work.
    KeepDownF32,
}

impl Int8Scope {
    /// What a model version gains when run this way.
    pub fn version_suffix(self) -> &'static str {
        match self {
            Int8Scope::All => "+int8",
            Int8Scope::KeepDownF32 => "+int8-down-f32",
        }
    }
}

/// An inference-only forward over the same weights as [`Encoder`]: one
/// fused QKV matmul, libtorch's native GELU and `scaled_dot_product_attention`
/// instead of rust-bert's erf expression, three linears and explicit
/// softmax attention (20–35 % slower on CPU). Training keeps rust-bert's
/// modules; a test checks both forwards agree.
pub struct FusedEncoder {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    ln_w: Tensor,
    ln_b: Tensor,
    layers: Vec<FusedLayer>,
    pooler: Option<(Tensor, Tensor)>,
    heads: i64,
    hidden: i64,
}

/// BERT's LayerNorm epsilon (rust-bert and Hugging Face both use 1e-12).
const LN_EPS: f64 = 1e-12;

impl FusedEncoder {
    /// Build from the variables of a loaded model under `prefix` (`bert.`).
    /// Tensors are shared with the store except the stacked QKV weights.
    pub fn from_vars(
        vs: &nn::VarStore,
        prefix: &str,
        config: &BertConfig,
    ) -> Result<FusedEncoder, FusedError> {
        let act = format!("{:?}", config.hidden_act);
        if act != "gelu" {
            return Err(FusedError::Activation(act));
        }
        let vars = vs.variables();
        let get = |name: String| -> Result<Tensor, FusedError> {
            let full = format!("{prefix}{name}");
            vars.get(&full)
                .map(|t| t.detach())
                .ok_or(FusedError::Missing(full))
        };
        let layers = (0..config.num_hidden_layers)
            .map(|i| -> Result<FusedLayer, FusedError> {
                let l = |n: &str| get(format!("encoder.layer.{i}.{n}"));
                let qkv = |part: &str| -> Result<Tensor, FusedError> {
                    let w: Vec<Tensor> = ["query", "key", "value"]
                        .iter()
                        .map(|q| l(&format!("attention.self.{q}.{part}")))
                        .collect::<Result<_, _>>()?;
                    Ok(Tensor::cat(&w, 0))
                };
                let linear = |n: &str| -> Result<Linear, FusedError> {
                    Ok(Linear::F32 {
                        w: l(&format!("{n}.weight"))?,
                        b: l(&format!("{n}.bias"))?,
                    })
                };
                Ok(FusedLayer {
                    qkv: Linear::F32 {
                        w: qkv("weight")?,
                        b: qkv("bias")?,
                    },
                    out: linear("attention.output.dense")?,
                    ln1_w: l("attention.output.LayerNorm.weight")?,
                    ln1_b: l("attention.output.LayerNorm.bias")?,
                    up: linear("intermediate.dense")?,
                    down: linear("output.dense")?,
                    ln2_w: l("output.LayerNorm.weight")?,
                    ln2_b: l("output.LayerNorm.bias")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let pooler = match (
            get("pooler.dense.weight".into()),
            get("pooler.dense.bias".into()),
        ) {
            (Ok(w), Ok(b)) => Some((w, b)),
            _ => None,
        };
        Ok(FusedEncoder {
            word: get("embeddings.word_embeddings.weight".into())?,
            position: get("embeddings.position_embeddings.weight".into())?,
            token_type: get("embeddings.token_type_embeddings.weight".into())?,
            ln_w: get("embeddings.LayerNorm.weight".into())?,
            ln_b: get("embeddings.LayerNorm.bias".into())?,
            layers,
            pooler,
            heads: config.num_attention_heads,
            hidden: config.hidden_size,
        })
    }

    /// Last hidden states (batch × length × hidden) for ids, segment ids
    /// and a 1/0 mask (batch × length). Call inside `tch::no_grad`.
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Tensor {
        let (b, n) = ids.size2().expect("ids are batch × length");
        let positions = Tensor::arange(n, (Kind::Int64, ids.device()));
        let h = Tensor::embedding(&self.word, ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false)
            + Tensor::embedding(&self.token_type, type_ids, -1, false, false);
        let mut h = h.layer_norm(
            [self.hidden],
            Some(&self.ln_w),
            Some(&self.ln_b),
            LN_EPS,
            false,
        );
        let bias = Encoder::attention_bias(mask);
        let head = self.hidden / self.heads;
        for l in &self.layers {
            // batch × length × (q|k|v, heads, head) → 3 × batch × heads × length × head
            let qkv = l
                .qkv
                .forward(&h)
                .view([b, n, 3, self.heads, head])
                .permute([2, 0, 3, 1, 4]);
            let ctx = Tensor::scaled_dot_product_attention(
                &qkv.get(0),
                &qkv.get(1),
                &qkv.get(2),
                Some(&bias),
                0.0,
                false,
                None::<f64>,
            )
            .transpose(1, 2)
            .reshape([b, n, self.hidden]);
            let a = (l.out.forward(&ctx) + &h).layer_norm(
                [self.hidden],
                Some(&l.ln1_w),
                Some(&l.ln1_b),
                LN_EPS,
                false,
            );
            let up = l.up.forward(&a).gelu("none");
            h = (l.down.forward(&up) + a).layer_norm(
                [self.hidden],
                Some(&l.ln2_w),
                Some(&l.ln2_b),
                LN_EPS,
                false,
            );
        }
        h
    }

    /// Switch the transformer layers' linears (QKV, attention output, the
    /// two feed-forward ones; not the down-projection with
    /// [`Int8Scope::KeepDownF32`]) to int8 weights with dynamically quantised
    /// activations. Embeddings, LayerNorms, attention, pooler and heads stay
    /// f32. Outputs change slightly: see the README for the accuracy cost.
    pub fn quantize_int8(&mut self, scope: Int8Scope) {
        for l in &mut self.layers {
            for linear in [&mut l.qkv, &mut l.out, &mut l.up] {
                linear.quantize_int8();
            }
            if scope == Int8Scope::All {
                l.down.quantize_int8();
            }
        }
    }

    /// Whether [`Self::quantize_int8`] was applied.
    pub fn is_int8(&self) -> bool {
        self.layers.iter().any(|l| l.qkv.is_int8())
    }

    /// BERT's pooled [CLS] vector; panics if the store had no pooler.
    pub fn pool(&self, hidden: &Tensor) -> Tensor {
        let (w, b) = self.pooler.as_ref().expect("encoder built with a pooler");
        hidden.select(1, 0).linear(w, Some(b)).tanh()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_config() -> BertConfig {
        BertConfig {
            hidden_size: 32,
            intermediate_size: 64,
            num_attention_heads: 4,
            num_hidden_layers: 2,
            vocab_size: 50,
            max_position_embeddings: 16,
            ..BertConfig::default()
        }
    }

    #[test]
    fn fused_forward_matches_rust_bert() {
        tch::manual_seed(7);
        let config = tiny_config();
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let enc = Encoder::new(&(vs.root() / "bert"), &config, true);
        // LayerNorms start at 1/0: perturb every variable so a mix-up of
        // weights (e.g. Q and K swapped) would show.
        tch::no_grad(|| {
            for (_, mut v) in vs.variables() {
                let noise = v.randn_like() * 0.1;
                let _ = v.g_add_(&noise);
            }
        });
        let fused = FusedEncoder::from_vars(&vs, "bert.", &config).expect("all variables");
        let ids = Tensor::from_slice(&[5i64, 9, 17, 3, 0, 0, 8, 2, 40, 11, 12, 1]).view([2, 6]);
        let types = Tensor::from_slice(&[0i64, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1]).view([2, 6]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1]).view([2, 6]);
        tch::no_grad(|| {
            let a = enc.forward(&ids, &types, &mask, false);
            let b = fused.forward(&ids, &types, &mask);
            // Padding positions differ in meaning only; compare real tokens.
            let m = mask.unsqueeze(-1).to_kind(Kind::Float);
            let diff = ((&a - &b) * &m).abs().max().double_value(&[]);
            assert!(diff < 1e-5, "hidden states differ by {diff}");
            let pa = enc.pool(&a);
            let pb = fused.pool(&b);
            let pdiff = (pa - pb).abs().max().double_value(&[]);
            assert!(pdiff < 1e-5, "pooled vectors differ by {pdiff}");
            assert!(a.abs().max().double_value(&[]) > 0.1, "outputs not trivial");
        });
    }

    #[test]
    fn int8_forward_stays_close_to_f32() {
        tch::manual_seed(11);
        let config = BertConfig {
            hidden_size: 64,
            intermediate_size: 128,
            num_attention_heads: 4,
            num_hidden_layers: 2,
            vocab_size: 50,
            max_position_embeddings: 16,
            ..BertConfig::default()
        };
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let _enc = Encoder::new(&(vs.root() / "bert"), &config, false);
        let f32_forward = FusedEncoder::from_vars(&vs, "bert.", &config).expect("all variables");
        let mut int8 = FusedEncoder::from_vars(&vs, "bert.", &config).expect("all variables");
        int8.quantize_int8(Int8Scope::All);
        assert!(int8.is_int8() && !f32_forward.is_int8());
        let ids = Tensor::randint(50, [4, 12], (Kind::Int64, tch::Device::Cpu));
        let types = ids.zeros_like();
        let mask = ids.ones_like();
        tch::no_grad(|| {
            let a = f32_forward.forward(&ids, &types, &mask);
            let b = int8.forward(&ids, &types, &mask);
            let rel = ((&a - &b).norm() / a.norm()).double_value(&[]);
            // 8-bit weights and activations: about 1 % error per layer; a
            // wrong zero point, scale or offset gives errors near 100 %.
            assert!(rel < 0.05, "int8 differs from f32 by {rel}");
            assert!(rel > 0.0, "int8 forward is not the f32 one");
        });
    }

    #[test]
    fn int8_scope_keeps_down_projections_f32() {
        let config = tiny_config();
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let _enc = Encoder::new(&(vs.root() / "bert"), &config, false);
        let mut f = FusedEncoder::from_vars(&vs, "bert.", &config).expect("all variables");
        f.quantize_int8(Int8Scope::KeepDownF32);
        for l in &f.layers {
            assert!(l.qkv.is_int8() && l.out.is_int8() && l.up.is_int8());
            assert!(!l.down.is_int8());
        }
        f.quantize_int8(Int8Scope::All);
        assert!(f.layers.iter().all(|l| l.down.is_int8()));
    }

    #[test]
    fn fused_refuses_other_activations() {
        let mut config = tiny_config();
        config.hidden_act = rust_bert::Activation::relu;
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let _enc = Encoder::new(&(vs.root() / "bert"), &config, false);
        assert!(matches!(
            FusedEncoder::from_vars(&vs, "bert.", &config),
            Err(FusedError::Activation(_))
        ));
    }
}
