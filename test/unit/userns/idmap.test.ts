import { expect, test } from "bun:test";
import { buildIdMap, parseSubIdFile, toHostId, mappedCount } from "../../../pkg/userns/idmap.ts";

const file = `# comment
alice:100000:65536
1001:300000:1000
bob:165536:65536
alice:200000:10
bad:line
`;

test("parseSubIdFile matches by name or uid and keeps every range", () => {
  expect(parseSubIdFile(file, "alice", 1000)).toEqual([
    { start: 100000, count: 65536 },
    { start: 200000, count: 10 },
  ]);
  expect(parseSubIdFile(file, "carol", 1001)).toEqual([{ start: 300000, count: 1000 }]);
  expect(parseSubIdFile(file, "nobody", 5)).toEqual([]);
});
test("buildIdMap: 0 is the user, then the ranges back to back", () => {
  const m = buildIdMap(1000, [
    { start: 100000, count: 65536 },
    { start: 200000, count: 10 },
  ]);
  expect(m).toEqual([0, 1000, 1, 1, 100000, 65536, 65537, 200000, 10]);
  expect(toHostId(m, 0)).toBe(1000);
  expect(toHostId(m, 1)).toBe(100000);
  expect(toHostId(m, 65537)).toBe(200000);
  expect(toHostId(m, 65547)).toBeUndefined();
  expect(mappedCount(m)).toBe(65547);
});
