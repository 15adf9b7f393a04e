/**
 * Every message adapterc can print, each under a stable code. Codes never change meaning once
 * released; golden tests lock the wording.
 *
 *   ADP1xxx  the spec language: 10xx lexing and syntax, 11xx meaning (checker), 12xx files and imports
 *   ADP2xxx  the model: 20xx reading ONNX files, 21xx recognising a BERT encoder, 22xx matching the spec to it
 *   ADP3xxx  graph rewriting, gradients and emitted artifacts
 *   ADP4xxx  the command line and output folders
 *   ADP5xxx  training (5001–5049, `adapterc train`), export (5050–5099, `adapterc export`), predict and eval (5100–5149)
 *   ADP6xxx  other formats: 60xx AdapterHub configs and folders
 *
 * A message is one sentence. Anything that tells the user how to fix it goes in the diagnostic's hint.
 */
import type { Severity } from './diagnostic.js';

interface Entry<A> {
  readonly severity: Severity;
  readonly message: (args: A) => string;
}

function error<A = Record<string, never>>(message: (args: A) => string): Entry<A> {
  return { severity: 'error', message };
}
function warning<A = Record<string, never>>(message: (args: A) => string): Entry<A> {
  return { severity: 'warning', message };
}

export const catalogue = {
  // ---- ADP10xx: lexing and syntax -------------------------------------------------------------
  ADP1001: error((a: { text: string }) => `Unexpected character '${a.text}'.`),
  ADP1002: error((a: { expected: string; found: string }) => `Expected ${a.expected}, but found ${a.found}.`),
  ADP1003: error((a: { found: string }) => `Unexpected ${a.found} at the top level of a spec.`),
  ADP1004: error((a: { name: string; what: string }) => `Unknown ${a.what} '${a.name}'.`),
  ADP1005: error(() => `Unterminated string.`),
  ADP1006: error((a: { limit: number }) => `This bracket opens more than ${a.limit} levels deep, the most a spec may nest.`),

  // ---- ADP11xx: meaning of a spec (checker) -------------------------------------------------
  ADP1101: error((a: { name: string; what: string }) => `Unknown ${a.what} '${a.name}'.`),
  ADP1102: error((a: { name: string; where: string }) => `'${a.name}' is set twice in ${a.where}.`),
  ADP1103: error((a: { name: string; rule: string; found: string }) => `'${a.name}' must be ${a.rule}, but is ${a.found}.`),
  ADP1104: error((a: { name: string }) => `Adapter '${a.name}' is not defined.`),
  ADP1105: error((a: { name: string }) => `Adapter '${a.name}' is defined twice.`),
  ADP1106: error((a: { name: string }) => `Adapter '${a.name}' sets both 'size' and 'reduction'.`),
  ADP1107: error((a: { name: string }) => `Adapter '${a.name}' sets neither 'size' nor 'reduction'.`),
  ADP1108: error((a: { site: string; layer: string }) => `Two adapters are placed after ${a.site} in layer ${a.layer}.`),
  ADP1109: error((a: { range: string }) => `The layer range ${a.range} is empty.`),
  ADP1110: error((a: { loss: string; head: string }) => `Loss '${a.loss}' does not fit the head ${a.head}.`),
  ADP1111: error((a: { option: string; callee: string }) => `'${a.callee}' takes no option '${a.option}'.`),
  ADP1112: error((a: { option: string; callee: string }) => `'${a.callee}' needs the option '${a.option}'.`),
  ADP1113: error((a: { name: string }) => `'${a.name}' cannot be overridden because no imported spec defines it.`),
  ADP1114: error(() => `Nothing in this spec is trainable.`),
  ADP1115: error((a: { layer: string }) => `Layer ${a.layer} appears twice in one layer list.`),
  ADP1116: warning((a: { name: string }) => `Adapter '${a.name}' is defined but never placed.`),
  ADP1119: error(() => `The new classifier head would never be trained.`),
  ADP1120: error(() => `The new masked_lm head would never be trained.`),
  ADP1121: error((a: { name: string; value: string; limit: number }) => `'${a.name}' is ${a.value}, more than the limit of ${a.limit}.`),
  ADP1122: error((a: { setting: string; name: string; family: string }) => `'${a.setting}' does not apply to '${a.name}', ${a.family}.`),
  ADP1123: error((a: { name: string; family: string; site: string; preposition: string; allowed: string }) => `'${a.name}' is ${a.family} and cannot go at '${a.site}'; it goes ${a.preposition} ${a.allowed}.`),
  ADP1124: error((a: { name: string; family: string; preposition: string }) => `'${a.name}' is ${a.family}: place it '${a.preposition}' its sites.`),
  ADP1117: warning((a: { item: string }) => `'trainable all' already trains everything, so '${a.item}' adds nothing.`),

  // ---- ADP12xx: files and imports -------------------------------------------------------------
  ADP1201: error((a: { path: string }) => `Cannot read the spec file '${a.path}'.`),
  ADP1202: error((a: { chain: string }) => `Import cycle: ${a.chain}.`),
  ADP1203: error((a: { path: string }) => `'${a.path}' is imported twice.`),
  ADP1204: error((a: { keyword: string }) => `'${a.keyword}' must come before every other statement of the file.`),
  ADP1205: error((a: { path: string }) => `'${a.path}' is not a spec file, so it cannot be imported.`),
  ADP1206: error((a: { path: string; roots: string }) => `'${a.path}' lies outside the folders imports may read (${a.roots}).`),
  ADP1207: error((a: { path: string; reason: string }) => `Cannot read the spec file '${a.path}' because ${a.reason}.`),

  // ---- ADP20xx: reading ONNX model files -------------------------------------------------------
  ADP2001: error((a: { file: string }) => `The model file '${a.file}' does not exist.`),
  ADP2002: error((a: { file: string; reason: string }) => `Cannot read the model file '${a.file}' because ${a.reason}.`),
  ADP2003: error((a: { file: string }) => `The model file '${a.file}' is empty.`),
  ADP2004: error((a: { file: string; size: number; needed: number }) => `The model file '${a.file}' is truncated: it has ${a.size} bytes, but its contents need at least ${a.needed}.`),
  ADP2005: error((a: { file: string; reason: string }) => `'${a.file}' is not an ONNX model: ${a.reason}.`),
  ADP2006: error((a: { file: string }) => `'${a.file}' is a protobuf message but not an ONNX model, because it has no graph.`),
  ADP2007: error((a: { tensor: string; location: string; problem: string }) => `Tensor '${a.tensor}' keeps its data in '${a.location}', which ${a.problem}.`),
  ADP2008: error((a: { tensor: string; location: string; end: number; size: number }) => `Tensor '${a.tensor}' needs the bytes up to ${a.end} of '${a.location}', but that file has only ${a.size}.`),
  ADP2009: error((a: { tensor: string; problem: string }) => `Tensor '${a.tensor}' has an invalid external data reference: ${a.problem}.`),
  ADP2010: error((a: { file: string; value: string; offset: number }) => `The model file '${a.file}' holds the integer ${a.value} at byte ${a.offset}, which is out of range.`),
  ADP2011: error((a: { file: string; offset: number }) => `The model file '${a.file}' has a text field at byte ${a.offset} that is not valid UTF-8.`),
  ADP2012: error((a: { node: string }) => `The graph has a cycle through node ${a.node}.`),
  ADP2013: error((a: { size: number }) => `The model needs ${a.size} bytes, more than the 2 GiB one ONNX protobuf file can hold.`),
  ADP2014: warning((a: { file: string; fields: string }) => `The model file '${a.file}' has fields this version of adapterc does not know (${a.fields}); they are kept unchanged.`),
  ADP2015: error((a: { node: string; attribute: string }) => `Node ${a.node} has no attribute '${a.attribute}'.`),
  ADP2016: error((a: { node: string; attribute: string; expected: string; found: string }) => `Attribute '${a.attribute}' of node ${a.node} should be ${a.expected}, but is ${a.found}.`),
  ADP2017: error((a: { tensor: string; found: number; expected: number }) => `Tensor '${a.tensor}' has ${a.found} bytes of data, but its type and shape need ${a.expected}.`),

  // ---- ADP21xx: recognising a BERT-style encoder ----------------------------------------------
  ADP2101: error((a: { file: string; found: string }) => `'${a.file}' is not a BERT-style encoder: ${a.found}.`),
  ADP2102: error((a: { file: string; widths: string }) => `The layers of '${a.file}' disagree on the hidden size (${a.widths}).`),
  ADP2103: error((a: { file: string; layers: number }) => `'${a.file}' is a pre-LayerNorm encoder (${a.layers} layers of x + f(LayerNorm(x)), as Megatron-BERT, XLM-RoBERTa-XL and ModernBERT are), which adapterc does not adapt: a Houlsby adapter goes before a residual Add + LayerNorm, and these layers have no LayerNorm after the sum.`),

  // ---- ADP22xx: matching the spec to the model -------------------------------------------------
  ADP2201: error((a: { layer: number; depth: number }) => `Layer ${a.layer} does not exist: the model has ${a.depth} layers (0..${a.depth - 1}).`),
  ADP2202: error((a: { reduction: number; hidden: number }) => `Reduction ${a.reduction} does not divide the model's hidden size ${a.hidden}.`),
  ADP2203: error((a: { range: string; depth: number }) => `The layer range ${a.range} is empty for a model with ${a.depth} layers.`),
  ADP2204: error((a: { site: string; layer: number }) => `Two adapters are placed after ${a.site} in layer ${a.layer}.`),
  ADP2205: error((a: { site: string; layer: number }) => `The model has no ${a.site} site in layer ${a.layer}.`),
  ADP2206: error((a: { file: string; reason: string }) => `The classifier head cannot be added to '${a.file}': ${a.reason}.`),
  ADP2207: error((a: { file: string; reason: string }) => `The masked_lm head cannot be added to '${a.file}': ${a.reason}.`),
  ADP2209: error((a: { count: number; memory: string; limit: number; layers: number; hidden: number }) => `The adapters and head add ${a.count} parameters (${a.memory} to train), more than the limit of ${a.limit} for a model of ${a.layers} layers and hidden size ${a.hidden}.`),
  ADP2210: warning((a: { name: string; units: number; hidden: number; factor: string }) => `Adapter '${a.name}' has a bottleneck of ${a.units} units, not smaller than the model's hidden size ${a.hidden} (a reduction factor of ${a.factor}).`),
  ADP2211: warning((a: { spec: string; architecture: string; file: string; found: string }) => `'${a.spec}' is written for ${a.architecture}, but '${a.file}' is ${a.found}.`),
  ADP2208: error((a: { name: string; reason: string }) => `The spec trains '${a.name}', but ${a.reason}.`),

  // ---- ADP3xxx: graph rewriting, gradients, artifacts -----------------------------------------
  // ADP31xx: the checkpoint and optimizer artifacts
  ADP3101: error((a: { name: string }) => `Parameter '${a.name}' is given twice for the checkpoint.`),
  ADP3102: error((a: { name: string; type: string }) => `Trainable parameter '${a.name}' is ${a.type}, but ONNX Runtime trains float32 parameters only.`),
  ADP3103: error((a: { name: string; reason: string }) => `Tensor '${a.name}' cannot be stored in a checkpoint: ${a.reason}.`),
  ADP3104: error((a: { size: number }) => `The checkpoint needs about ${a.size} bytes, more than the 2 GiB one FlatBuffers file can hold.`),
  ADP3105: error((a: { name: string; problem: string }) => `The optimizer state of parameter '${a.name}' ${a.problem}.`),
  ADP3106: error((a: { name: string }) => `Property '${a.name}' is set twice in the checkpoint's property bag.`),
  ADP3107: error((a: { file: string; reason: string }) => `'${a.file}' is not an ONNX Runtime training checkpoint: ${a.reason}.`),
  ADP3108: error(() => `The optimizer model needs at least one trainable parameter.`),
  ADP3109: error((a: { name: string; rule: string; value: string }) => `Optimizer setting '${a.name}' must be ${a.rule}, but is ${a.value}.`),
  ADP3110: warning((a: { count: number; names: string }) => `In ONNX Runtime's training runtime, weight decay also applies to ${a.count} parameter(s) that 'no_decay' excludes (${a.names}): its optimizer has one weight decay for all parameters.`),
  ADP3001: error((a: { op: string; node: string; parameter: string }) => `No gradient rule for ${a.op} (node ${a.node}), which lies between the trainable parameter '${a.parameter}' and the loss.`),
  ADP3002: error((a: { node: string; file: string; reason: string }) => `Cannot infer the output shapes of ${a.node} in '${a.file}': ${a.reason}.`),
  ADP3004: error((a: { output: string; file: string; shape: string }) => `The loss needs [batch, labels] scores, but the output '${a.output}' of '${a.file}' has shape ${a.shape}.`),
  ADP3201: error((a: { artifact: string; node: string; types: string; reason: string }) => `In ${a.artifact}, node ${a.node} (inputs ${a.types}) would run on the CPU: ${a.reason}.`),
  ADP3202: warning((a: { count: number }) => `${a.count} node(s) will run on the CPU instead of CUDA (accepted with --allow-cpu-fallback).`),
  ADP3005: error((a: { output: string }) => `The spec's head names the output '${a.output}', which the model does not have.`),
  ADP3006: error((a: { output: string; classes: number }) => `Cross-entropy needs two or more classes, but the output '${a.output}' has ${a.classes}.`),
  ADP3003: error((a: { op: string; node: string; reason: string }) => `The gradient of ${a.op} (node ${a.node}) cannot be built: ${a.reason}.`),

  // ---- ADP4xxx: command line and output -------------------------------------------------------
  ADP4001: error((a: { text: string }) => `${a.text}`),
  ADP4002: error((a: { path: string; reason?: string }) => (a.reason ? `Cannot write '${a.path}' because ${a.reason}.` : `Cannot write '${a.path}'.`)),

  // ---- ADP5xxx: training and export -------------------------------------------------------------
  // ADP5001–5049: `adapterc train` (data, vocabulary, artifacts, the training run)
  ADP5001: error((a: { path: string; what: string }) => `Cannot read the ${a.what} file '${a.path}'.`),
  ADP5002: error((a: { problem: string }) => `${a.problem}.`),
  ADP5003: error((a: { file: string; token: string }) => `The vocabulary '${a.file}' has no '${a.token}' token.`),
  ADP5004: error((a: { file: string; size: number; rows: number }) => `The vocabulary '${a.file}' has ${a.size} tokens, but the model's word embedding table has only ${a.rows} rows.`),
  ADP5005: error((a: { folder: string; reason: string }) => `'${a.folder}' is not a folder of training artifacts: ${a.reason}.`),
  ADP5006: error((a: { spec: string }) => `Cannot find the spec '${a.spec}' that these artifacts were compiled from.`),
  ADP5007: error((a: { spec: string; what: string }) => `The spec '${a.spec}' no longer matches the artifacts: ${a.what}.`),
  ADP5008: error((a: { option: string; rule: string; value: string }) => `Option '--${a.option}' must be ${a.rule}, but is '${a.value}'.`),
  ADP5009: error((a: { file: string }) => `'${a.file}' holds no examples.`),
  ADP5010: error((a: { name: string; reason: string }) => `The training model's input '${a.name}' cannot be fed: ${a.reason}.`),
  ADP5011: error((a: { value: string; step: number }) => `The training loss became ${a.value} at step ${a.step}.`),
  ADP5012: warning((a: { count: number; total: number; file: string; length: number }) => `${a.count} of the ${a.total} examples read from '${a.file}' were cut to ${a.length} tokens.`),
  ADP5013: error((a: { file: string; providers: string; reason: string }) => `onnxruntime-node cannot open '${a.file}' with the execution provider(s) ${a.providers}: ${a.reason}.`),

  // ADP5050–5099: `adapterc export` (merging a checkpoint, adapters files, dropping layers)
  ADP5050: error((a: { path: string; problem: string }) => `'${a.path}' is not an artifacts folder: ${a.problem}.`),
  ADP5051: warning((a: { folder: string }) => `'${a.folder}' has no checkpoint, so the export holds the parameters' initial (untrained) values.`),
  ADP5052: error((a: { file: string; problem: string }) => `The checkpoint '${a.file}' cannot be exported: ${a.problem}.`),
  ADP5053: error((a: { file: string; count: number; model: string; names: string }) => `The checkpoint '${a.file}' trains ${a.count} parameter(s) that '${a.model}' does not have (${a.names}).`),
  ADP5054: error((a: { name: string; found: string; where: string; expected: string; model: string }) => `Parameter '${a.name}' is ${a.found} in ${a.where}, but ${a.expected} in '${a.model}'.`),
  ADP5055: error((a: { file: string; name: string; model: string }) => `The checkpoint '${a.file}' belongs to another base model: its frozen parameter '${a.name}' differs from the one in '${a.model}'.`),
  ADP5056: error((a: { file: string; count: number; names: string }) => `The checkpoint '${a.file}' has no trained values for ${a.count} parameter(s) these artifacts train (${a.names}).`),
  ADP5057: error((a: { file: string; reason: string }) => `'${a.file}' is not an adapters file: ${a.reason}.`),
  ADP5058: error((a: { file: string; expected: string; base: string; found: string }) => `The adapters in '${a.file}' were trained on a model with ${a.expected}, but '${a.base}' has ${a.found}.`),
  ADP5059: error((a: { file: string; base: string }) => `'${a.base}' is not the base model the adapters in '${a.file}' were trained on: its weights differ.`),
  ADP5060: error((a: { text: string; reason: string }) => `The layer list '${a.text}' is invalid: ${a.reason}.`),
  ADP5061: error((a: { layer: number; depth: number }) => `Layer ${a.layer} does not exist: the model has ${a.depth} layers (0..${a.depth - 1}).`),
  ADP5062: warning((a: { layers: string }) => `No adapters sit in layer(s) ${a.layers}, so --drop-layers removes nothing there.`),
  ADP5063: error((a: { folder: string; reason: string }) => `The spec that made '${a.folder}' is needed for --adapters-only, but ${a.reason}.`),
  ADP5064: error((a: { spec: string; folder: string; reason: string }) => `The spec '${a.spec}' did not make the artifacts in '${a.folder}': ${a.reason}.`),
  ADP5065: error((a: { path: string }) => `The output '${a.path}' is one of the inputs, which export never overwrites.`),
  ADP5066: error((a: { file: string; base: string; reason: string }) => `The adapters in '${a.file}' do not fit the adapted '${a.base}': ${a.reason}.`),
  ADP5067: warning((a: { file: string }) => `The checkpoint '${a.file}' holds the initial value of every trainable parameter, so the export is untrained.`),
  ADP5068: error((a: { folder: string }) => `The artifacts in '${a.folder}' have no masked_lm head for --without-head to remove.`),
  ADP5070: error((a: { folder: string; reason: string }) => `The artifacts in '${a.folder}' cannot be written as an AdapterHub adapter folder: ${a.reason}.`),
  ADP5071: warning((a: { folder: string }) => `The artifacts in '${a.folder}' keep the model's own head, so the AdapterHub folder holds the adapters only.`),
  // ADP5100–5149: `adapterc predict` and `adapterc eval`
  ADP5101: error((a: { file: string; reason: string }) => `The model '${a.file}' cannot be used for predictions: ${a.reason}.`),
  ADP5102: error((a: { file: string; reason: string }) => `The tokenizer '${a.file}' cannot be used: ${a.reason}.`),
  ADP5103: error((a: { option: string; value: string; reason: string }) => `--${a.option} ${a.value} cannot be used: ${a.reason}.`),
  ADP6001: error((a: { source: string; reason: string }) => `The AdapterHub config in ${a.source} cannot be translated: ${a.reason}.`),
  ADP6002: error((a: { option: string; value: string; source: string; reason: string }) => `The AdapterHub option ${a.option}=${a.value} in ${a.source} has no counterpart in a spec: ${a.reason}.`),
  ADP6003: error((a: { folder: string; reason: string }) => `The AdapterHub adapter folder '${a.folder}' cannot start this spec's adapters: ${a.reason}.`),
  ADP6004: warning((a: { folder: string; reason: string }) => `The head of the AdapterHub adapter folder '${a.folder}' is not imported: ${a.reason}.`),
} as const;

export type Catalogue = typeof catalogue;
export type DiagnosticCode = keyof Catalogue;
export type MessageArgs<C extends DiagnosticCode> = Parameters<Catalogue[C]['message']>[0];
