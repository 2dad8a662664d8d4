// The file driver's store: 0600 files, names unique, lookup by name, ID and prefix, data apart from the records.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecret, deleteSecrets, findSecret, listSecrets, secretData } from "../../../pkg/secret/records.ts";

const root = mkdtempSync(join(tmpdir(), "pod-secret-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const paths = { root };

describe("secret records", () => {
  test("create, find, read, delete", async () => {
    const a = await createSecret(paths, "a", new TextEncoder().encode("alpha"));
    expect(a.id).toMatch(/^[0-9a-f]{25}$/);
    await expect(createSecret(paths, "a", new Uint8Array([1]))).rejects.toThrow("a: secret name in use");
    await expect(createSecret(paths, "b", new Uint8Array())).rejects.toThrow(/larger than 0/);
    await expect(createSecret(paths, "-b", new Uint8Array([1]))).rejects.toThrow(/invalid secret name/);
    expect(findSecret(paths, "a")?.id).toBe(a.id);
    expect(findSecret(paths, a.id.slice(0, 6))?.name).toBe("a");
    expect(secretData(paths, a.id, "a").toString()).toBe("alpha");
    for (const f of ["secrets.json", "filedriver/secretsdata.json"]) expect(statSync(join(root, "secrets", f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, "secrets", "secrets.json"), "utf8")).not.toContain(Buffer.from("alpha").toString("base64"));
    expect(await deleteSecrets(paths, [a.id])).toEqual([a.id]);
    expect(listSecrets(paths)).toEqual([]);
    expect(() => secretData(paths, a.id, "a")).toThrow(/no longer exists/);
  });
});
