import { isWriteScope, type Scope } from "../../shared/auth/scopes.ts";
import { canonicalScopes } from "./scope-param.ts";

/** consentChoice's answer: the scopes to grant, or why the decision is refused. */
export type ConsentChoice =
  | { ok: true; scopes: Scope[] }
  | { ok: false; reason: "not_requested"; values: string[] }
  /** `ticked`: the boxes that were ticked (none, or only write scopes with Read only), to show them again. */
  | { ok: false; reason: "nothing_chosen"; ticked: Scope[] };

/**
 * What the person chose on the consent page (pages.ts renders it): one checkbox per requested scope, all ticked at
 * first, named `scope` with the scope word as value, and the hidden field `scope_choice` saying the form carried
 * them. RFC 6749 §3.3 lets the authorization server grant less than the client asked for "based on … the resource
 * owner's instructions"; the token response then names what was granted.
 *
 * - `scope` values, whenever there are any, are the choice, with `scope_choice` or without (a script posting
 *   `scope=records:read` and the decision gets records:read, not everything requested). With no `scope` value,
 *   `scope_choice` tells the two forms apart: present, the form had boxes and none was ticked (`nothing_chosen`);
 *   absent (a consent page rendered before the checkboxes existed, or a script that posts only the decision),
 *   every requested scope, as before.
 * - `readOnly` (the **Read only** button): the chosen scopes minus the write ones (`isWriteScope`).
 * - A `scope` value that is not a requested scope (a forged or edited form adding `records:write`, or a word that
 *   is no scope at all), with `scope_choice` or without, refuses the whole decision: no honest form can send one, so
 *   nothing of it is trusted.
 * - An empty result is refused too (`nothing_chosen`), not read as Deny: it is most likely a slip (everything
 *   unticked, or Read only with no "See …" box ticked), and Deny is one click away for whoever means it; a Deny
 *   would end the client's sign-in, and the person would have to start again from the app.
 *
 * `form` is the parsed urlencoded body (a repeated field is an array of strings). Never throws.
 */
export function consentChoice(
  form: Record<string, unknown>,
  requested: readonly Scope[],
  options: { readOnly: boolean },
): ConsentChoice {
  const raw = form.scope;
  const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(String);
  const foreign = [...new Set(values.filter((v) => !(requested as readonly string[]).includes(v)))];
  if (foreign.length > 0) return { ok: false, reason: "not_requested", values: foreign };
  const chosen =
    values.length === 0 && form.scope_choice === undefined ? [...requested] : canonicalScopes(values as Scope[]);
  const granted = options.readOnly ? chosen.filter((s) => !isWriteScope(s)) : chosen;
  return granted.length === 0 ? { ok: false, reason: "nothing_chosen", ticked: chosen } : { ok: true, scopes: granted };
}
