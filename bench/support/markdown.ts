/** A GitHub-flavoured Markdown table; cells are escaped so a `|` in a value cannot break the row. */
export function markdownTable(columns: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replaceAll("|", "\\|");
  const line = (cells: string[]) => `| ${cells.map(escape).join(" | ")} |`;
  return [line(columns), line(columns.map(() => "---")), ...rows.map(line)].join("\n");
}
