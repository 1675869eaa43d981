/**
 * What a record write's answer says about link names it matched ignoring case (OperationOptions.linkNamesMatched). A
 * link cell may name a linked record by its primary value; the name is matched exactly first, then ignoring case
 * (linked-records.ts resolveLinkNames), so "acme" links the record "Acme". Session 29's agent trial linked "Website
 * Relaunch" to the record "Website relaunch" without a word: a name differing in case may mean another record (one
 * not created yet), so every answer about the operation (its first one, get_operation, tasks/get) names each such
 * name and the record it linked, and what to do if another was meant.
 */
import { formatCount } from "../format-count.ts";
import type { OperationState } from "./fold.ts";

/**
 * `Link names matched ignoring case: "Project" "website relaunch" → record rec… ("Website relaunch"). If another
 * record was meant, update the link with its record id.` Empty when the operation matched none so.
 */
export function linkNameMatchesSentence(state: OperationState): string {
  const matched = state.operation.options.linkNamesMatched;
  if (matched === undefined) return "";
  const listed = matched.matches.map(
    (m) => `${JSON.stringify(m.field)} ${JSON.stringify(m.given)} → record ${m.recordId} (${JSON.stringify(m.name)})`,
  );
  const more = matched.more === undefined ? "" : `, and ${formatCount(matched.more)} more`;
  return (
    `Link names matched a linked record's primary value ignoring case: ${listed.join("; ")}${more}. If another ` +
    "record was meant, update the link with its record id (create that record first if it does not exist)."
  );
}
