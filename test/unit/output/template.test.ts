import { expect, test } from "bun:test";
import { parseTemplate, renderTemplate } from "../../../pkg/output/template.ts";
import { formatItems } from "../../../pkg/output/format.ts";
import { PodError } from "../../../pkg/errors.ts";

const render = (t: string, v: unknown) => renderTemplate(parseTemplate(t), v);
const img = { Repository: "docker.io/library/alpine", Tag: "latest", Names: ["a", "b"], Config: { Cmd: ["/bin/sh"], Labels: { x: "1" } }, Size: 0 };

test("fields, nested fields and case-insensitive names", () => {
  expect(render("{{.Repository}}:{{.Tag}}", img)).toBe("docker.io/library/alpine:latest");
  expect(render("{{.Config.Cmd}}", img)).toBe("[/bin/sh]");
  expect(render("{{.repository}}", img)).toBe("docker.io/library/alpine");
  expect(() => render("{{.Missing}}", img)).toThrow("can't evaluate field Missing");
  expect(render("{{.Config.Missing}}", img)).toBe("<no value>");
});
test("functions and pipelines", () => {
  expect(render("{{json .Names}}", img)).toBe('["a","b"]');
  expect(render("{{.Tag | upper}}", img)).toBe("LATEST");
  expect(render('{{join .Names ","}}', img)).toBe("a,b");
  expect(render('{{index .Config.Labels "x"}}', img)).toBe("1");
  expect(render('{{printf "%s-%s" .Tag .Tag}}', img)).toBe("latest-latest");
  expect(render("{{len .Names}}", img)).toBe("2");
});
test("range, if/else, trim markers", () => {
  expect(render("{{range .Names}}[{{.}}]{{end}}", img)).toBe("[a][b]");
  expect(render("{{if .Size}}big{{else}}empty{{end}}", img)).toBe("empty");
  expect(render("a  {{- .Tag -}}  b", img)).toBe("alatestb");
});
test("parenthesized pipelines with fields after them, variables, range with key and value, $", () => {
  const ctr = { Name: "web", NetworkSettings: { Networks: { back: { IPAddress: "10.89.1.2" }, front: { IPAddress: "10.89.0.2" } } } };
  expect(render('{{(index .NetworkSettings.Networks "front").IPAddress}}', ctr)).toBe("10.89.0.2");
  expect(render("{{(.Name) | upper}}", ctr)).toBe("WEB");
  expect(render("{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", ctr)).toBe("back=10.89.1.2 front=10.89.0.2 ");
  expect(render("{{range $n := .NetworkSettings.Networks}}{{$n.IPAddress}};{{$.Name}} {{end}}", ctr)).toBe("10.89.1.2;web 10.89.0.2;web ");
  expect(render("{{$x := .Name}}{{$x}}-{{$x | upper}}", ctr)).toBe("web-WEB");
  expect(render("{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", ctr)).toBe("10.89.1.2 10.89.0.2 ");
  expect(() => render("{{$nope}}", ctr)).toThrow('undefined variable "$nope"');
  expect(() => parseTemplate("{{(index .A}}")).toThrow("unclosed left paren");
  expect(() => parseTemplate("{{.A)}}")).toThrow("unexpected right paren");
});
test("bad templates are PodErrors", () => {
  expect(() => parseTemplate("{{.Tag")).toThrow(PodError);
  expect(() => parseTemplate("{{nosuchfn .Tag}}")).toThrow(/function "nosuchfn" not defined/);
  expect(() => parseTemplate("{{range .Names}}x")).toThrow(/missing \{\{end\}\}/);
});
test("formatItems: table, table TEMPLATE, json, plain template", () => {
  const spec = { table: "{{.Repository}}\t{{.Tag}}", headers: { Repository: "REPOSITORY", Tag: "TAG" } };
  expect(formatItems(undefined, [img], spec)).toBe("REPOSITORY                TAG\ndocker.io/library/alpine  latest\n");
  expect(formatItems("table {{.Tag}}\\t{{.Size}}", [img], spec)).toBe("TAG         SIZE\nlatest      0\n");
  expect(JSON.parse(formatItems("json", [img], spec))).toEqual([img]);
  expect(formatItems("{{.Tag}}", [img, img], spec)).toBe("latest\nlatest\n");
  expect(formatItems(undefined, [img], spec, { noHeading: true })).toBe("docker.io/library/alpine  latest\n");
});
test("comparison functions: eq with several arguments, ne, lt, le, gt, ge, and Go's type rules", () => {
  const c = { State: "running", Restarts: 2, Pid: 0, Tags: ["a"], Labels: {} };
  expect(render('{{eq .State "running"}}', c)).toBe("true");
  expect(render('{{eq .State "exited" "paused" "running"}}', c)).toBe("true");
  expect(render('{{eq .State "exited" "paused"}}', c)).toBe("false");
  expect(render('{{.State | eq "running"}}', c)).toBe("true");
  expect(render('{{ne .State "running"}}', c)).toBe("false");
  expect(render("{{lt .Pid .Restarts}} {{le 2 .Restarts}} {{gt .Restarts 2}} {{ge .Restarts 2}}", c)).toBe("true true false true");
  expect(render('{{lt "abc" "abd"}}', c)).toBe("true");
  expect(() => render('{{eq .Restarts "2"}}', c)).toThrow("incompatible types for comparison");
  expect(() => render("{{eq .Tags .Tags}}", c)).toThrow("non-comparable type");
  expect(() => render("{{lt true false}}", c)).toThrow("invalid type for comparison");
});
test("and, or, not: Go's values and short-circuit", () => {
  const c = { A: "", B: "b", List: [] as string[] };
  expect(render("{{and .A .B}}|{{and .B 3}}|{{or .A .B}}|{{or .A 0}}", c)).toBe("|3|b|0");
  expect(render("{{not .A}} {{not .B}} {{not .List}}", c)).toBe("true false true");
  // index of an empty list is never evaluated
  expect(render('{{if and .List (eq (index .List 0) "x")}}y{{else}}n{{end}}', c)).toBe("n");
  expect(render('{{if or .B (index .Missing 0)}}y{{end}}', { ...c, Missing: undefined })).toBe("y");
});
test("if / else if / else, with / else with / else, break and continue", () => {
  const t = '{{if eq .S "a"}}A{{else if eq .S "b"}}B{{else if .S}}other{{else}}none{{end}}';
  expect(["a", "b", "c", ""].map((S) => render(t, { S }))).toEqual(["A", "B", "other", "none"]);
  expect(render("{{with .Cfg}}{{.User}}{{else}}no config{{end}}", { Cfg: { User: "root" } })).toBe("root");
  expect(render("{{with .Cfg}}{{.User}}{{else}}no config{{end}}", { Cfg: {} })).toBe("no config");
  expect(render("{{with $u := .Cfg.User}}{{$u}}!{{end}}", { Cfg: { User: "x" } })).toBe("x!");
  expect(render("{{with .A}}a{{else with .B}}{{.}}{{else}}none{{end}}", { A: "", B: "bee" })).toBe("bee");
  expect(render("{{range .N}}{{if eq . 3}}{{break}}{{end}}{{if eq . 1}}{{continue}}{{end}}{{.}}{{end}}", { N: [0, 1, 2, 3, 4] })).toBe("02");
  expect(render("{{range 3}}{{.}}{{end}}", {})).toBe("012");
  expect(render("{{range .N}}x{{else}}empty{{end}}", { N: [] })).toBe("empty");
  expect(() => parseTemplate("{{break}}")).toThrow("outside {{range}}");
  expect(() => parseTemplate("{{if .A}}{{else range .B}}{{end}}")).toThrow('unexpected "range" after {{else}}');
  expect(() => parseTemplate("{{if .A}}x{{else if .B}}y")).toThrow("missing {{end}}");
});
test("printf verbs, print, len, slice, split, pad, truncate, title and the escapers", () => {
  expect(render('{{printf "%-8s|%5d|%05.1f|%q|%x|%v|%t|%%" "ab" 42 3.14159 "q" 255 .L true}}', { L: ["a", "b"] })).toBe('ab      |   42|003.1|"q"|ff|[a b]|true|%');
  expect(render('{{printf "%s %s" "one"}}', {})).toBe("one %!s(MISSING)");
  expect(render('{{print "a" 1 2 "b"}}', {})).toBe("a1 2b");
  expect(render('{{len "abc"}} {{len .M}}', { M: { a: 1, b: 2 } })).toBe("3 2");
  expect(() => render("{{len 3}}", {})).toThrow("error calling len");
  expect(render('{{slice "abcdef" 1 3}} {{slice .L 1}}', { L: [1, 2, 3] })).toBe("bc [2 3]");
  expect(render('{{split "a,b,c" ","}} {{index (split "a,b,c" ",") 1}}', {})).toBe("[a b c] b");
  expect(render('[{{pad "x" 2 1}}] {{truncate "abcdef" 3}} {{title "hello big-world"}}', {})).toBe("[  x ] abc Hello Big-World");
  expect(render('{{html "<a&b>"}} {{urlquery "a b&c"}} {{js "it\'s"}}', {})).toBe("&lt;a&amp;b&gt; a+b%26c it\\'s");
  expect(() => render('{{.A "x"}}', { A: 1 })).toThrow("can't give argument to non-function .A");
});
test("table formats: every field gets its header, whatever separates them", () => {
  const spec = { table: "{{.Repository}}\t{{.Tag}}", headers: { Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID" } };
  const item = { Repository: "alpine", Tag: "latest", ID: "abc", CreatedAt: "now", Labels: { a: "1" } };
  expect(formatItems("table {{.Repository}} {{.Tag}}", [item], spec)).toBe("REPOSITORY TAG\nalpine latest\n");
  expect(formatItems("table {{.ID}}:{{.Tag | upper}}\\t{{.CreatedAt}}", [item], spec)).toBe("IMAGE ID:TAG  CREATED AT\nabc:LATEST    now\n");
  expect(formatItems("table {{.id}}", [item], spec)).toBe("IMAGE ID\nabc\n");
  expect(formatItems('table {{if eq .Tag "latest"}}{{.Repository}}{{end}}\\t{{range $k, $v := .Labels}}{{$k}}{{end}}', [item], spec)).toBe("REPOSITORY  LABELS\nalpine      a\n");
  expect(formatItems("table {{range .Labels}}{{.}}{{end}}\\t{{with .Tag}}{{.}}{{end}}", [item], spec)).toBe("LABELS      TAG\n1           latest\n");
});
