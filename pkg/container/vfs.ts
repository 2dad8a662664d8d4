// The last-resort root filesystem: a plain copy of the layers, applied in
// order with their whiteouts, done in the storage namespace so owners stay.
import { Store } from "../store/index.ts";

export async function copyLayersForVfs(store: Store, layerDirs: string[], dest: string): Promise<void> {
  await store.copyLayers(layerDirs, dest);
}
