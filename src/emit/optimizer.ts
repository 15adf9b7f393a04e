/**
 * The optimizer artifact (`optimizer_model.onnx`): one com.microsoft `AdamWOptimizer` (or
 * `SGDOptimizerV2`) node over tensor sequences, as ONNX Runtime's training API runs it. See
 * `../shared/docs/ort-training-contract.md`, section 4.
 *
 * The graph's interface is fixed by the runtime, which checks input names and order exactly and
 * feeds them itself on every optimizer step:
 *
 *   learning_rate         float[1]            set by the API (default 0.001; onnxruntime-web has no setter)
 *   step                  int64[1]            steps taken so far + 1 (bias correction uses it as a power)
 *   params                seq(tensor(float))  the trainable parameters, updated in place
 *   gradients             seq(tensor(float))  the training model's gradient accumulation buffers
 *   first_order_moments   seq(tensor(float))  AdamW's m, updated in place
 *   second_order_moments  seq(tensor(float))  AdamW's v, updated in place (AdamW only)
 *   → updated_flag        bool[1]             (int64, as in older examples, is refused); SGD: bool[]
 *
 * Decisions:
 * - AdamW runs in `adam_mode` 0, PyTorch's `torch.optim.AdamW`: bias correction applied to m and v
 *   separately, epsilon added to sqrt(v̂), decay p ← p − lr·wd·p before the update. Mode 1
 *   (Hugging Face's deprecated `transformers.AdamW`, which `generate_artifacts` writes) adds
 *   epsilon to the uncorrected sqrt(v) and decays after the update; it is available as
 *   `mode: 'huggingface'`. The spec's defaults (betas 0.9/0.999, eps 1e-8) are PyTorch's.
 * - Weight decay is one attribute of the one node: it applies to every trainable parameter.
 *   Per-parameter exclusion (`no_decay (bias, layernorm)`) cannot be expressed, as tried against
 *   the runtime: it reads one parameter group (`group0`) and refuses a graph with two AdamW nodes;
 *   it feeds all parameters as one sequence whose tensors the kernel updates in place, and a
 *   sequence rebuilt from parts (SequenceAt + SequenceConstruct) holds copies, so an optimizer
 *   over it runs but the parameters never change. `generate_artifacts` has no exclusion either.
 *   When `noDecay` names parameters and the decay is non-zero, the result carries an ADP3110
 *   warning; at the spec's defaults (lr 1e-4, wd 0.01) the decay shrinks a bias by a factor
 *   1 − 1e-6 per step.
 * - Sequence value types are written as a preserved TypeProto field (`sequence_type`, field 4)
 *   encoded here with the IR's wire writer, so the IR needs no new type: `formatValueType` shows
 *   them as 'non-tensor', and decode → encode keeps them byte for byte.
 * - `learningRateScale` multiplies the fed learning rate inside the graph (a Mul by a constant),
 *   the one way to train at a rate other than 0.001 on onnxruntime-web, which cannot set it.
 * - `schedule` (linear warmup, then linear decay to zero) is computed the same way, inside the
 *   graph from the `step` input the runtime feeds: see `linearScheduleFactor` for the formula.
 */
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { attr, DataType, makeTensor, makeValueInfo, type Model, type Node, type Tensor, type ValueInfo, type ValueType } from '../ir/index.js';
import { Writer } from '../load/wire.js';

/** AdamW hyperparameters; each defaults to the spec language's default. */
export interface AdamWSettings {
  readonly kind: 'adamw';
  /** β1, the `alpha` attribute. Default 0.9. */
  readonly beta1?: number;
  /** β2, the `beta` attribute. Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Decoupled weight decay, applied to every trainable parameter. Default 0.01. */
  readonly weightDecay?: number;
  /** Bias correction of the moments (`correct_bias`). Default true. */
  readonly correctBias?: boolean;
  /** 'pytorch' (adam_mode 0, default) or 'huggingface' (adam_mode 1); see the module comment. */
  readonly mode?: 'pytorch' | 'huggingface';
}

