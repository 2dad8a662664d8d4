// Aligned columns like Go's tabwriter as podman configures it (minimum cell
// width 12, padding 2); the last column is never padded.
export type Column<T> = { header: string; value: (row: T) => string };

export function formatTable<T>(columns: Column<T>[], rows: T[], withHeader = true): string {
  const cells = rows.map((r) => columns.map((c) => c.value(r)));
  if (withHeader) cells.unshift(columns.map((c) => c.header));
  return alignCells(cells);
}

export function alignCells(cells: string[][]): string {
  const widths: number[] = [];
  for (const row of cells)
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, Math.max(c.length + 2, 12));
    });
  return cells
    .map((row) =>
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
        .join("")
        .trimEnd(),
    )
    .map((l) => l + "\n")
    .join("");
}
