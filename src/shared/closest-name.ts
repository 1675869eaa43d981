/**
 * The names a mistyped one most likely meant: a .env setting (config.ts, settingsFileTypos), a table, field or view
 * name or id given to a tool (schema-cache.ts, SchemaLookupError), a field named in a formula (tool-errors.ts) or a
 * base id (base-permissions.ts). One rule for all, so "did you mean" means the same thing wherever it is said.
 */

/** How closestNames may also match, beyond spelling (see there). */
export interface ClosestNameOptions {
  /**
   * Also answer names `wanted` is whole words of, when nothing is spelt close to it ("Grid" → "Grid view"). For names
   * people give things (tables, fields, views), not for .env settings: a .env holds other programs' variables, and
   * `URL` would be told REDIS_URL.
   */
  words?: boolean;
}

/**
 * The names of `known` that `wanted` most likely means, best first (at most `max`):
 * - those with the same letters and digits once case, spaces and separators are set aside (port for PORT,
 *   "due_date" for "Due date", AIRTABLE-CLIENT-ID for AIRTABLE_CLIENT_ID, a base or table id typed in lowercase);
 *   when there are any, only those;
 * - else those nearest to it, ignoring case, within 2 edits for a name of 6 characters or more, 1 for 3 to 5, and
 *   none below (optimal string alignment distance: a swap of two neighbours is one edit, so "Nmae" is 1 from "Name";
 *   every name of one or two characters is one edit from every other, so "X" is not told "did you mean Y?"). Ids
 *   (app…, tbl…, 17 characters of random letters and digits) are names here too: one or two characters off is a
 *   typo, and two real ids are practically never that close to each other;
 * - else, with `options.words`, the names of which `wanted` is whole words, in order and side by side, case and
 *   separators set aside ("Grid" → "Grid view", "due" → "Due date", "start date" → "Project start date"; not "Gri",
 *   not "Gridiron"), when `wanted` has at least 2 letters or digits. Why: Airtable names a new table's first view
 *   "Grid view" (its interface and API both; the sandbox too) and people call it "Grid", as they call a field "Due date"
 *   "Due"; a word of the name is a weaker guess than a typo, so it is said only when no name is spelt close.
 * Empty when none is that close: a name far from every one is left alone (a .env may hold other programs'
 * variables; a field name may be the wrong table's). Linear in the length of `wanted` whatever it is: the edit
 * distance is computed only for names whose length is within reach of it.
 * @param wanted the name as given
 * @param known the real names, in the order ties are to be listed
 * @param max at most this many are answered (default 3)
 * @param options `words`: also match by whole words (above)
 */
export function closestNames(
  wanted: string,
  known: readonly string[],
  max = 3,
  options: ClosestNameOptions = {},
): string[] {
  const wantedBare = lettersAndDigits(wanted);
  if (wantedBare !== "") {
    const same = known.filter((name) => lettersAndDigits(name) === wantedBare);
    if (same.length > 0) return same.slice(0, max);
  }
  const folded = wanted.trim().toLowerCase();
  let best: string[] = [];
  let bestDistance = Infinity;
  for (const name of known) {
    const candidate = name.trim().toLowerCase();
    const length = [...name.trim()].length;
    const allowed = Math.min(length >= 6 ? 2 : length >= 3 ? 1 : 0, bestDistance);
    // The lengths' difference is a lower bound of the distance: a name that cannot be within reach costs no table.
    // Without it, a 100,000-character name (a tool argument has no length limit short of the request body's) built a
    // 100,000 × n table per known name and held the event loop for seconds (21 s against 200 names).
    if (Math.abs(folded.length - candidate.length) > allowed) continue;
    const distance = editDistance(folded, candidate);
    if (distance > allowed) continue;
    if (distance < bestDistance) {
      best = [];
      bestDistance = distance;
    }
    best.push(name);
  }
  if (best.length > 0 || options.words !== true || wantedBare.length < 2) return best.slice(0, max);
  const wantedWords = words(wanted).join(" ");
  return known.filter((name) => ` ${words(name).join(" ")} `.includes(` ${wantedWords} `)).slice(0, max);
}

/**
 * A name's letters and digits, lowercased: what the same-letters rule compares ("due_date" and "Due date" are both
 * "duedate"); also how a record's id key given under another spelling is recognised (write-inputs.ts, isIdGuess).
 */
export function lettersAndDigits(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

/** A name's words, lowercased: its runs of letters and digits ("Due date" and "due_date" are both due, date). */
function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours, each 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}
