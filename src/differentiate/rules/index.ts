/**
 * The gradient rules, in one registry keyed by op type (`domain:Op` outside the default domain).
 * Fused com.microsoft ops have no rules: they are rewritten into standard ops first (unfuse.ts).
 */
import type { GradientRule } from '../rule.js';
import { elementwiseRules } from './elementwise.js';
import { gatherElements } from './gather-elements.js';
import { linearRules } from './linear.js';
import { normalizationRules } from './normalization.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';

export const gradientRules: ReadonlyMap<string, GradientRule> = new Map([...elementwiseRules, ...linearRules, ...reduceRules, ...shapeRules, ...normalizationRules, ['GatherElements', gatherElements]]);
