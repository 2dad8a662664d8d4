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
