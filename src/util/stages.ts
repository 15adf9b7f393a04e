/**
 * Wall time per compiler stage, for `adapterc compile --timings` (like `tsc --extendedDiagnostics`):
 * where a slow compile spends its time, measured rather than guessed. Recording is off unless a
 * caller starts it, so the library calls made in tests cost nothing and keep nothing.
 */
export interface StageTime {
  readonly stage: string;
  readonly ms: number;
}

let recording: StageTime[] | undefined;

/** Starts recording (dropping anything recorded before); `stageTimes` returns what was recorded since. */
export function recordStages(): void {
  recording = [];
}

/** Stops recording and returns the stages in the order they ended. */
export function stageTimes(): StageTime[] {
  const times = recording ?? [];
  recording = undefined;
  return times;
}

function note(stage: string, started: number): void {
  recording?.push({ stage, ms: performance.now() - started });
}

/** The clock, read only while recording: the library's callers pay nothing for the stages. */
function now(): number {
  return recording === undefined ? 0 : performance.now();
}

/** Runs `run` as the stage `name`. */
export function stage<T>(name: string, run: () => T): T {
  const started = now();
  try {
    return run();
  } finally {
    note(name, started);
  }
}

/** Runs the asynchronous `run` as the stage `name` (timed until its promise settles). */
export async function stageAsync<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = now();
  try {
    return await run();
  } finally {
    note(name, started);
  }
}

/** The recorded stages as an aligned table, with the process's start-up time and the total. */
export function renderStageTimes(times: readonly StageTime[], startupMs: number, totalMs: number): string {
  const rows: Array<[string, number]> = [['start-up (node and modules)', startupMs], ...times.map((t): [string, number] => [t.stage, t.ms]), ['total (since the process started)', totalMs]];
  const width = Math.max(...rows.map(([name]) => name.length));
  return ['timings (wall clock, ms; base.data or the checkpoint is written meanwhile):', ...rows.map(([name, ms]) => `  ${name.padEnd(width)}  ${ms.toFixed(0).padStart(6)}`)].join('\n');
}
