// pkg/build is the pure front half of `pod build`: the Containerfile as data
// (containerfile.ts), docker's variable substitution (expand.ts), the ignore
// file (ignore.ts), stage resolution (stages.ts) and the content digest of
// what COPY/ADD select (context-hash.ts). It spawns nothing and writes no
// store; the executor builds on it.

export * from "./containerfile.ts";
export * from "./expand.ts";
export * from "./ignore.ts";
export * from "./stages.ts";
export * from "./context-hash.ts";
