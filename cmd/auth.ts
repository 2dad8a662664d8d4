// login / logout, podman's flags and messages. Secrets are never printed.
import type { PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { loginRegistry, logoutRegistry } from "../pkg/auth/index.ts";
import { out } from "../pkg/output/index.ts";
import { UsageError } from "../pkg/errors.ts";

export const login: PodCommand = {
  meta: { name: "login", description: "Log in to a container registry" },
  examples: ["pod login quay.io", "echo $TOKEN | pod login -u me --password-stdin registry.example.com"],
  args: {
    username: { type: "string", alias: "u", description: "Username for the registry", valueHint: "user" },
    password: { type: "string", alias: "p", description: "Password for the registry", valueHint: "password" },
    "password-stdin": { type: "boolean", description: "Take the password from stdin" },
    authfile: { type: "string", description: "Path of the authentication file", valueHint: "file" },
    "tls-verify": { type: "boolean", description: "Require HTTPS and verify certificates", default: true },
    "get-login": { type: "boolean", description: "Return the current login user for the registry" },
    registry: { type: "positional", description: "Registry (host[:port][/namespace])" },
  },
  async run({ args }) {
    openContext(args);
    const [registry, ...extra] = args._ as string[];
    if (!registry || extra.length) throw new UsageError("`pod login` takes exactly one REGISTRY", { hint: "pod login quay.io" });
    if (args.password !== undefined && args["password-stdin"])
      throw new UsageError("--password and --password-stdin are mutually exclusive", { hint: "use one of them" });
    const msg = await loginRegistry(registry, {
      username: args.username as string | undefined,
      password: args.password as string | undefined,
      passwordStdin: Boolean(args["password-stdin"]),
      authfile: args.authfile as string | undefined,
      tlsVerify: args["tls-verify"] !== false,
      getLogin: Boolean(args["get-login"]),
    });
    out(msg + "\n");
  },
};

export const logout: PodCommand = {
  meta: { name: "logout", description: "Log out of a container registry" },
  examples: ["pod logout quay.io", "pod logout -a"],
  args: {
    all: { type: "boolean", alias: "a", description: "Remove the cached credentials for all registries" },
    authfile: { type: "string", description: "Path of the authentication file", valueHint: "file" },
    registry: { type: "positional", description: "Registry", required: false },
  },
  async run({ args }) {
    openContext(args);
    const [registry] = args._ as string[];
    if (!registry && !args.all) throw new UsageError("`pod logout` needs a REGISTRY or --all", { hint: "pod logout quay.io" });
    out(logoutRegistry(registry, { all: Boolean(args.all), authfile: args.authfile as string | undefined }) + "\n");
  },
};
