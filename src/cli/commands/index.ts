/** The command registry: one module per command, listed in the order `--help` shows them. */
import type { Command } from '../io.js';
import { checkCommand } from './check.js';
import { compileCommand } from './compile.js';
import { exportCommand } from './export.js';
import { fmtCommand } from './fmt.js';
import { fromAdapterHubCommand } from './from-adapterhub.js';
import { inspectCommand } from './inspect.js';
import { evalCommand, predictCommand } from './predict.js';
import { trainCommand } from './train.js';

export const commands: readonly Command[] = [checkCommand, compileCommand, evalCommand, exportCommand, fmtCommand, fromAdapterHubCommand, inspectCommand, predictCommand, trainCommand];
