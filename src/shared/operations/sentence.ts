/**
 * Airtable's error messages quoted inside our own sentences: some end without a full stop ("You are not permitted
 * to perform this operation"), so one is added before the next sentence of ours begins.
 */

/** `message` trimmed, ending with ".", "!" or "?" (a full stop added when it has none). */
export function sentence(message: string): string {
  const said = message.trim();
  return /[.!?]$/.test(said) ? said : `${said}.`;
}

/** As `sentence`, but a message ending in ")" is left as it is (whole-request.ts quotes errors this way). */
export function asSentence(message: string): string {
  const said = message.trim();
  return /[.!?)]$/.test(said) ? said : `${said}.`;
}