/**
 * Plain SGD: p ← p − lr·g (`SGDOptimizerV2`). The graph still takes `first_order_moments`, which
 * the runtime feeds (it checks the names), but the node does not use it.
 */
export interface SgdSettings {
  readonly kind: 'sgd';
}

export interface OptimizerModelOptions {
  readonly optimizer: AdamWSettings | SgdSettings;
  /** Names of the trainable parameters (at least one); the graph itself does not depend on them. */
  readonly trainable: readonly string[];
  /** Trainable parameters the spec exempts from weight decay (`no_decay`); only used for ADP3110. */
  readonly noDecay?: readonly string[];
  /** Multiplies the runtime's learning rate inside the graph. Default: none (the rate is used as fed). */
  readonly learningRateScale?: number;
  /**
   * A learning-rate schedule computed in the graph from `step` (the runtime feeds 1 on the first
   * optimizer step): the rate is multiplied by `linearScheduleFactor(step, warmupSteps, totalSteps)`.
   * Default: none (constant).
   */
  readonly schedule?: LinearSchedule;
  /** The ai.onnx opset to import. Default 17. */
  readonly opset?: number;
}

/** Linear warmup over `warmupSteps` optimizer steps, then linear decay to zero at `totalSteps`. */
export interface LinearSchedule {
  readonly kind: 'linear';
  readonly warmupSteps: number;
  readonly totalSteps: number;
}

/**
 * The schedule's factor for the optimizer step `step` (1-based, as the runtime feeds it), exactly as
 * Hugging Face's `get_linear_schedule_with_warmup` with t = step − 1 optimizer steps taken before:
 * t / W while t < W, then max(0, (T − t) / (T − W)). The first step of a warmup runs at rate 0; a
 * schedule without warmup starts at the full rate. Computed as max(0, min(t / W, (T − t) / (T − W)))
 * in float32 by the graph (the two lines cross at t = W); W ≥ T leaves only the warmup, capped at 1.
 */
export function linearScheduleFactor(step: number, warmupSteps: number, totalSteps: number): number {
  const t = step - 1;
  const warm = warmupSteps > 0 ? t / warmupSteps : 1;
  const decay = totalSteps > warmupSteps ? (totalSteps - t) / (totalSteps - warmupSteps) : 1;
  return Math.max(0, Math.min(warm, decay, 1));
}

/** The value the optimizer node reads its learning rate from when a schedule or scale applies. */
export const EFFECTIVE_LEARNING_RATE = 'learning_rate.effective';

export interface OptimizerModel {
  readonly model: Model;
  readonly warnings: readonly Diagnostic[];
}

/** The graph input names the runtime expects, in order. */
export const OPTIMIZER_INPUTS = {
  adamw: ['learning_rate', 'step', 'params', 'gradients', 'first_order_moments', 'second_order_moments'],
  sgd: ['learning_rate', 'step', 'params', 'gradients', 'first_order_moments'],
} as const;

export const UPDATED_FLAG = 'updated_flag';

const MS_DOMAIN = 'com.microsoft';

/**
 * Builds the optimizer model. Throws ADP3108 without trainable parameters and ADP3109 for a
 * hyperparameter out of range (β in [0, 1), ε > 0, weight decay ≥ 0, a positive finite scale).
 */
