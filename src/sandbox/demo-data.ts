/**
 * Demo data for `node src/sandbox/main.ts` and for tests that want a realistic base: a user, a "Demo CRM" base
 * with Companies and Contacts using every field type the sandbox supports, and 30 contacts. The demos add
 * {@link seedReadOnlyDemo}'s second base, which the demo user may only read; tests calling seedDemo get the one base.
 *
 * Contacts.Company links each contact to its company (seeded by company name, with typecast); Companies gets the
 * inverse link "Contacts", a count and a rollup over it; Contacts looks the company's name and industry up and has
 * a formula, so the base looks like the linked bases people have.
 */
import type { BaseInfo, Sandbox } from "./index.ts";

export interface DemoData {
  user: { id: string; email: string; name: string };
  token: string;
  base: BaseInfo;
}

const COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries"];
const FIRST = ["Ada", "Ben", "Chloe", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon"];
const LAST = ["Park", "Ortiz", "Nguyen"];
const STAGES = ["Lead", "Qualified", "Customer", "Churned"];
const TAGS = ["vip", "newsletter", "partner", "beta"];

/** The demo user: who the compose demo and the embedded demo sign in as. */
export const DEMO_USER_EMAIL = "demo@example.com";

export function seedDemo(sandbox: Sandbox, email = DEMO_USER_EMAIL): DemoData {
  const user = sandbox.addUser({ email, name: "Demo User" });
  const token = sandbox.createPersonalAccessToken(user.id);
  const contacts = Array.from({ length: 30 }, (_, i) => {
    const first = FIRST[i % FIRST.length] as string;
    const last = LAST[i % LAST.length] as string;
    const record: Record<string, unknown> = {
      Name: `${first} ${last}`,
      Email: `${first.toLowerCase()}.${last.toLowerCase()}${i}@example.com`,
      Company: COMPANIES[i % COMPANIES.length],
      Stage: STAGES[i % STAGES.length],
      Tags: TAGS.filter((_, t) => (i >> t) % 2 === 1),
      "Deal size": 1000 * ((i % 7) + 1) + 0.5 * (i % 2),
      Subscribed: i % 3 === 0,
      "Last contact": `2026-0${(i % 9) + 1}-1${i % 10}`,
      Notes: i % 4 === 0 ? `Met at conference #${i}.\nFollow up in spring.` : "",
      Phone: `+1 555 01${String(i).padStart(2, "0")}`,
      Website: `https://example.com/${i}`,
      "Win probability": [0.1, 0.25, 0.5, 0.9][i % 4],
      Satisfaction: (i % 5) + 1,
      "Call time": 60 * (15 + (i % 4) * 15),
    };
    if (i % 5 === 0) record["Next meeting"] = `2026-12-0${(i % 9) + 1}T15:30:00.000Z`;
    return record;
  });
  const base = sandbox.createBase(user.id, {
    name: "Demo CRM",
    tables: [
      {
        name: "Companies",
        description: "Organisations we work with",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Website", type: "url" },
          {
            name: "Industry",
            type: "singleSelect",
            options: { choices: [{ name: "Software" }, { name: "Manufacturing" }, { name: "Retail" }] },
          },
          { name: "Employees", type: "number", options: { precision: 0 } },
          { name: "Logo", type: "multipleAttachments" },
          { name: "Created", type: "createdTime" },
          { name: "Annual revenue", type: "currency", options: { precision: 0, symbol: "$" } },
          { name: "Account manager", type: "singleCollaborator" },
          // "Contacts" (the inverse of Contacts.Company) is created by the link; these read through it.
          { name: "Number of contacts", type: "count", options: { recordLinkFieldId: "Contacts" } },
          {
            name: "Total deal size",
            type: "rollup",
            options: { recordLinkFieldId: "Contacts", fieldIdInLinkedTable: "Deal size", formula: "SUM(values)" },
          },
        ],
        records: COMPANIES.map((name, i) => ({
          Name: name,
          Website: `https://${name.toLowerCase().replace(/\s+/g, "")}.example`,
          Industry: ["Software", "Manufacturing", "Retail"][i % 3],
          Employees: (i + 1) * 120,
          "Annual revenue": (i + 1) * 250_000,
          "Account manager": { id: user.id },
        })),
      },
      {
        name: "Contacts",
        fields: [
          { name: "Name", type: "singleLineText", description: "Full name" },
          { name: "Email", type: "email" },
          { name: "Company", type: "multipleRecordLinks", options: { linkedTableId: "Companies" } },
          {
            name: "Stage",
            type: "singleSelect",
            options: {
              choices: STAGES.map((name, i) => ({
                name,
                color: ["blueLight2", "cyanLight2", "greenLight2", "grayLight2"][i],
              })),
            },
          },
          { name: "Tags", type: "multipleSelects", options: { choices: TAGS.map((name) => ({ name })) } },
          { name: "Deal size", type: "number", options: { precision: 2 } },
          { name: "Subscribed", type: "checkbox" },
          { name: "Last contact", type: "date", options: { dateFormat: { name: "iso" } } },
          {
            name: "Next meeting",
            type: "dateTime",
            options: { dateFormat: { name: "iso" }, timeFormat: { name: "24hour" }, timeZone: "utc" },
          },
          { name: "Notes", type: "multilineText" },
          { name: "Bio", type: "richText" },
          { name: "Phone", type: "phoneNumber" },
          { name: "Website", type: "url" },
          { name: "Files", type: "multipleAttachments" },
          { name: "Created", type: "createdTime" },
          { name: "Number", type: "autoNumber" },
          {
            name: "Company name",
            type: "multipleLookupValues",
            options: { recordLinkFieldId: "Company", fieldIdInLinkedTable: "Name" },
          },
          {
            name: "Company industry",
            type: "multipleLookupValues",
            options: { recordLinkFieldId: "Company", fieldIdInLinkedTable: "Industry" },
          },
          { name: "Label", type: "formula", options: { formula: '{Name} & " (" & {Stage} & ")"' } },
          { name: "Win probability", type: "percent", options: { precision: 0 } },
          { name: "Satisfaction", type: "rating", options: { max: 5, icon: "star", color: "yellowBright" } },
          { name: "Call time", type: "duration", options: { durationFormat: "h:mm" } },
          { name: "Last modified", type: "lastModifiedTime" },
          { name: "Open website", type: "button", options: { label: "Open", url: "{Website}" } },
        ],
        views: [{ name: "All contacts" }],
        records: contacts,
        // Company names become links to the Companies records of that name.
        typecast: true,
      },
    ],
  });
  return { user, token, base };
}

