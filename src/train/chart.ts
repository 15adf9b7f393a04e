/**
 * The loss curve as one self-contained HTML page (an inline SVG, no scripts, no external assets):
 * the training loss of every step (thin), its moving average (thick), the dev loss after each
 * epoch (dots), and a table of the epochs.
 */

export interface ChartStep {
  readonly step: number;
  readonly loss: number;
}

export interface ChartEpoch {
  readonly epoch: number;
  readonly step: number;
  readonly trainLoss: number;
  readonly devLoss?: number;
  /** e.g. 'accuracy 0.812' */
  readonly devMetric?: string;
  readonly best?: boolean;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function movingAverage(values: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= window) sum -= values[i - window]!;
    out.push(sum / Math.min(i + 1, window));
  }
  return out;
}

export function lossChartHtml(title: string, steps: readonly ChartStep[], epochs: readonly ChartEpoch[], notes: readonly string[] = []): string {
  const width = 860;
  const height = 420;
  const m = { left: 64, right: 24, top: 36, bottom: 48 };
  const finite = steps.filter((s) => Number.isFinite(s.loss));
  const losses = [...finite.map((s) => s.loss), ...epochs.flatMap((e) => (e.devLoss !== undefined && Number.isFinite(e.devLoss) ? [e.devLoss] : []))];
  const maxStep = Math.max(1, ...steps.map((s) => s.step));
  const lo = Math.min(0, ...losses);
  const hi = losses.length === 0 ? 1 : Math.max(...losses) * 1.05 || 1;
  const x = (step: number) => m.left + ((step - 0) / maxStep) * (width - m.left - m.right);
  const y = (loss: number) => height - m.bottom - ((loss - lo) / (hi - lo)) * (height - m.top - m.bottom);
  const path = (points: readonly (readonly [number, number])[]) => points.map(([s, l], i) => `${i === 0 ? 'M' : 'L'}${x(s).toFixed(1)},${y(l).toFixed(1)}`).join(' ');
  const window = Math.max(1, Math.round(finite.length / 40));
  const smooth = movingAverage(finite.map((s) => s.loss), window);
  const parts: string[] = [];
  for (const t of ticks(lo, hi, 6)) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  for (const t of ticks(0, maxStep, 8)) {
    parts.push(`<line x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="${height - m.bottom}" y2="${height - m.bottom + 5}" stroke="#555"/>`);
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - m.bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  for (const e of epochs) parts.push(`<line x1="${x(e.step).toFixed(1)}" x2="${x(e.step).toFixed(1)}" y1="${m.top}" y2="${height - m.bottom}" stroke="#bbb" stroke-dasharray="4 4"/>`);
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#555"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#555"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 10}" text-anchor="middle">optimizer step</text>`);
  parts.push(`<text x="16" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.top + height - m.bottom) / 2})">loss</text>`);
  if (finite.length > 0) {
    parts.push(`<path d="${path(finite.map((s) => [s.step, s.loss]))}" fill="none" stroke="#9ecae1" stroke-width="1"/>`);
    parts.push(`<path d="${path(finite.map((s, i) => [s.step, smooth[i]!]))}" fill="none" stroke="#08519c" stroke-width="2.5"/>`);
  }
  for (const e of epochs) {
    if (e.devLoss === undefined || !Number.isFinite(e.devLoss)) continue;
    parts.push(`<circle cx="${x(e.step).toFixed(1)}" cy="${y(e.devLoss).toFixed(1)}" r="${e.best ? 6 : 4.5}" fill="${e.best ? '#d94801' : '#fd8d3c'}" stroke="#fff"><title>epoch ${e.epoch}: dev loss ${e.devLoss.toFixed(4)}${e.devMetric ? `, ${escape(e.devMetric)}` : ''}</title></circle>`);
  }
  // The legend: one row above the plot.
  const legend: [string, string][] = [
    [`<line x1="0" x2="24" y1="0" y2="0" stroke="#9ecae1" stroke-width="1"/>`, 'training loss per step'],
    [`<line x1="0" x2="24" y1="0" y2="0" stroke="#08519c" stroke-width="2.5"/>`, `moving average (${window} steps)`],
  ];
  if (epochs.some((e) => e.devLoss !== undefined)) legend.push([`<circle cx="12" cy="0" r="4.5" fill="#fd8d3c"/>`, 'dev loss after each epoch (large: the epoch kept)']);
  let lx = m.left;
  for (const [mark, label] of legend) {
    parts.push(`<g transform="translate(${lx} 14)">${mark}<text x="30" y="4">${escape(label)}</text></g>`);
    lx += 30 + label.length * 6.6 + 24;
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-label="loss curve">\n${parts.join('\n')}\n</svg>`;
  const rows = epochs
    .map((e) => `<tr${e.best ? ' class="best"' : ''}><td>${e.epoch}</td><td>${e.step}</td><td>${e.trainLoss.toFixed(4)}</td><td>${e.devLoss === undefined ? '' : e.devLoss.toFixed(4)}</td><td>${escape(e.devMetric ?? '')}</td></tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin-top: 16px; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
tr.best { background: #fee6ce; font-weight: bold; }
p.note { color: #555; margin: 4px 0; }
</style>
</head>
<body>
<h1>${escape(title)}</h1>
${notes.map((n) => `<p class="note">${escape(n)}</p>`).join('\n')}
${svg}
<table>
<tr><th>epoch</th><th>step</th><th>mean training loss</th><th>dev loss</th><th>dev metric</th></tr>
${rows}
</table>
</body>
</html>
`;
}
