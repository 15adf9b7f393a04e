/**
 * Optimizer updates in standard ONNX: one rule per optimizer kind, each a short function from a
 * parameter, its gradient and its optimizer state to their new values. The arithmetic is ONNX
 * Runtime's own kernels' (orttraining/training_ops/cpu/optimizer, v1.19.2), in the same order, so
 * that the step model and the training runtime agree to float32 rounding:
 *
 *   AdamW (adam_mode 0, PyTorch's torch.optim.AdamW), with bc1 = 1 − β1^step, bc2 = 1 − β2^step:
 *     p ← p − p·lr·wd          only for parameters `no_decay` does not exempt (ORT decays all)
 *     m ← β1·m + (1 − β1)·g
 *     v ← β2·v + (1 − β2)·g·g
 *     p ← p − lr·m / (bc1 · (sqrt(v / bc2) + ε))
 *   SGD: p ← p − lr·g
 */
import type { Plan } from '../check/plan.js';
import type { GraphBuilder } from '../ir/index.js';

/** One trainable parameter as the update sees it: graph values, and whether weight decay applies. */
export interface UpdatedParameter {
  readonly name: string;
  readonly gradient: string;
  /** Its optimizer state, in the rule's `state` order (graph inputs). */
  readonly state: readonly string[];
  readonly decay: boolean;
}

/** Values every parameter's update reads, computed once per step. */
export interface StepValues {
  /** float32 [1]: this step's learning rate. */
  readonly learningRate: string;
  /** float32 [1]: the 1-based step number. */
  readonly step: string;
}

export interface UpdateRule {
  /** Suffixes naming each parameter's optimizer state (`<parameter>.<suffix>`), zeros at the start. */
  readonly state: readonly string[];
  /** Adds the update of one parameter; returns the new parameter, then the new state, in `state` order. */
  update(b: GraphBuilder, shared: (key: string, make: () => string) => string, step: StepValues, p: UpdatedParameter): string[];
}

type Optimizer = Plan['optimizer'];

function adamw(o: Extract<Optimizer, { kind: 'adamw' }>): UpdateRule {
  const [beta1, beta2] = o.betas;
  return {
    state: ['adamw.m', 'adamw.v'],
    update(b, shared, s, p) {
      const name = (what: string) => `${p.name}.${what}`;
      // 1 − β^step, once per step for all parameters.
      const correction = (beta: number, key: string) =>
        shared(key, () => b.node('Sub', [b.scalar(1), b.node('Pow', [b.scalar(beta), s.step], `adamw.${key}.power`)], `adamw.${key}`));
      const bc1 = correction(beta1, 'bias_correction1');
      const bc2 = correction(beta2, 'bias_correction2');
      const [m, v] = p.state as [string, string];
      let param = p.name;
      if (p.decay && o.weightDecay > 0) {
        const rateDecay = shared('lr_weight_decay', () => b.node('Mul', [s.learningRate, b.scalar(o.weightDecay)], 'adamw.lr_weight_decay'));
        param = b.node('Sub', [param, b.node('Mul', [param, rateDecay], name('decay'))], name('decayed'));
      }
      const mNew = b.node('Add', [b.node('Mul', [m, b.scalar(beta1)], name('m.kept')), b.node('Mul', [p.gradient, b.scalar(1 - beta1)], name('m.added'))], name('adamw.m.updated'));
      const squared = b.node('Mul', [p.gradient, p.gradient], name('gradient_squared'));
      const vNew = b.node('Add', [b.node('Mul', [v, b.scalar(beta2)], name('v.kept')), b.node('Mul', [squared, b.scalar(1 - beta2)], name('v.added'))], name('adamw.v.updated'));
      const denominator = b.node('Add', [b.node('Sqrt', [b.node('Div', [vNew, bc2], name('v.corrected'))], name('v.sqrt')), b.scalar(o.eps)], name('denominator'));
      const change = b.node('Div', [b.node('Mul', [mNew, s.learningRate], name('m.scaled')), b.node('Mul', [denominator, bc1], name('denominator.corrected'))], name('change'));
      return [b.node('Sub', [param, change], name('updated')), mNew, vNew];
    },
  };
}

const sgd: UpdateRule = {
  state: [],
  update(b, _shared, s, p) {
    return [b.node('Sub', [p.name, b.node('Mul', [p.gradient, s.learningRate], `${p.name}.change`)], `${p.name}.updated`)];
  },
};

/** The update rule of the spec's optimizer. */
export function updateRule(optimizer: Optimizer): UpdateRule {
  return optimizer.kind === 'adamw' ? adamw(optimizer) : sgd;
}
