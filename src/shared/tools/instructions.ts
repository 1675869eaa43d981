/** Sent to the agent at initialization: how to use these tools well. */
export const serverInstructions = `This server reads (and soon writes) the signed-in user's Airtable bases.

How to work with it:
- Start with list_bases to get base ids (app…). Then list_tables (use detailLevel "tableIdentifiersOnly" on big bases) and describe_table for the fields of the table you need.
- Tables, fields and views are accepted by id (tbl…, fld…, viw…) or exact name. Ids keep working after a rename; prefer them once you know them. An unknown name gets an error listing the real ones.
- list_records and search_records answer at most pageSize records and about 40 kB. When an answer has nextCursor, call again with the same arguments plus cursor to get the next records; nothing is skipped or repeated. A cursor is single-use and expires after about 5 minutes. Ask only for the fields you need.
- filterByFormula takes an Airtable formula: field names in {braces}, text in "double quotes", e.g. AND({Status} = "Done", {Score} > 3). To find text, prefer search_records: its term is matched literally.
- Airtable allows 5 requests per second per base. This server queues requests to stay within it, so many calls on one base in a row get slower rather than fail; if Airtable still rate-limits, wait about 30 seconds.
- Writes (creating, updating, deleting records) will run as queued operations with an id whose progress you can follow; they are not available yet.
- A tool error says what to change. "No access" means the base or table is not visible to this Airtable sign-in: check the ids with list_bases and list_tables.`;