/** The read-only demo base's name: what list_bases shows beside "Demo CRM" (with permissionLevel "read"). */
export const READ_ONLY_BASE_NAME = "Demo Price List (read-only)";
/** Who owns the read-only demo base and shared it with the demo user as read-only. */
export const DEMO_OWNER_EMAIL = "owner@example.com";

/**
 * A second, small demo base ("Demo Price List (read-only)": one table, Products, 5 records) owned by another user,
 * {@link DEMO_OWNER_EMAIL}, who shared it with the demo user (`demoUserId`) at permission level "read" — so that a
 * person trying the demo sees what happens on a base they may only read: list_bases lists it with
 * `permissionLevel: "read"`, reads work, and a write is refused (Airtable answers 403 INVALID_PERMISSIONS; levels
 * from https://airtable.com/developers/web/api/model/permission-levels). Seeded by the demos (`npm run sandbox`,
 * `npm start`'s embedded demo) beside {@link seedDemo}'s base, not by seedDemo itself: the tests built on seedDemo
 * count on its one base. Throws when the owner's email is already a user (seed a fresh sandbox).
 */
export function seedReadOnlyDemo(sandbox: Sandbox, demoUserId: string): { owner: DemoData["user"]; base: BaseInfo } {
  const owner = sandbox.addUser({ email: DEMO_OWNER_EMAIL, name: "Base Owner" });
  const products: [string, number, boolean][] = [
    ["Starter plan", 9, true],
    ["Team plan", 29, true],
    ["Business plan", 99, true],
    ["Onboarding session", 250, false],
    ["Priority support", 49, true],
  ];
  const base = sandbox.createBase(owner.id, {
    name: READ_ONLY_BASE_NAME,
    tables: [
      {
        name: "Products",
        description: "Shared by its owner with the demo user as read-only",
        fields: [
          { name: "Name", type: "singleLineText" },
          { name: "Price", type: "currency", options: { precision: 0, symbol: "$" } },
          { name: "Available", type: "checkbox" },
        ],
        records: products.map(([Name, Price, Available]) => ({ Name, Price, Available })),
      },
    ],
  });
  sandbox.grantAccess(base.id, demoUserId, "read");
  return { owner, base };
}
