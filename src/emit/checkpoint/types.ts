/** What a training checkpoint holds, as `encodeCheckpoint` takes it and `decodeCheckpoint` returns it. */
import type { Tensor } from '../../ir/index.js';

/** The two AdamW moments of one trainable parameter, each with the parameter's shape. */
export interface MomentPair {
  /** First moment (`momentum0`), the running mean of the gradient. */
  readonly m0: Float32Array;
  /** Second moment (`momentum1`), the running mean of the squared gradient. */
  readonly m1: Float32Array;
}

/** Optimizer state to store (the runtime's group `group0`). */
export interface OptimizerStateInput {
  /**
   * Stored as `initial_learning_rate`. ONNX Runtime 1.19 loads it but trains at its default 0.001
   * until the API's set-learning-rate call or a scheduler changes it (onnxruntime-web has neither).
   */
  readonly learningRate: number;
  /** Optimizer steps taken so far; the runtime feeds `step + 1` to the next optimizer run. */
  readonly step: number | bigint;
  /**
   * AdamW moments for every trainable parameter: 'zeros' writes zero tensors (what the runtime
   * creates itself when a checkpoint has no optimizer state), or a map from parameter name to
   * its moments.
   */
  readonly moments: 'zeros' | ReadonlyMap<string, MomentPair>;
}

/** User properties (`PropertyBag`): kept by the runtime, readable from the C++/Python API only. */
export interface PropertiesInput {
  /** int64 values; numbers must be safe integers. */
  readonly ints?: Readonly<Record<string, number | bigint>>;
  /** Stored as float32. */
  readonly floats?: Readonly<Record<string, number>>;
  readonly strings?: Readonly<Record<string, string>>;
}

/** The contents of a checkpoint to write. */
export interface CheckpointInput {
  /**
   * Parameters the optimizer updates (`requires_grad_params`), float32, in the order given. Each
   * needs a name; names are unique across `trainable` and `frozen`.
   */
  readonly trainable: readonly Tensor[];
  /** Parameters that do not train (`frozen_params`): any fixed-width numeric type, float32 advised. */
  readonly frozen: readonly Tensor[];
  /** Optimizer state; leave it out and the runtime starts from zero moments and step 0. */
  readonly optimizer?: OptimizerStateInput;
  readonly properties?: PropertiesInput;
}

/** Optimizer state as read back (group `group0` only: the one the runtime reads). */
export interface OptimizerState {
  readonly learningRate: number;
  readonly step: bigint;
  /** By parameter name, in file order. */
  readonly moments: ReadonlyMap<string, MomentPair>;
}

export interface Properties {
  readonly ints: Readonly<Record<string, bigint>>;
  readonly floats: Readonly<Record<string, number>>;
  readonly strings: Readonly<Record<string, string>>;
}

/**
 * A checkpoint as read. Tensors are IR tensors (`name`, `dims`, `dataType`, `rawData`) whose
 * `rawData` is a view into the bytes that were decoded: keep them unchanged while in use.
 */
export interface Checkpoint {
  readonly version: number;
  readonly trainable: Tensor[];
  readonly frozen: Tensor[];
  readonly optimizer?: OptimizerState;
  /** Names of optimizer groups other than `group0`, which the runtime ignores. */
  readonly ignoredOptimizerGroups: readonly string[];
  readonly properties: Properties;
  /** `is_nominal_state`: the tensors are names and shapes only, without data. */
  readonly nominal: boolean;
  /** `has_external_data`: tensor data lives in a side file (not read by `decodeCheckpoint`). */
  readonly externalData: boolean;
}