export function buildOptimizerModel(options: OptimizerModelOptions): OptimizerModel {
  if (options.trainable.length === 0) throw new AdapterError([diagnostic('ADP3108', {})]);
  const scale = options.learningRateScale;
  if (scale !== undefined) check('learning rate scale', scale, scale > 0 && Number.isFinite(scale), 'positive and finite');

  const settings = options.optimizer;
  const kind = settings.kind;
  const inputs: ValueInfo[] = [
    makeValueInfo('learning_rate', DataType.FLOAT, [1]),
    makeValueInfo('step', DataType.INT64, [1]),
    ...OPTIMIZER_INPUTS[kind].slice(2).map((name) => sequenceValueInfo(name, DataType.FLOAT)),
  ];
  const initializers: Tensor[] = [];
  const nodes: Node[] = [];
  let learningRate = 'learning_rate';
  if (scale !== undefined) {
    initializers.push(makeTensor('learning_rate.scale', [1], new Float32Array([scale])));
    nodes.push({ opType: 'Mul', inputs: ['learning_rate', 'learning_rate.scale'], outputs: ['learning_rate.scaled'], name: 'ScaleLearningRate', attributes: [] });
    learningRate = 'learning_rate.scaled';
  }
  const schedule = options.schedule;
  if (schedule !== undefined) {
    const { warmupSteps: w, totalSteps: total } = schedule;
    check('schedule total steps', total, Number.isSafeInteger(total) && total > 0, 'a positive integer');
    check('schedule warmup steps', w, Number.isSafeInteger(w) && w >= 0, 'zero or a positive integer');
    const constant = (name: string, value: number) => {
      initializers.push(makeTensor(`schedule.${name}`, [1], new Float32Array([value])));
      return `schedule.${name}`;
    };
    const op = (opType: string, inputs: string[], output: string) => {
      nodes.push({ opType, inputs, outputs: [`schedule.${output}`], name: `Schedule_${output}`, attributes: opType === 'Cast' ? [attr.int('to', DataType.FLOAT)] : [] });
      return `schedule.${output}`;
    };
    // t = float(step) − 1, the optimizer steps taken before this one.
    const t = op('Sub', [op('Cast', ['step'], 'step_float'), constant('one', 1)], 't');
    const warm = w > 0 ? op('Mul', [t, constant('inverse_warmup', 1 / w)], 'warmup') : constant('no_warmup', 1);
    const decay = total > w ? op('Mul', [op('Sub', [constant('total', total), t], 'remaining'), constant('inverse_decay', 1 / (total - w))], 'decay') : constant('no_decay', 1);
    const factor = op('Max', [op('Min', [warm, decay, constant('cap', 1)], 'capped'), constant('zero', 0)], 'factor');
    nodes.push({ opType: 'Mul', inputs: [learningRate, factor], outputs: [EFFECTIVE_LEARNING_RATE], name: 'ScheduleLearningRate', attributes: [] });
    learningRate = EFFECTIVE_LEARNING_RATE;
  }

  const warnings: Diagnostic[] = [];
  if (kind === 'adamw') {
    const a = adamwAttributes(settings);
    nodes.push({
      opType: 'AdamWOptimizer',
      domain: MS_DOMAIN,
      name: 'AdamWOptimizer',
      inputs: [learningRate, 'step', 'params', 'gradients', 'first_order_moments', 'second_order_moments'],
      outputs: [UPDATED_FLAG],
      attributes: [
        attr.float('alpha', a.beta1),
        attr.float('beta', a.beta2),
        attr.float('epsilon', a.epsilon),
        attr.float('weight_decay', a.weightDecay),
        attr.int('correct_bias', a.correctBias ? 1 : 0),
        attr.int('adam_mode', a.mode === 'pytorch' ? 0 : 1),
      ],
    });
    const decayed = a.weightDecay > 0 ? (options.noDecay ?? []) : [];
    if (decayed.length > 0) {
      const shown = decayed.slice(0, 4).map((n) => `'${n}'`).join(', ') + (decayed.length > 4 ? ', …' : '');
      warnings.push(
        diagnostic(
          'ADP3110',
          { count: decayed.length, names: shown },
          undefined,
          'set weight_decay 0 to decay nothing; at small learning rates the effect on these parameters is tiny',
        ),
      );
    }
  } else {
    nodes.push({
      opType: 'SGDOptimizerV2',
      domain: MS_DOMAIN,
      name: 'SGDOptimizerV2',
      inputs: [learningRate, 'params', 'gradients'],
      outputs: [UPDATED_FLAG],
      attributes: [],
    });
  }

  const model: Model = {
    irVersion: 8,
    opsetImports: [
      { domain: '', version: options.opset ?? 17 },
      { domain: MS_DOMAIN, version: 1 },
    ],
    producerName: 'adapterc',
    metadata: [],
    graph: {
      name: kind === 'adamw' ? 'AdamW optimizer' : 'SGD optimizer',
      nodes,
      initializers,
      inputs,
      // AdamW's flag takes the shape of `step`, [1]; SGDOptimizerV2's schema infers a scalar, and the
      // runtime refuses the session when the declared shape disagrees with the inferred one.
      outputs: [makeValueInfo(UPDATED_FLAG, DataType.BOOL, kind === 'adamw' ? [1] : [])],
      valueInfo: [],
    },
  };
  return { model, warnings };
}

