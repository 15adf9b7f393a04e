// Child process of bench/run.ts: load a model, discover its sites, save it again (compiled code in dist/).
import { readModel, writeModel } from '../../dist/load/index.js';
import { discover } from '../../dist/discover/index.js';

const [input, output] = process.argv.slice(2);
const started = performance.now();
const model = await readModel(input);
const found = discover(model, input);
await writeModel(model, output);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, layers: found.layers.length }));
