// `pod login` / `pod logout`: check credentials against the registry, then
// store them in containers-auth.json(5) form. Secrets never reach a log line.
import { PodError, Unauthorized } from "../errors.ts";
import {
  findRegistry,
  isLoopbackHost,
  loadRegistriesConfig,
  lookupCredentials,
  parseReference,
  removeAllCredentials,
  removeCredentials,
  saveCredentials,
  tlsFor,
} from "../image/index.ts";
import { RegistryClient } from "../registry/index.ts";
import { err, log } from "../output/index.ts";

export type LoginOptions = {
  username?: string;
  password?: string;
  passwordStdin: boolean;
  authfile?: string;
  tlsVerify: boolean;
  getLogin: boolean;
};

function envWith(authfile?: string): Record<string, string | undefined> {
  return authfile ? { ...process.env, REGISTRY_AUTH_FILE: authfile } : process.env;
}

/** "docker.io" is served by registry-1.docker.io; the key keeps the name people typed. */
function endpointOf(key: string): { host: string; repository: string } {
  const clean = key.replace(/^https?:\/\//, "").replace(/\/+$/, "");
  const [host, ...path] = clean.split("/");
  return { host: host === "docker.io" || host === "index.docker.io" ? "registry-1.docker.io" : host!, repository: path.join("/") };
}

async function readStdin(): Promise<string> {
  return (await Bun.stdin.text()).replace(/\r?\n$/, "");
}

async function prompt(question: string, secret: boolean): Promise<string> {
  if (!process.stdin.isTTY)
    throw new PodError(`cannot prompt for ${secret ? "the password" : "a username"}: stdin is not a terminal`, {
      hint: "pass -u USER and --password-stdin (echo $PASSWORD | pod login -u USER --password-stdin REGISTRY)",
    });
  err(question);
  if (secret) process.stdin.setRawMode(true);
  try {
    let answer = "";
    for await (const chunk of process.stdin) {
      for (const ch of String(chunk)) {
        if (ch === "\r" || ch === "\n") return answer;
        if (ch === "\u0003") throw new PodError("login interrupted");
        if (ch === "\u007f") answer = answer.slice(0, -1);
        else answer += ch;
      }
    }
    return answer;
  } finally {
    if (secret) {
      process.stdin.setRawMode(false);
      err("\n");
    }
    process.stdin.pause();
  }
}

export async function loginRegistry(key: string, o: LoginOptions): Promise<string> {
  const env = envWith(o.authfile);
  const ep = endpointOf(key);
  const registryName = key.replace(/^https?:\/\//, "").split("/")[0]!;
  if (o.getLogin) {
    const c = lookupCredentials(registryName, ep.repository, env);
    if (!c || !("username" in c)) throw new PodError(`not logged into ${key}`, { hint: `pod login ${key}` });
    return c.username;
  }
  const username = o.username ?? (await prompt("Username: ", false));
  const password = o.passwordStdin ? await readStdin() : (o.password ?? (await prompt("Password: ", true)));
  if (!username || !password) throw new PodError("username and password are both required", { hint: "pod login -u USER REGISTRY" });
  const cfg = loadRegistriesConfig(env);
  let insecure = o.tlsVerify === false;
  try {
    insecure ||= findRegistry(cfg, parseReference(`${registryName}/x`))?.insecure ?? false;
  } catch (e) {
    log.debug(`no registries.conf entry for ${registryName}: ${(e as Error).message}`);
  }
  const client = new RegistryClient({
    host: ep.host,
    insecure,
    loopback: isLoopbackHost(ep.host),
    tls: tlsFor(ep.host, env),
    credentials: { username, password },
    log: (m: string) => log.debug(m),
  });
  try {
    await client.ping();
  } catch (e) {
    if (e instanceof Unauthorized)
      throw new Unauthorized(`logging in to ${key}: invalid username/password`, { hint: "check them and try again; nothing was saved" });
    throw e;
  }
  const file = saveCredentials(key, username, password, env);
  log.debug(`credentials for ${key} saved in ${file}`);
  return "Login Succeeded!";
}

export function logoutRegistry(key: string | undefined, o: { all: boolean; authfile?: string }): string {
  const env = envWith(o.authfile);
  if (o.all) {
    removeAllCredentials(env);
    return "Removed login credentials for all registries";
  }
  if (!removeCredentials(key!, env)) throw new PodError(`not logged into ${key}`, { hint: "`pod login --get-login REGISTRY` shows where you are logged in" });
  return `Removed login credentials for ${key}`;
}
