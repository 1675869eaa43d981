/**
 * What the signed-in user may do on a base, as Airtable's list bases tells it, and the sentences that explain a
 * refusal by it.
 *
 * Airtable's rules (https://airtable.com/developers/web/api/list-bases, /scopes, and each endpoint's "User role"):
 * list bases "returns the list of bases the token can access" with the user's `permissionLevel` on each — `none`,
 * `read`, `comment`, `edit` or `create`. A base the user did not add on Airtable's consent page (or to a personal
 * access token) is not listed and answers 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND, like a base that does not
 * exist; one listed with `none` opens nothing either. Reading needs `read`, comments "Base commenter" (`comment`),
 * record writes "Base editor" (`edit`), schema changes "Base creator" (`create`); below it Airtable answers 403
 * INVALID_PERMISSIONS. The scopes guide: "On top of requesting the correct scope, the user and token must also have
 * the required resources and permissions to perform the action."
 */
import type { AirtableClient } from "./airtable/client.ts";
import { PERSONAL_ACCESS_TOKEN_PAGE, type CredentialKind } from "./credential-kind.ts";
import type { AirtableBase } from "./airtable/schemas.ts";
import { closestNames } from "./closest-name.ts";

/** list bases' `permissionLevel` values, least first. */
export const PERMISSION_LEVELS = ["none", "read", "comment", "edit", "create"] as const;
export type PermissionLevel = (typeof PERMISSION_LEVELS)[number];

/** The Airtable scopes that write, each with the least level its endpoints need. */
export type AirtableWriteScope = "data.records:write" | "data.recordComments:write" | "schema.bases:write";

/**
 * The least permission level Airtable requires of a request needing `scope`: each endpoint's "User role" —
 * "Base editor" (`edit`) for records and attachments, "Base commenter" (`comment`) for comments, "Base creator"
 * (`create`) for tables and fields. Reads need `read`. The one statement of that rule: write kinds and tools
 * (by the Airtable scopes their own scopes need) both take their level from here.
 */
export function levelNeededFor(scopes: readonly string[]): PermissionLevel {
  if (scopes.includes("schema.bases:write")) return "create";
  if (scopes.includes("data.records:write")) return "edit";
  if (scopes.includes("data.recordComments:write")) return "comment";
  return "read";
}

/** What Airtable calls the role of each level ("User role" on its endpoint pages, and its base permissions page). */
const ROLE: Record<PermissionLevel, string> = {
  none: "no access to the base's data (e.g. interface-only)",
  read: "read-only",
  comment: "commenter",
  edit: "editor",
  create: "creator",
};

/**
 * Whether `level` (as list bases answered it) allows what needs `needed`. A level this server does not know
 * allows everything: Airtable stays the judge, and an unknown word must never block a write.
 */
export function levelAllows(level: string, needed: PermissionLevel): boolean {
  const have = PERMISSION_LEVELS.indexOf(level as PermissionLevel);
  return have < 0 || have >= PERMISSION_LEVELS.indexOf(needed);
}

/** "creator (permissionLevel create)" — the words an agent can match against list_bases' answer. */
export function roleOf(level: string): string {
  const role = ROLE[level as PermissionLevel];
  return role === undefined ? `permissionLevel ${level}` : `${role} (permissionLevel ${level})`;
}

/**
 * The user's access to one base as list bases showed it at `seenAt` (epoch ms): `level` and `name` when the base
 * was listed, neither when it was not (this sign-in does not reach it). `meant`: for a base not listed, the listed
 * bases whose id its id most likely misspells (one or two characters off, or another case: closest-name.ts), when
 * the whole list was at hand; absent otherwise.
 */
export interface BaseAccess {
  baseId: string;
  seenAt: number;
  name?: string;
  level?: string;
  meant?: readonly { id: string; name: string }[];
}

/**
 * The base's entry in a list bases answer (`bases` is all of it); for a base not in it, the listed bases its id is a
 * typo of (`meant`), so that the refusal can name the one the call most likely meant.
 */
