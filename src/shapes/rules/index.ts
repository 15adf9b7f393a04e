/**
 * The shape rules, in one registry keyed by op type (`domain:Op` outside the default domain), as
 * the gradient rules are. An op without a rule stops inference with a message naming it.
 */
import type { ShapeRule } from '../rule.js';
import { elementwiseRules } from './elementwise.js';
import { linearRules } from './linear.js';
import { normalizationRules } from './normalization.js';
import { reduceRules } from './reduce.js';
import { shapeRules as movementRules } from './shape.js';

export const shapeRules: ReadonlyMap<string, ShapeRule> = new Map([...elementwiseRules, ...movementRules, ...linearRules, ...reduceRules, ...normalizationRules]);
