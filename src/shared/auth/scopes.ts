/**
 * The scopes this server issues, in plain words for the consent page, and the Airtable scopes each needs
 * upstream. Tools declare the scopes they require (see the tool catalog).
 */
export const scopeCatalog = {
  "records:read": { airtable: ["data.records:read"], description: "See the records in your bases" },
  "records:write": { airtable: ["data.records:write"], description: "Create, change and delete records" },
  "schema:read": { airtable: ["schema.bases:read"], description: "See your bases, tables and fields" },
  "schema:write": { airtable: ["schema.bases:write"], description: "Create and change tables and fields" },
  "comments:read": { airtable: ["data.recordComments:read"], description: "See comments on records" },
  "comments:write": { airtable: ["data.recordComments:write"], description: "Add comments to records" },
} as const;

export type Scope = keyof typeof scopeCatalog;
export const allScopes = Object.keys(scopeCatalog) as Scope[];

export function isScope(value: string): value is Scope {
  return Object.hasOwn(scopeCatalog, value);
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