export function accessIn(bases: readonly AirtableBase[], baseId: string, seenAt: number): BaseAccess {
  const base = bases.find((b) => b.id === baseId);
  if (base !== undefined) return { baseId, seenAt, name: base.name, level: base.permissionLevel };
  const meant = closestNames(
    baseId,
    bases.map((b) => b.id),
  ).map((id) => {
    const near = bases.find((b) => b.id === id)!;
    return { id: near.id, name: near.name };
  });
  return meant.length === 0 ? { baseId, seenAt } : { baseId, seenAt, meant };
}

/** Asks Airtable (list bases, every page) what the user may do on `baseId`. Throws the client's errors. */
export async function lookUpBaseAccess(
  airtable: Pick<AirtableClient, "listAllBases">,
  baseId: string,
): Promise<{ access: BaseAccess; bases: AirtableBase[] }> {
  const bases = await airtable.listAllBases();
  return { access: accessIn(bases, baseId, Date.now()), bases };
}

/** `appX ("Name")`, or `appX` when the name is unknown. */
export function baseLabel(access: BaseAccess): string {
  return access.name === undefined ? access.baseId : `${access.baseId} (${JSON.stringify(access.name)})`;
}

/**
 * Why `access` refuses an action that needs `needed` (`what`: e.g. "create_records writes records"), as one or two
 * sentences an agent can act on, or undefined when it does not refuse it (the base is listed at a level that
 * allows it, so another cause must explain a refusal: a field or table editing restriction, a missing scope). A
 * base not listed whose id is a typo of a listed one (`access.meant`) is told that one ("did you mean appX
 * ("Sales")?") instead of the advice to sign in again and add the base, which is for a base nothing listed is
 * close to.
 */
export function accessRefusal(
  access: BaseAccess,
  needed: PermissionLevel,
  what: string,
  credential?: CredentialKind,
): string | undefined {
  if (access.level === undefined && access.meant !== undefined && access.meant.length > 0) {
    // A typo of a base the sign-in reaches: that base, not a new sign-in, is the likely fix.
    const meant = access.meant.map((b) => baseLabel({ baseId: b.id, seenAt: access.seenAt, name: b.name }));
    const who =
      credential === "personal access token" ? "the personal access token (AIRTABLE_TOKEN)" : "this Airtable sign-in";
    return (
      `Base ${access.baseId} is not among the bases ${who} can reach (list_bases does not list it): ` +
      `did you mean ${meant.join(" or ")}? Call again with that baseId.`
    );
  }
  if (access.level === undefined) {
    if (credential === "personal access token") {
      return (
        `Base ${access.baseId} is not among the bases the personal access token (AIRTABLE_TOKEN) can reach ` +
        "(list_bases does not list it): it does not exist, or the token has no access to it — a token reaches only " +
        `the bases added to it at ${PERSONAL_ACCESS_TOKEN_PAGE}, and a base's owner can remove your access. Check ` +
        "the id with list_bases; to use another base, add it to the token there (it applies at once), or ask the " +
        "base's owner to share it with you."
      );
    }
    return (
      `Base ${access.baseId} is not among the bases this Airtable sign-in can reach (list_bases does not list it): ` +
      "it does not exist, or your Airtable sign-in has no access to it — Airtable lets a sign-in reach only the bases " +
      'picked on its consent page ("Add a base"), and a base\'s owner can remove your access. Check the id with ' +
      "list_bases; to use another base, sign in again (your MCP client's reconnect or re-authorize) and add it on " +
      "Airtable's page, or ask the base's owner to share it with you."
    );
  }
  if (levelAllows(access.level, needed)) return undefined;
  if (access.level === "none") {
    return (
      `Your Airtable account has no access to the data of base ${baseLabel(access)} (list_bases shows permissionLevel ` +
      `none, e.g. interface-only access): ${what} needs ${roleOf(needed)} or more. Ask the base's owner to share ` +
      "the base itself with you."
    );
  }
  return (
    `Your permission level on base ${baseLabel(access)} is ${roleOf(access.level)}: ${what} needs ${roleOf(needed)} ` +
    "or more (Airtable's role for it). Ask the base's owner to give you that access; after they have, call " +
    "list_bases (it shows your permissionLevel) and try again."
  );
}
