/**
 * Rule: make a projection bias folded into SkipLayerNormalization explicit.
 *
 *   pattern   SkipLayerNormalization(input, skip, gamma, beta, bias)   (com.microsoft)
 *   check     the site is one of input/skip and `bias` is set
 *   rewrite   h = Add(site, bias); SkipLayerNormalization(h, skip, gamma, beta)
 *
 * ONNX Runtime's optimizer folds the output projection's bias into the 5th input; the adapter needs
 * the projection's result *with* its bias as a tensor, so the bias comes back out as an Add.
 */
import type { AdapterSite } from '../../discover/index.js';
import type { GraphBuilder } from '../../ir/index.js';
import { adapterPrefix } from './insert-adapter.js';

export function checkUnfoldSkipBias(site: AdapterSite): string | undefined {
  if (site.foldedBias === undefined) return 'no bias is folded into the residual node';
  if (site.residualNode.opType !== 'SkipLayerNormalization' || site.residualNode.domain !== 'com.microsoft') return 'the residual node is not com.microsoft SkipLayerNormalization';
  if (site.residualNode.inputs[4] !== site.foldedBias) return "SkipLayerNormalization's 5th input is not the recorded bias";
  return undefined;
}

/** Returns the site with `value` now the explicit projection + bias, and no folded bias. */
export function unfoldSkipBias(emit: GraphBuilder, site: AdapterSite): AdapterSite {
  const reason = checkUnfoldSkipBias(site);
  if (reason !== undefined) return site;
  const node = site.residualNode;
  const withBias = emit.node('Add', [site.value, site.foldedBias!], `${adapterPrefix(site.layer, site.site)}.projection_with_bias`);
  node.inputs[site.inputIndex] = withBias;
  // Drop the 5th input (and any trailing empty ones) so the op no longer adds the bias itself.
  node.inputs.splice(4, 1);
  while (node.inputs.length > 0 && node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
  return { ...site, value: withBias, foldedBias: undefined };
}
