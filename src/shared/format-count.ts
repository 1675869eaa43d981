/**
 * A count as agents and people read it in English text: digits grouped by thousands (`3000` → `"3,000"`,
 * `1234567` → `"1,234,567"`). Fixed to en-US, not the process's locale, so a message reads the same on every
 * instance and tests can match it.
 */
export function formatCount(count: number): string {
  return count.toLocaleString("en-US");
}
