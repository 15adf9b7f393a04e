/** Turning CUDA coverage into diagnostics (for compile) and a table (for inspect). */
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { CUDA_KERNELS_RELEASE, type Coverage, type Fallback } from './cuda.js';

export function fallbackDiagnostic(f: Fallback): Diagnostic {
  return diagnostic(
    'ADP3201',
    { artifact: f.artifact, node: f.node, types: f.types.join(', '), reason: f.reason },
    { file: f.artifact },
    `the CPU copy of this node costs transfers between devices on every step; pass --allow-cpu-fallback to accept it (checked against ONNX Runtime ${CUDA_KERNELS_RELEASE})`,
  );
}

export function coverageText(coverages: readonly Coverage[]): string {
  const lines = [`CUDA kernel coverage (ONNX Runtime ${CUDA_KERNELS_RELEASE})`];
  for (const c of coverages) {
    lines.push(`  ${c.artifact}: ${c.nodes - c.fallbacks.length} of ${c.nodes} nodes have a CUDA kernel${c.fallbacks.length === 0 ? '' : `; ${c.fallbacks.length} would fall back to the CPU:`}`);
    for (const f of c.fallbacks) lines.push(`    ${f.node} [${f.domain || 'ai.onnx'} opset ${f.opset}; inputs ${f.types.join(', ')}]: ${f.reason}`);
  }
  return lines.join('\n');
}
