/**
 * The scopes this server issues, in plain words for the consent page, and the Airtable scopes each needs
 * upstream, and whether it lets a client change anything (`writes`: the consent page's **Read only** leaves
 * those out). Tools declare the scopes they require (see the tool catalog).
 */
export const scopeCatalog = {
  "records:read": { airtable: ["data.records:read"], writes: false, description: "See the records in your bases" },
  "records:write": { airtable: ["data.records:write"], writes: true, description: "Create, change and delete records" },
  "schema:read": { airtable: ["schema.bases:read"], writes: false, description: "See your bases, tables and fields" },
  "schema:write": {
    airtable: ["schema.bases:write"],
    writes: true,
    description: "Create and change tables and fields",
  },
  "comments:read": { airtable: ["data.recordComments:read"], writes: false, description: "See comments on records" },
  "comments:write": { airtable: ["data.recordComments:write"], writes: true, description: "Add comments to records" },
} as const;

export type Scope = keyof typeof scopeCatalog;
export const allScopes = Object.keys(scopeCatalog) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(scopeCatalog, value);
}

/** Whether `scope` lets a client change something in Airtable (records:write, schema:write, comments:write). */
export function isWriteScope(scope: Scope): boolean {
  return scopeCatalog[scope].writes;
}

/**
 * Airtable scopes to ask for upstream. `schema.bases:read` is always included: every tool resolves table
 * and field names through the base schema, and list_bases needs it.
 */
export function airtableScopesFor(scopes: readonly Scope[]): string[] {
  const wanted = new Set<string>(["schema.bases:read"]);
  for (const scope of scopes) for (const s of scopeCatalog[scope].airtable) wanted.add(s);
  return [...wanted];
}
