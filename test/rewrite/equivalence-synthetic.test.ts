/**
 * Numeric equivalence (see equivalence.ts) on synthetic models in every exporter style; these run
 * without the corpus. Every spec runs on the PyTorch-style model; the other styles take the specs
 * whose emitted graph depends on the style (sites, opset-dependent GELU and LayerNorm, identity
 * init, no adapters), since activation and size variants are the same subgraph at another width.
 */
import { describe } from 'vitest';
import { describeEquivalence } from './equivalence.js';
import { syntheticModel } from './helpers.js';

const STYLE_SPECS = ['adapter-layernorm', 'attention-only', 'ffn-only', 'full-finetune', 'houlsby', 'init-identity'];

describe('adapted synthetic models compute what the originals do (identity init), nearly (own init), and differently (std 1)', () => {
  describeEquivalence(syntheticModel('synthetic pytorch opset 14 (Erf GELU in the adapters)', { style: 'pytorch' }));
  describeEquivalence(syntheticModel('synthetic pytorch opset 20 (the Gelu op in the adapters)', { style: 'pytorch', opset: 20 }), { specs: STYLE_SPECS });
  describeEquivalence(syntheticModel('synthetic pytorch-layernorm-op opset 17', { style: 'pytorch-layernorm-op' }), { specs: STYLE_SPECS });
  describeEquivalence(syntheticModel('synthetic tf', { style: 'tf' }), { specs: STYLE_SPECS });
  describeEquivalence(syntheticModel('synthetic gemm', { style: 'gemm' }), { specs: STYLE_SPECS });
  describeEquivalence(syntheticModel('synthetic ort-fused, bias in SkipLayerNormalization', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }), { specs: STYLE_SPECS });
  describeEquivalence(syntheticModel('synthetic ort-fused, fused Attention op', { style: 'ort-fused', ortFused: { fusedAttention: true } }), { specs: STYLE_SPECS });
  // 12 layers (slow to load in ORT): the specs whose layer lists need the depth.
  describeEquivalence(syntheticModel('synthetic pytorch, 12 layers', { style: 'pytorch', layers: 12, hidden: 16, heads: 2, ffn: 32 }), {
    specs: ['houlsby', 'per-layer-sizes', 'top-layers'],
  });
});
