/**
 * Numbers as the CLI prints them. `toLocaleString('en-US')` would do, but its first call loads
 * ICU's number formatting: 11 ms of every compile that prints a summary (`node`, first call against
 * the second).
 */

/** An integer with commas between groups of three digits, as `toLocaleString('en-US')` writes it. */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',');
  return n < 0 ? `-${grouped}` : grouped;
}
