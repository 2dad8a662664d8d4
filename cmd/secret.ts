// `pod secret`: create, ls, inspect, rm, exists (podman's file driver).
import type { PodArgs, PodCommand } from "./_args.ts";
import { reportAll } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { existsCommand } from "./_exists.ts";
import { createNamedSecret, parseDriverOptions, prettySecret, inspectSecrets, listSecretViews, readSecretSource, removeSecrets, secretExists } from "../pkg/secret/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { parseLabels } from "../pkg/runtime/index.ts";
import { err, formatItems, formatValue, out } from "../pkg/output/index.ts";

const secretsArg = { secret: { type: "positional", description: "Secrets (names or IDs)", required: false } } satisfies PodArgs;

const createArgs = {
  driver: { type: "enum", alias: "d", options: ["file"], default: "file", description: "Secret driver (pod has only file)", valueHint: "driver" },
  env: { type: "boolean", description: "Read the secret data from the environment variable named instead of a file" },
  label: { type: "string", alias: "l", multiple: true, description: "Set a label on the secret (KEY=VALUE or KEY)", valueHint: "label" },
  "driver-opts": { type: "string", multiple: true, description: "Driver options, KEY=VALUE[,KEY=VALUE…]", valueHint: "options" },
  replace: { type: "boolean", description: "If a secret with the same name exists, replace it" },
  name: { type: "positional", description: "Secret name", required: false },
  file: { type: "positional", description: "File to read the data from, - for stdin (with --env: a variable name)", required: false },
} satisfies PodArgs;

export const create: PodCommand = {
  meta: { name: "create", description: "Create a new secret" },
  examples: ["pod secret create db-pass ./pass.txt", "printf s3cret | pod secret create db-pass -", "pod secret create --env db-pass DB_PASS"],
  args: createArgs,
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length !== 2) throw new UsageError("`pod secret create` takes exactly a NAME and a FILE (or - for stdin)", { hint: "pod secret create db-pass ./pass.txt" });
    const ctx = openContext(args);
    const labels = parseLabels((args.label as unknown as string[] | undefined) ?? []);
    const driverOptions = parseDriverOptions((args["driver-opts"] as unknown as string[] | undefined) ?? []);
    const data = await readSecretSource(pos[1]!, Boolean(args.env));
    out(`${await createNamedSecret(ctx.paths, pos[0]!, data, { labels, driverOptions }, Boolean(args.replace))}\n`);
  },
};

const lsSpec = {
  table: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}",
  headers: { ID: "ID", Name: "NAME", Driver: "DRIVER", CreatedAt: "CREATED", UpdatedAt: "UPDATED" },
};

const lsArgs = {
  quiet: { type: "boolean", alias: "q", description: "Print only secret IDs" },
  filter: { type: "string", alias: "f", multiple: true, description: "Filter: name=, id= (regular expressions)", valueHint: "filter" },
  noheading: { type: "boolean", alias: "n", description: "Do not print headers" },
  ...formatArg,
} satisfies PodArgs;

export const ls: PodCommand = {
  meta: { name: "ls", description: "List secrets" },
  examples: ["pod secret ls", "pod secret ls -q --filter name=db", "pod secret ls --format '{{.Name}} {{.ID}}'"],
  args: lsArgs,
  async run({ args }) {
    const views = listSecretViews(openContext(args).paths, (args.filter as unknown as string[] | undefined) ?? []);
    if (args.quiet) return out(views.map((v) => `${v.ID}\n`).join(""));
    out(formatItems(args.format as string | undefined, views, lsSpec, { noHeading: Boolean(args.noheading) }));
  },
};

export const inspect: PodCommand = {
  meta: { name: "inspect", description: "Display the details of secrets (never their data)" },
  examples: ["pod secret inspect db-pass", "pod secret inspect --format '{{.ID}}' db-pass"],
  args: {
    format: { type: "string", alias: "f", description: "Output format: json or a Go template", valueHint: "format" },
    pretty: { type: "boolean", description: "Print a human-readable report" },
    showsecret: { type: "boolean", description: "Display the secret's data (SecretData)" },
    ...secretsArg,
  },
  async run({ args }) {
    const refs = args._ as string[];
    if (!refs.length) throw new UsageError("provide at least one secret name or ID", { hint: "pod secret inspect db-pass" });
    if (args.pretty && args.format) throw new UsageError("--format and --pretty cannot be used together", { hint: "pick one of them" });
    const { views, errors } = inspectSecrets(openContext(args).paths, refs, false, Boolean(args.showsecret));
    if (args.pretty) out(views.map(prettySecret).join("\n"));
    else if (views.length || !errors.length) out(formatValue(args.format as string | undefined, views));
    reportAll(errors);
  },
};

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove one or more secrets" },
  examples: ["pod secret rm db-pass", "pod secret rm -a", "pod secret rm -i maybe-there"],
  args: {
    all: { type: "boolean", alias: "a", description: "Remove all secrets" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors when a secret does not exist" },
    ...secretsArg,
  },
  async run({ args }) {
    const refs = args._ as string[];
    if (!refs.length && !args.all) throw new UsageError("provide at least one secret name or ID, or --all", { hint: "pod secret rm db-pass" });
    if (refs.length && args.all) throw new UsageError("when using the --all switch, you may not pass any secret names or IDs", { hint: "pod secret rm -a" });
    const { removed, errors } = await removeSecrets(openContext(args).paths, refs, { all: Boolean(args.all), ignore: Boolean(args.ignore) });
    out(removed.map((id) => `${id}\n`).join(""));
    reportAll(errors);
  },
};

export const exists = existsCommand("secret", "db-pass", secretExists);

export const secret: PodCommand = {
  meta: { name: "secret", description: "Manage secrets" },
  examples: ["printf s3cret | pod secret create db-pass -", "pod run --rm --secret db-pass alpine cat /run/secrets/db-pass", "pod secret ls"],
  subCommands: { create, exists, inspect, list: ls, ls, remove: rm, rm } as never,
};
