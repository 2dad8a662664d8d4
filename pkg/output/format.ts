// --format handling shared by every listing command, as podman does it:
// no format or "table" → the default table; "json" → indented JSON;
// "table TEMPLATE" → a template with a header row; anything else → the
// template once per item. `\t` and `\n` written literally in a shell are
// turned into real tabs and newlines.
import { parseTemplate, renderHeader, renderTemplate } from "./template.ts";
import { alignCells } from "./table.ts";

export type FormatSpec = {
  /** the default table's template, e.g. "{{.Repository}}\t{{.Tag}}" */
  table: string;
  /** column headers by field name, e.g. { ID: "IMAGE ID" } */
  headers: Record<string, string>;
};

function unescape(s: string): string {
  return s.replace(/\\t/g, "\t").replace(/\\n/g, "\n");
}

function headerFor(field: string, headers: Record<string, string>): string {
  const named = headers[field] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === field.toLowerCase())?.[1];
  return named ?? field.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z])([A-Z][a-z])/g, "$1 $2").toUpperCase();
}

function tableOf(tmpl: string, items: unknown[], spec: FormatSpec, withHeader: boolean): string {
  const t = parseTemplate(unescape(tmpl));
  const rows = items.map((i) => renderTemplate(t, i).split("\t"));
  // podman renders the template once against the headers: every field names its column,
  // whatever separates them (tabs make columns, spaces stay inside one)
  if (withHeader) rows.unshift(renderHeader(t, (field) => headerFor(field, spec.headers)).split("\t"));
  return alignCells(rows);
}

/** Renders items for stdout according to --format. */
export function formatItems(format: string | undefined, items: unknown[], spec: FormatSpec, o: { noHeading?: boolean } = {}): string {
  const f = format?.trim();
  if (!f || f === "table") return tableOf(spec.table, items, spec, !o.noHeading);
  if (f === "json") return JSON.stringify(items, null, 4) + "\n";
  if (f.startsWith("table ")) return tableOf(f.slice(6), items, spec, !o.noHeading);
  const t = parseTemplate(unescape(f));
  return items.map((i) => renderTemplate(t, i) + "\n").join("");
}

/** Renders one value (inspect-style --format): JSON when no template. */
export function formatValue(format: string | undefined, values: unknown[]): string {
  const f = format?.trim();
  if (!f || f === "json") return JSON.stringify(values, null, 4) + "\n";
  const t = parseTemplate(unescape(f));
  return values.map((v) => renderTemplate(t, v) + "\n").join("");
}
