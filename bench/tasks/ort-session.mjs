// Child process of bench/run.ts: onnxruntime-node creating an inference session for a model.
import * as ort from 'onnxruntime-node';

const [input] = process.argv.slice(2);
const started = performance.now();
const session = await ort.InferenceSession.create(input);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, inputs: session.inputNames.length }));
