/** The command registry: one module per command, listed in the order `--help` shows them. */
import type { Command } from '../io.js';

export const commands: readonly Command[] = [];
