/** Code frames: the line with a caret under the span, clipped to a window around it on a long line. */
import { describe, expect, it } from 'vitest';
import { checkSpecText } from '../../src/check/check.js';
import { FRAME_WIDTH, renderDiagnostics } from '../../src/diagnostics/index.js';

function rendered(text: string): string {
  const checked = checkSpecText(text, 'long.adp');
  expect(checked.diagnostics.length).toBeGreaterThan(0);
  return renderDiagnostics(checked.diagnostics.slice(0, 1), checked.sources);
}

describe('code frames', () => {
  it('a short line is shown whole, the caret under the span', () => {
    expect(rendered('adapter a {\n  size 8\n  activation gleu\n}\n')).toBe(
      [
        "long.adp:3:14 - error ADP1101: Unknown activation 'gleu'.",
        '',
        '  3 |   activation gleu',
        '    |              ^^^^',
        "  help: did you mean 'gelu'?",
      ].join('\n'),
    );
  });

  it('a 100,000-character line on line 50,001 gives a frame of a window around the caret', () => {
    const text = `${'# filler\n'.repeat(50_000)}${' '.repeat(60_000)}adapter a { size 8 activation gleu }${' '.repeat(40_000)}\n`;
    const out = rendered(text);
    expect(out.length).toBeLessThan(600);
    const [, , frame, caret] = out.split('\n');
    expect(frame).toMatch(/^ {2}50001 \| …\s+adapter a \{ size 8 activation gleu \}\s+…$/);
    expect(frame!.length).toBeLessThanOrEqual('  50001 | '.length + FRAME_WIDTH + 2);
    // The caret still points at 'gleu'.
    expect(frame!.slice(caret!.indexOf('^'), caret!.indexOf('^') + 4)).toBe('gleu');
  });

  it('a long line with the span near its start or end keeps that end, marking the other', () => {
    const start = rendered(`adapter a { size 8 activation gleu }${' '.repeat(300)}# tail\n`).split('\n')[2]!;
    expect(start.startsWith('  1 | adapter a')).toBe(true);
    expect(start.endsWith('…')).toBe(true);
    const end = rendered(`${'#'.repeat(0)}${' '.repeat(300)}adapter a { size 8 activation gleu }\n`).split('\n');
    expect(end[2]!.endsWith('gleu }')).toBe(true);
    expect(end[2]!.slice(end[3]!.indexOf('^'), end[3]!.indexOf('^') + 4)).toBe('gleu');
  });
});
