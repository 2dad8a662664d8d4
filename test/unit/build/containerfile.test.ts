import { describe, expect, test } from "bun:test";
import { PodError } from "../../../pkg/errors.ts";
import { parseContainerfile, parseInstructionLine } from "../../../pkg/build/containerfile.ts";

const parse = (text: string) => parseContainerfile(text, "Containerfile");
const failure = (text: string): PodError => {
  try {
    parse(text);
  } catch (e) {
    expect(e).toBeInstanceOf(PodError);
    expect((e as PodError).exit).toBe(125);
    return e as PodError;
  }
  throw new Error("parsed without an error");
};

describe("parseContainerfile", () => {
  test("directives at the top only; escape and syntax recorded", () => {
    const cf = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM alpine\nRUN echo a `\n  b\n# escape=\\\n");
    expect(cf.syntax).toBe("docker/dockerfile:1");
    expect(cf.escape).toBe("`");
    expect(cf.stages[0]!.instructions[0]!.args).toEqual(["echo a   b"]);
    const late = parse("FROM alpine\n# escape=`\nRUN a \\\n b\n");
    expect(late.escape).toBe("\\");
    expect(late.stages[0]!.instructions[0]!.args).toEqual(["a  b"]);
  });

  test("continuations skip comment and empty lines; line and endLine span them", () => {
    const cf = parse("FROM alpine\n\nRUN echo a \\\n  # note\n\n  b \\\n  c\nCMD x\n");
    const run = cf.stages[0]!.instructions[0]!;
    expect(run.line).toBe(3);
    expect(run.endLine).toBe(7);
    expect(run.original).toBe("RUN echo a   b   c");
    expect(cf.stages[0]!.instructions[1]!.line).toBe(8);
  });

  test("exec form, shell form, invalid JSON falls back to shell form", () => {
    const [cmd, ep, bad] = parse('FROM a\nCMD ["sh", "-c", "x"]\nENTRYPOINT run me\nCMD [bad\n').stages[0]!.instructions;
    expect([cmd!.json, cmd!.args]).toEqual([true, ["sh", "-c", "x"]]);
    expect([ep!.json, ep!.args]).toEqual([false, ["run me"]]);
    expect([bad!.json, bad!.args]).toEqual([false, ["[bad"]]);
    expect(failure('FROM a\nCMD ["a", 1]\n').message).toContain("Containerfile:2: when using JSON array syntax");
  });

  test("stages, names, platform, global ARGs", () => {
    const cf = parse("ARG V=1\nFROM --platform=$BUILDPLATFORM golang:${V} AS Build\nRUN go build\nFROM scratch\nCOPY --from=build /a /a\n");
    expect(cf.globalArgs.map((a) => a.args)).toEqual([["V=1"]]);
    expect(cf.stages.map((s) => [s.index, s.name, s.base, s.platform])).toEqual([
      [0, "build", "golang:${V}", "$BUILDPLATFORM"],
      [1, undefined, "scratch", undefined],
    ]);
    expect(cf.stages[1]!.instructions[0]!.flags).toEqual([{ name: "from", value: "build" }]);
  });

  test("heredocs: several per instruction, <<- strips tabs, quoted names do not expand", () => {
    const cf = parse('FROM a\nRUN <<EOF\necho $HOME\nEOF\nRUN <<-"ONE" cat <<TWO\n\t\tone\n\tONE\ntwo\nTWO\nCOPY <<conf /etc/x.conf\nk=v\nconf\nCMD x\n');
    const [r1, r2, copy, cmd] = cf.stages[0]!.instructions;
    expect(r1!.heredocs).toEqual([{ name: "EOF", chomp: false, expand: true, body: "echo $HOME\n" }]);
    expect(r1!.endLine).toBe(4);
    expect(r2!.heredocs).toEqual([
      { name: "ONE", chomp: true, expand: false, body: "one\n" },
      { name: "TWO", chomp: false, expand: true, body: "two\n" },
    ]);
    expect(copy!.args).toEqual(["<<conf", "/etc/x.conf"]);
    expect(copy!.heredocs[0]!.body).toBe("k=v\n");
    expect(cmd!.line).toBe(13);
    expect(failure("FROM a\nRUN <<EOF\necho\n").message).toBe("Containerfile:2: RUN: unterminated heredoc EOF");
  });

  test("flags: repeatable mounts, bools, unknown and missing values refused", () => {
    const run = parse('FROM a\nRUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none make\n').stages[0]!.instructions[0]!;
    expect(run.flags.map((f) => f.name)).toEqual(["mount", "mount", "network"]);
    expect(run.args).toEqual(["make"]);
    const copy = parse("FROM a\nCOPY --link --chown=\"1 2\" a b\n").stages[0]!.instructions[0]!;
    expect(copy.flags).toEqual([{ name: "link", value: "true", bool: true }, { name: "chown", value: "1 2" }]);
    const e = failure("FROM a\nCOPY --frm=x a b\n");
    expect(e.message).toBe("Containerfile:2: COPY: unknown flag: --frm");
    expect(e.hint).toContain("--from");
    expect(failure("FROM a\nCOPY --from a b\n").message).toContain("Containerfile:2: COPY: missing a value on flag: --from");
    expect(failure("FROM a\nCMD --help\n").message).toContain("CMD: unknown flag: --help");
  });

  test("ENV, LABEL, ARG words; legacy ENV form", () => {
    const [env, legacy, label, arg] = parse('FROM a\nENV A=1 B="x y"\nENV C  d  e\nLABEL "a b"=c\nARG X Y=2\n').stages[0]!.instructions;
    expect(env!.args).toEqual(["A=1", 'B="x y"']);
    expect(legacy!.args).toEqual(["C", "d  e"]);
    expect(label!.args).toEqual(['"a b"=c']);
    expect(arg!.args).toEqual(["X", "Y=2"]);
    expect(failure("FROM a\nENV A=1 B\n").message).toContain("Containerfile:2: Syntax error - can't find = in \"B\"");
    expect(failure("FROM a\nENV A\n").message).toContain("Containerfile:2: ENV must have two arguments");
  });

  test("ONBUILD keeps its trigger, re-parsable; MAINTAINER accepted; HEALTHCHECK", () => {
    const [ob, m, hc, none] = parse("FROM a\nONBUILD COPY --chown=1 . /app\nMAINTAINER me <me@x>\nHEALTHCHECK --interval=5s --retries=3 CMD [\"curl\", \"x\"]\nHEALTHCHECK NONE\n").stages[0]!.instructions;
    expect(ob!.args).toEqual(["COPY --chown=1 . /app"]);
    expect(ob!.trigger!.keyword).toBe("COPY");
    expect(parseInstructionLine(ob!.args[0]!, "image trigger", 1).args).toEqual([".", "/app"]);
    expect(m!.args).toEqual(["me <me@x>"]);
    expect([hc!.args, hc!.json]).toEqual([["CMD", "curl", "x"], true]);
    expect(none!.args).toEqual(["NONE"]);
    expect(failure("FROM a\nONBUILD ONBUILD RUN x\n").message).toContain("Containerfile:2: Chaining ONBUILD");
    expect(failure("FROM a\nONBUILD FROM b\n").message).toContain("FROM isn't allowed as an ONBUILD trigger");
    expect(failure("FROM a\nHEALTHCHECK --interval=5x CMD x\n").message).toContain("invalid duration");
    expect(failure("FROM a\nHEALTHCHECK FOO x\n").message).toContain('Unknown type "FOO" in HEALTHCHECK');
  });

  test("malformed files name the file, the line and the instruction", () => {
    const e = failure("FROM alpine\n\nRNU echo\n");
    expect(e.message).toBe("Containerfile:3: unknown instruction: RNU");
    expect(e.hint).toBe("did you mean RUN?");
    expect(failure("RUN x\nFROM a\n").message).toBe("Containerfile:1: RUN: no build stage in current context");
    expect(failure("FROM a b\n").message).toContain("Containerfile:1: FROM requires either one or three arguments");
    expect(failure("FROM a AS 1x\n").message).toContain("invalid name for build stage");
    expect(failure("FROM a AS x\nFROM b AS X\n").message).toContain("Containerfile:2: duplicate stage name");
    expect(failure("FROM a\nCOPY onlyone\n").message).toContain("Containerfile:2: COPY requires at least two arguments");
    expect(failure("FROM a\nSHELL sh -c\n").message).toContain("SHELL requires the arguments to be in JSON form");
    expect(failure("FROM a\nWORKDIR\n").message).toContain("WORKDIR requires exactly one argument");
    expect(failure("# escape=x\nFROM a\n").message).toContain("Containerfile:1: invalid escape token");
    expect(failure("# comment only\n").message).toBe("Containerfile: file with no instructions");
    expect(failure("ARG A\n").message).toContain("no FROM statement found");
  });

  test("every docker instruction parses", () => {
    const cf = parse(
      "FROM a\nRUN x\nCMD x\nLABEL a=b\nEXPOSE 80/tcp 53/udp\nENV a=b\nADD --checksum=sha256:0 a b\nCOPY a b\nENTRYPOINT x\nVOLUME [\"/v\"]\nUSER 1:1\nWORKDIR /w\nARG z\nONBUILD RUN x\nSTOPSIGNAL SIGTERM\nHEALTHCHECK CMD x\nSHELL [\"/bin/bash\", \"-c\"]\nMAINTAINER m\n",
    );
    expect(cf.stages[0]!.instructions.map((i) => i.keyword)).toEqual(["RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"]);
    expect(cf.stages[0]!.instructions[3]!.args).toEqual(["80/tcp", "53/udp"]);
  });

  test("CRLF line ends and a byte order mark", () => {
    const cf = parse("\uFEFFFROM a\r\nRUN x \\\r\n y\r\n");
    expect(cf.stages[0]!.instructions[0]!.args).toEqual(["x  y"]);
  });
});
