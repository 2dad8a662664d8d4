// ADD's URL sources and URL build contexts: fetched to a private file
// (streamed, not held in memory), then hashed and copied like a context file,
// or unpacked as the context. A failed download names the URL and the status,
// and the build stops before anything is stored.
import { PodError } from "../../errors.ts";

/** what: how errors name the download ("ADD URL" by default, "build context URL" for contexts). */
export async function fetchToFile(url: string, path: string, what = `ADD ${url}`): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw new PodError(`${what}: ${(e as Error).message}`, { exit: 125, hint: "check the URL, and that this machine can reach it" });
  }
  if (!res.ok || !res.body) throw new PodError(`${what}: invalid response status ${res.status}`, { exit: 125, hint: "the server did not send the file; check the URL" });
  const sink = Bun.file(path).writer();
  try {
    for await (const chunk of res.body) sink.write(chunk);
  } finally {
    await sink.end();
  }
}
