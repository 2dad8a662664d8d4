import { describe, expect, test } from "bun:test";
import { parseContainerfile } from "../../../pkg/build/containerfile.ts";
import { argsAffecting, expand, expandWords, ExpansionError, parseKeyValues, usesVariables } from "../../../pkg/build/expand.ts";

const env = new Map([["A", "1"], ["E", ""], ["P", "/usr/local/bin"], ["S", "a b"]]);

describe("expand", () => {
  test("docker's substitutions", () => {
    const cases: [string, string][] = [
      ["$A", "1"], ["${A}", "1"], ["x${A}y", "x1y"], ["$UNSET", ""],
      ["${U:-def}", "def"], ["${E:-def}", "def"], ["${E-def}", ""], ["${U-def}", "def"],
      ["${A:+alt}", "alt"], ["${E:+alt}", ""], ["${E+alt}", "alt"], ["${U+alt}", ""],
      ["${U:-$A}", "1"], ["${P#*/}", "usr/local/bin"], ["${P##*/}", "bin"], ["${P%/*}", "/usr/local"],
      ["${P%%/*}", ""], ["${P/usr/opt}", "/opt/local/bin"], ["${P//l/L}", "/usr/LocaL/bin"],
      ["'$A'", "$A"], ['"$A-$S"', "1-a b"], ["\\$A", "$A"], ['"\\$A"', "$A"], ["a\\ b", "a b"], ["$", "$"], ["$1", ""],
    ];
    for (const [word, want] of cases) expect([word, expand(word, env)]).toEqual([word, want]);
  });

  test("the escape directive's character", () => {
    expect(expand("`$A", env, "`")).toBe("$A");
    expect(expand("C:\\dir", env, "`")).toBe("C:\\dir");
  });

  test("${X:?} and bad substitutions fail", () => {
    expect(() => expand("${U:?must be set}", env)).toThrow("U: must be set");
    expect(() => expand("${E:?}", env)).toThrow("E: is not allowed to be unset");
    expect(expand("${E?}", env)).toBe("");
    expect(() => expand("${A", env)).toThrow(ExpansionError);
    expect(() => expand("${:}", env)).toThrow("bad substitution");
    expect(() => expand("'open", env)).toThrow("matching single-quote");
  });

  test("word splitting after substitution, quotes keep words whole", () => {
    expect(expandWords('a "b c" $S \'d e\' ""', env)).toEqual(["a", "b c", "a", "b", "d e", ""]);
  });

  test("parseKeyValues: pairs, legacy form, ARG without default", () => {
    expect(parseKeyValues(["A=1", 'B="x $A"', "C='$A'"], "ENV", env)).toEqual([
      { key: "A", value: "1", hasValue: true },
      { key: "B", value: "x 1", hasValue: true },
      { key: "C", value: "$A", hasValue: true },
    ]);
    expect(parseKeyValues(["K", "v  w $A"], "ENV", env)).toEqual([{ key: "K", value: "v  w 1", hasValue: true }]);
    expect(parseKeyValues(["X", "Y=$A"], "ARG")).toEqual([
      { key: "X", value: "", hasValue: false },
      { key: "Y", value: "$A", hasValue: true },
    ]);
  });

  test("usesVariables and argsAffecting follow docker's list", () => {
    const cf = parseContainerfile(
      "FROM a\nARG V\nARG W\nCOPY --chown=$W src/${V:-x} /d\nRUN echo $V\nCMD echo $V\nWORKDIR '$V'\nCOPY <<EOF /f\n$V\nEOF\nCOPY <<'EOF' /g\n$W\nEOF\n",
      "Containerfile",
    );
    const [, , copy, run, cmd, workdir, hd, quoted] = cf.stages[0]!.instructions;
    expect([...usesVariables(copy!)].sort()).toEqual(["V", "W"]);
    expect([...usesVariables(cmd!)]).toEqual([]);
    expect([...usesVariables(workdir!)]).toEqual([]);
    expect([...usesVariables(hd!)]).toEqual(["V"]);
    expect([...usesVariables(quoted!)]).toEqual([]);
    const declared = new Set(["V", "W"]);
    expect([...argsAffecting(run!, declared)].sort()).toEqual(["V", "W"]);
    expect([...argsAffecting(cmd!, declared)]).toEqual([]);
  });
});
