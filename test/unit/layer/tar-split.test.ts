import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { extractLayer, replayLayer, TAR_SPLIT_FILE } from "../../../pkg/layer/index.ts";
import { DigestMismatch } from "../../../pkg/errors.ts";
import { compress, Scratch, tarBytes, type RawEntry } from "./_tar.ts";

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

/** Extracts a layer with its tar-split record and gives back what replaying it yields. */
async function roundTrip(tar: Uint8Array, packing: "none" | "gzip" | "zstd" = "none") {
  const layer = scratch.dest();
  const diff = join(layer, "diff");
  mkdirSync(diff);
  const r = await extractLayer(scratch.blob(compress(tar, packing)), diff, { tarSplit: join(layer, TAR_SPLIT_FILE) });
  const parts: Buffer[] = [];
  for (const b of replayLayer(layer, r.diffID)) parts.push(Buffer.from(b));
  return { layer, diffID: r.diffID, replayed: Buffer.concat(parts) };
}

const entries: RawEntry[] = [
  { path: "etc/", type: "Directory" },
  { path: "etc/passwd", data: "root:x:0:0::/root:/bin/sh\n", mode: 0o600 },
  { path: "etc/big", data: randomBytes(300_000) },
  { path: "etc/empty", data: "" },
  { path: "etc/.wh.gone", data: "" },
  { path: "etc/sub/", type: "Directory" },
  { path: "etc/sub/.wh..wh..opq", data: "" },
  { path: "etc/link", type: "SymbolicLink", linkpath: "passwd" },
  { path: "etc/hard", type: "Link", linkpath: "etc/passwd" },
  { path: "x".repeat(150) + "/long", data: "long name", pax: { path: "x".repeat(150) + "/long" } },
  { path: "bin/", type: "Directory" },
  { path: "bin/cap", data: "capable", pax: { "SCHILY.xattr.user.note": new Uint8Array([0, 1, 2, 255]) } },
];

describe("tar-split: the layer's own tar comes back from its files", () => {
  for (const packing of ["none", "gzip", "zstd"] as const) {
    test(`${packing}: byte for byte, whiteouts, links, PAX and long names included`, async () => {
      const tar = tarBytes(entries);
      const { replayed, diffID } = await roundTrip(tar, packing);
      expect(replayed.equals(tar)).toBe(true);
      expect(diffID).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(tar).digest("hex")}`);
    });
  }

  test("bytes after the end blocks (a 10 KiB record) are kept", async () => {
    const tar = tarBytes(entries.slice(0, 3));
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))]);
    const { replayed } = await roundTrip(padded);
    expect(replayed.equals(padded)).toBe(true);
  });

  test("a file changed on disk fails the replay with a digest mismatch", async () => {
    const { layer, diffID } = await roundTrip(tarBytes(entries.slice(0, 3)));
    writeFileSync(join(layer, "diff", "etc", "passwd"), "root:x:0:0::/root:/bin/bash\n");
    expect(() => [...replayLayer(layer, diffID)]).toThrow(DigestMismatch);
  });
});
