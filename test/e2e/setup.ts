// Preloaded by test/run.sh (`bun test --preload ./test/e2e/setup.ts`): the
// images the fixtures build then live for the whole run and are removed once,
// after the last test file. Without it each suite cleans up after itself.
import { afterAll } from "bun:test";
import { runEndCleanup } from "../fixtures/proc.ts";

(globalThis as { __podTestRunHooks?: boolean }).__podTestRunHooks = true;
afterAll(() => runEndCleanup());
