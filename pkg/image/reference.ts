// Image references, following the docker grammar (distribution/reference, as
// vendored by containers/image in docker/reference):
//
//   reference        := name [ ":" tag ] [ "@" digest ]
//   name             := [domain "/"] remote-name
//   domain           := host [":" port-number]
//   host             := domain-name | "[" IPv6address "]"
//   domain-name      := domain-component ["." domain-component]*
//   domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//   port-number      := /[0-9]+/
//   remote-name      := path-component ["/" path-component]*
//   path-component   := alpha-numeric [separator alpha-numeric]*
//   alpha-numeric    := /[a-z0-9]+/
//   separator        := /[_.]|__|[-]+/
//   tag              := /[\w][\w.-]{0,127}/
//   digest           := algorithm ":" hex   (sha256: 64, sha384: 96, sha512: 128 lowercase hex)
//   identifier       := /[a-f0-9]{64}/      (an image ID, never a name)
//
// Normalisation (docker's): the first component is a domain only if it
// contains "." or ":" or is "localhost"; otherwise the domain is docker.io.
// "index.docker.io" becomes "docker.io", and a single-component docker.io
// name gets the "library/" namespace. The whole name is at most 255 chars.

import { InvalidReference } from "../errors.ts";

export type ImageReference = { registry: string; repository: string; tag?: string; digest?: string };

const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const NAME_MAX = 255;

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^\w[\w.-]{0,127}$/;
const IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const DIGEST_RE = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-zA-Z]+)$/;
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

const GRAMMAR_HINT =
  "a reference looks like [registry[:port]/]name[:tag][@digest], e.g. docker.io/library/alpine:latest";

function invalid(input: string, cause: string, hint = GRAMMAR_HINT): InvalidReference {
  return new InvalidReference(`invalid reference ${JSON.stringify(input)}: ${cause}`, { hint });
}

/** True when s (a first path component) names a registry rather than a namespace. */
export function looksLikeDomain(s: string): boolean {
  return s.includes(".") || s.includes(":") || s === "localhost";
}

/** Splits "name[:tag][@digest]" without validating anything. */
export function splitInput(input: string): { name: string; tag?: string; digest?: string } {
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { name: rest, tag, digest };
}

/** Splits a name into docker's domain and remote name, normalised as docker does. */
function splitDomain(name: string): { registry: string; repository: string } {
  const slash = name.indexOf("/");
  let registry = DEFAULT_DOMAIN;
  let repository = name;
  if (slash >= 0 && looksLikeDomain(name.slice(0, slash))) {
    registry = name.slice(0, slash);
    repository = name.slice(slash + 1);
  }
  if (registry === LEGACY_DEFAULT_DOMAIN) registry = DEFAULT_DOMAIN;
  if (registry === DEFAULT_DOMAIN && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository };
}

/** True for a valid registry host[:port] (the domain production above). */
export function isValidRegistryHost(s: string): boolean {
  return DOMAIN_RE.test(s);
}

function checkDigest(input: string, digest: string): void {
  const m = DIGEST_RE.exec(digest);
  if (!m) throw invalid(input, `invalid digest ${JSON.stringify(digest)}`);
  const algorithm = m[1] as string;
  const hex = m[2] as string;
  const want = DIGEST_HEX_LENGTH[algorithm];
  if (want === undefined) {
    throw invalid(input, `unsupported digest algorithm ${JSON.stringify(algorithm)}`, "use a sha256, sha384 or sha512 digest");
  }
  if (hex.length !== want || !/^[a-f0-9]+$/.test(hex)) {
    throw invalid(input, `${algorithm} digest must be ${want} lowercase hexadecimal characters`);
  }
}

/** Parses and normalises a docker image reference; throws InvalidReference. */
export function parseReference(input: string): ImageReference {
  if (input === "") throw invalid(input, "reference is empty");
  if (IDENTIFIER_RE.test(input)) {
    throw invalid(
      input,
      "a 64-character hexadecimal string is an image ID, not a name",
      "refer to the image by name (e.g. alpine:latest), or use its ID only where commands accept image IDs",
    );
  }
  const { name, tag, digest } = splitInput(input);
  if (digest !== undefined) checkDigest(input, digest);
  if (tag !== undefined && !TAG_RE.test(tag)) {
    throw invalid(input, `invalid tag ${JSON.stringify(tag)}`, "a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'");
  }
  if (name === "") throw invalid(input, "repository name is empty");
  const { registry, repository } = splitDomain(name);
  if (!DOMAIN_RE.test(registry)) throw invalid(input, `invalid registry ${JSON.stringify(registry)}`);
  if (repository.toLowerCase() !== repository) {
    throw invalid(input, "repository name must be lowercase", `try ${JSON.stringify(name.toLowerCase() + input.slice(name.length))}`);
  }
  for (const component of repository.split("/")) {
    if (!PATH_COMPONENT_RE.test(component)) throw invalid(input, `invalid repository name ${JSON.stringify(repository)}`);
  }
  if (registry.length + 1 + repository.length > NAME_MAX) {
    throw invalid(input, `repository name must not be more than ${NAME_MAX} characters`);
  }
  const ref: ImageReference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = "latest";
  return ref;
}

/** True when input names no registry (alpine, library/alpine, user/app:1); the registries.conf search applies. */
export function isShortName(input: string): boolean {
  const { name } = splitInput(input);
  const slash = name.indexOf("/");
  return slash < 0 || !looksLikeDomain(name.slice(0, slash));
}

/** Full form, as podman prints it: docker.io/library/alpine:latest, host:5000/x@sha256:… */
export function formatReference(r: ImageReference): string {
  let s = `${r.registry}/${r.repository}`;
  if (r.tag !== undefined) s += `:${r.tag}`;
  if (r.digest !== undefined) s += `@${r.digest}`;
  return s;
}
