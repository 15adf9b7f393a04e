/** The style registry: which builder settings and class produce each exporter's graph. */
import { GraphBuilder, tfNaming, torchNaming, type NamingScheme } from '../builder.js';
import type { ResolvedOptions, SyntheticStyle } from '../options.js';
import { GemmStyle } from './gemm.js';
import { OrtFusedStyle } from './ort-fused.js';
import { PytorchLayerNormOpStyle, PytorchStyle } from './pytorch.js';
import type { BertStyle } from './style.js';
import { TfStyle } from './tf.js';

interface StyleEntry {
  readonly naming: NamingScheme;
  readonly constants: 'nodes' | 'initializers';
  /** ModelProto producer fields of the exporter imitated. */
  readonly producer: { readonly name: string; readonly version: string };
  readonly create: (builder: GraphBuilder, options: ResolvedOptions) => BertStyle;
}

const TORCH = { name: 'pytorch', version: '1.13.0' } as const;

const STYLES: Readonly<Record<SyntheticStyle, StyleEntry>> = {
  pytorch: { naming: torchNaming, constants: 'nodes', producer: TORCH, create: (b, o) => new PytorchStyle(b, o) },
  'pytorch-layernorm-op': { naming: torchNaming, constants: 'nodes', producer: TORCH, create: (b, o) => new PytorchLayerNormOpStyle(b, o) },
  gemm: { naming: torchNaming, constants: 'nodes', producer: TORCH, create: (b, o) => new GemmStyle(b, o) },
  tf: { naming: tfNaming, constants: 'initializers', producer: { name: 'keras2onnx', version: '1.6.1' }, create: (b, o) => new TfStyle(b, o) },
  // ORT's optimizer keeps the exporter's producer fields.
  'ort-fused': { naming: torchNaming, constants: 'initializers', producer: TORCH, create: (b, o) => new OrtFusedStyle(b, o) },
};

export interface StyleInstance {
  readonly builder: GraphBuilder;
  readonly style: BertStyle;
  readonly producer: { readonly name: string; readonly version: string };
}

export function createStyle(options: ResolvedOptions): StyleInstance {
  const entry = STYLES[options.style];
  const builder = new GraphBuilder({ opset: options.opset, naming: entry.naming, constants: entry.constants });
  return { builder, style: entry.create(builder, options), producer: entry.producer };
}
