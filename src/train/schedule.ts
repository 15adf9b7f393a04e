/**
 * The learning rate at each optimizer step, as the spec's `schedule` says: `constant`, or
 * `linear(warmup N)` / `linear(warmup P%)`: linear warmup from 0 over the warmup steps, then linear
 * decay to zero at the last step (Houlsby et al. 2019; Hugging Face's
 * `get_linear_schedule_with_warmup`). A warmup fraction is rounded up to whole steps, as the
 * Hugging Face Trainer does. The formula itself lives with the optimizer graph that computes it:
 * `linearScheduleFactor` in `src/emit/optimizer.ts`.
 */
import type { Schedule } from '../check/plan.js';
import { linearScheduleFactor, type LinearSchedule } from '../emit/optimizer.js';

export { linearScheduleFactor };

/** The schedule for a run of `totalSteps` optimizer steps; undefined for a constant rate. */
export function resolveSchedule(schedule: Schedule, totalSteps: number): LinearSchedule | undefined {
  if (schedule.kind === 'constant') return undefined;
  const warmupSteps = 'steps' in schedule.warmup ? schedule.warmup.steps : Math.ceil(schedule.warmup.fraction * totalSteps - 1e-9);
  return { kind: 'linear', warmupSteps, totalSteps };
}

/** The learning rate of optimizer step `step` (1-based): `base` times the schedule's factor. */
export function learningRateAt(step: number, base: number, schedule: LinearSchedule | undefined): number {
  return schedule === undefined ? base : base * linearScheduleFactor(step, schedule.warmupSteps, schedule.totalSteps);
}

/** 'linear(warmup 10% = 6 of 60 steps)', 'constant'. */
export function describeSchedule(spec: Schedule, resolved: LinearSchedule | undefined): string {
  if (resolved === undefined || spec.kind !== 'linear') return 'constant';
  const given = 'fraction' in spec.warmup ? `${+(spec.warmup.fraction * 100).toFixed(4)}% = ` : '';
  return `linear(warmup ${given}${resolved.warmupSteps} of ${resolved.totalSteps} steps, then decay to 0)`;
}
