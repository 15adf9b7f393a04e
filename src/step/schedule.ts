/**
 * The learning rate of a step, computed inside the step model from its `step` input (and, for a
 * linear schedule, `total_steps`: the schedule spans the run, which the spec does not know):
 *
 *   lr(step) = lr_spec · factor,  factor = max(0, min(t / W, (T − t) / (T − W), 1)),  t = step − 1
 *
 * exactly as `linearScheduleFactor` (src/emit/optimizer.ts) and Hugging Face's
 * `get_linear_schedule_with_warmup`; W = 0 has no warmup and W ≥ T no decay. A warmup given as a
 * fraction of the run is W = ceil(fraction · T − 1e-9), computed in float64 as `resolveSchedule`
 * computes it in JavaScript, so that the graph and the training log agree on every step.
 */
import type { Plan } from '../check/plan.js';
import { attr, DataType, type GraphBuilder } from '../ir/index.js';

export const STEP_INPUT = 'step';
export const TOTAL_STEPS_INPUT = 'total_steps';
export const LEARNING_RATE_OUTPUT = 'learning_rate';

/**
 * Adds the learning-rate computation; returns the float32 [1] values the update rules read:
 * `learningRate`, and `step` as float (bias correction raises β to it).
 */
export function learningRateNodes(b: GraphBuilder, plan: Plan): { learningRate: string; step: string; usesTotalSteps: boolean } {
  const toFloat = (x: string, name: string) => b.node('Cast', [x], name, [attr.int('to', DataType.FLOAT)]);
  const step = toFloat(STEP_INPUT, 'step.float');
  const rate = b.float32s('learning_rate.spec', [plan.optimizer.lr]);
  const schedule = plan.schedule;
  if (schedule.kind === 'constant') {
    b.nodeWithOutput('Identity', [rate], LEARNING_RATE_OUTPUT);
    return { learningRate: LEARNING_RATE_OUTPUT, step, usesTotalSteps: false };
  }
  const total = toFloat(TOTAL_STEPS_INPUT, 'schedule.total');
  let warmup: string;
  if ('steps' in schedule.warmup) {
    warmup = b.float32s('schedule.warmup', [schedule.warmup.steps]);
  } else {
    const cast = (x: string, to: number, name: string) => b.node('Cast', [x], name, [attr.int('to', to)]);
    const fraction = b.node('Mul', [cast(TOTAL_STEPS_INPUT, DataType.DOUBLE, 'schedule.total.double'), b.float64s('schedule.warmup_fraction', [schedule.warmup.fraction])], 'schedule.warmup.exact');
    const rounded = b.node('Ceil', [b.node('Sub', [fraction, b.float64s('schedule.rounding', [1e-9])], 'schedule.warmup.below')], 'schedule.warmup.ceil');
    warmup = cast(rounded, DataType.FLOAT, 'schedule.warmup');
  }
  const one = b.scalar(1);
  const t = b.node('Sub', [step, one], 'schedule.t');
  // Divisions by max(x, 1) keep W = 0 and W ≥ T finite; Where then picks the plain 1 for them.
  const safeDiv = (n: string, d: string, name: string) => b.node('Div', [n, b.node('Max', [d, one], `${name}.divisor`)], name);
  const warm = b.node('Where', [b.node('Greater', [warmup, b.scalar(0)], 'schedule.has_warmup'), safeDiv(t, warmup, 'schedule.warmup_factor'), one], 'schedule.warm');
  const span = b.node('Sub', [total, warmup], 'schedule.decay_steps');
  const decay = b.node('Where', [b.node('Greater', [total, warmup], 'schedule.has_decay'), safeDiv(b.node('Sub', [total, t], 'schedule.remaining'), span, 'schedule.decay_factor'), one], 'schedule.decay');
  const factor = b.node('Max', [b.node('Min', [warm, decay, one], 'schedule.capped'), b.scalar(0)], 'schedule.factor');
  b.nodeWithOutput('Mul', [rate, factor], LEARNING_RATE_OUTPUT);
  return { learningRate: LEARNING_RATE_OUTPUT, step, usesTotalSteps: true };
}
