/**
 * The batch the step benchmarks time (bench/step.ts, and the GPU check's node-cuda.ts): every token
 * real, no padding, so each step does the work of its full shape; token ids spread over BERT's
 * vocabulary, labels alternating.
 */
import type { Feeds } from '../../src/runtime/ort-training.js';
import type { ArtifactsInfo } from '../../src/train/index.js';

export function fullBatch(info: ArtifactsInfo, batch: number, sequence: number): Feeds {
  const feeds: Record<string, Feeds[string]> = {};
  for (const input of info.inputs) {
    const rows = input.role === 'labels';
    const count = rows ? batch : batch * sequence;
    const value = (k: number) => (input.role === 'input_ids' ? 1000 + ((k * 7919) % 29000) : input.role === 'attention_mask' ? 1 : input.role === 'labels' ? k % 2 : 0);
    const data = input.type === 'int32' ? Int32Array.from({ length: count }, (_, k) => value(k)) : BigInt64Array.from({ length: count }, (_, k) => BigInt(value(k)));
    feeds[input.name] = { data, dims: rows ? [batch] : [batch, sequence] };
  }
  return feeds;
}