interface ResolvedAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  readonly correctBias: boolean;
  readonly mode: 'pytorch' | 'huggingface';
}

function adamwAttributes(s: AdamWSettings): ResolvedAdamW {
  const r: ResolvedAdamW = {
    beta1: s.beta1 ?? 0.9,
    beta2: s.beta2 ?? 0.999,
    epsilon: s.epsilon ?? 1e-8,
    weightDecay: s.weightDecay ?? 0.01,
    correctBias: s.correctBias ?? true,
    mode: s.mode ?? 'pytorch',
  };
  check('beta1', r.beta1, r.beta1 >= 0 && r.beta1 < 1, 'in [0, 1)');
  check('beta2', r.beta2, r.beta2 >= 0 && r.beta2 < 1, 'in [0, 1)');
  check('eps', r.epsilon, r.epsilon > 0 && Number.isFinite(r.epsilon), 'positive');
  check('weight_decay', r.weightDecay, r.weightDecay >= 0 && Number.isFinite(r.weightDecay), 'zero or positive');
  return r;
}

function check(name: string, value: number, ok: boolean, rule: string): void {
  if (!ok) throw new AdapterError([diagnostic('ADP3109', { name, rule, value: String(value) })]);
}

/**
 * A graph value of type `seq(tensor(elemType))` with unknown shape. The IR models tensor types
 * only; the sequence type travels as TypeProto's `sequence_type` field (4), pre-encoded:
 * `TypeProto.Sequence { elem_type: TypeProto { tensor_type: { elem_type } } }`.
 */
export function sequenceValueInfo(name: string, elemType: number): ValueInfo {
  return { name, type: sequenceType(elemType) };
}

/** onnx.proto field numbers: TypeProto.tensor_type, TypeProto.sequence_type, and the `elem_type` (1) of Sequence and Tensor. */
const TYPE_TENSOR = 1;
const TYPE_SEQUENCE = 4;
const ELEM_TYPE = 1;

function sequenceType(elemType: number): ValueType {
  const w = new Writer();
  // TypeProto.sequence_type → Sequence.elem_type (a TypeProto) → tensor_type → Tensor.elem_type
  w.messageField(TYPE_SEQUENCE, (sequence) =>
    sequence.messageField(ELEM_TYPE, (element) => element.messageField(TYPE_TENSOR, (tensor) => tensor.varintField(ELEM_TYPE, elemType))),
  );
  return { preserved: [{ field: TYPE_SEQUENCE, bytes: w.joined() }] };
}


/** Whether a value's declared type is `seq(tensor(elemType))` as `sequenceValueInfo` writes it. */
export function isSequenceOf(v: ValueInfo, elemType: number): boolean {
  const raw = v.type?.preserved?.find((p) => p.field === TYPE_SEQUENCE);
  if (raw === undefined || v.type?.tensor !== undefined) return false;
  const expected = sequenceType(elemType).preserved![0]!.bytes;
  return raw.bytes.length === expected.length && raw.bytes.every((b, i) => b === expected[i]);
}
