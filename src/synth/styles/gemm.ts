/**
 * Dense layers as Reshape -> Gemm -> Reshape: what torch.onnx emits for nn.Linear when it flattens the
 * input (torch.nn.TransformerEncoder's out_proj, in the corpus) and what ONNX Runtime's MatMulAddFusion
 * makes of MatMul + Add. The Gemm holds the bias, so the "projection + bias" tensor a Houlsby adapter
 * wraps is the second Reshape's output. Everything else is the pytorch style; LayerNorm is the
 * LayerNormalization op from opset 17 on and decomposed below it, as torch.onnx does.
 */
import { float, int } from '../builder.js';
import { PytorchStyle, type LayerNormResult, type LinearResult } from './pytorch.js';
import type { DenseParams, LayerNormParams } from './style.js';

export class GemmStyle extends PytorchStyle {
  protected override linear(d: DenseParams, x: string): LinearResult {
    const s = this.scope(d.path);
    const [inDim, outDim] = d.kernel.shape as [number, number];
    const weight = this.store(this.paramName(d.path, 'weight'), { kind: 'transposed', param: d.kernel });
    const bias = this.store(this.paramName(d.path, 'bias'), { kind: 'direct', param: d.bias });
    const flat = s.op('Reshape', [x, s.int64([-1, inDim])]);
    const product = s.op('Gemm', [flat, weight, bias], { attrs: { alpha: float(1), beta: float(1), transB: int(1) } });
    const output = s.op('Reshape', [product, this.leadingDimsPlus(s, x, [outDim])]);
    return { output, weight, bias, weightLayout: 'out-in' };
  }

  protected override layerNorm(ln: LayerNormParams, x: string, outputName?: string): LayerNormResult {
    return this.b.opset >= 17 ? this.layerNormOp(ln, x, outputName) : this.decomposedLayerNorm(ln, x, outputName);
  }
}
