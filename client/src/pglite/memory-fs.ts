/**
 * Geometric growth for the files of PGlite's in-memory file system (Emscripten MEMFS, which also backs
 * `idb://` storage in browsers).
 *
 * Postgres extends a table being bulk-loaded (COPY) with `posix_fallocate`, 8–64 pages at a time. Emscripten
 * turns that into a truncate to the exact new size, and MEMFS answers every truncate by copying the whole file
 * into a new array of exactly that size. Loading a 20 MB table therefore copies it about 40 times over. Plain
 * writes past the end grow a file by only 1.125× once it passes 1 MiB.
 *
 * The replacement keeps the same file contents and sizes. Only the spare capacity behind them grows, by 1.5×.
 * Invariant: every byte between a file's size and its capacity is zero, so growing within the capacity needs
 * no copy. A file shrunk below a quarter of its capacity is copied into an exact-size array, as MEMFS does,
 * so memory is still given back.
 */

/** The part of a MEMFS file node used here. */
interface MemFile {
  contents: Uint8Array;
  usedBytes: number;
}

/** The MEMFS functions replaced here. */
export interface MemFs {
  resizeFileStorage(node: MemFile, size: number): void;
  expandFileStorage(node: MemFile, capacity: number): void;
}

const GROWTH = 1.5;
const MIN_CAPACITY = 256;
const TUNED = Symbol.for('vibestack.memfs-growth');

function grow(node: MemFile, needed: number): void {
  const next = new Uint8Array(Math.max(needed, Math.floor(node.contents.length * GROWTH), MIN_CAPACITY));
  next.set(node.contents.subarray(0, node.usedBytes));
  node.contents = next;
}

/** Replaces the growth functions of `memfs` (once; later calls do nothing). */
export function tuneMemFsGrowth(memfs: MemFs): void {
  const marked = memfs as MemFs & { [TUNED]?: true };
  if (marked[TUNED]) return;
  marked[TUNED] = true;
  memfs.expandFileStorage = (node, capacity) => {
    if (node.contents.length < capacity) grow(node, capacity);
  };
  memfs.resizeFileStorage = (node, size) => {
    const used = node.usedBytes;
    if (size === used) return;
    if (size > used) {
      if (size > node.contents.length) grow(node, size);
      else node.contents.fill(0, used, size);
    } else if (size < node.contents.length / 4) {
      node.contents = node.contents.slice(0, size);
    } else {
      node.contents.fill(0, size, used);
    }
    node.usedBytes = size;
  };
}

/**
 * Tunes the in-memory file system of a PGlite instance, when it has one reachable (`PGlite.Module.FS`; not a
 * `PGliteWorker`, whose file system lives in its worker). Returns whether it did.
 */
export function tunePGliteMemFs(db: object): boolean {
  let module: { FS?: { filesystems?: { MEMFS?: MemFs } } } | undefined;
  try {
    module = (db as { Module?: typeof module }).Module;
  } catch {
    return false; // A getter that throws (not started, closed): leave it.
  }
  const memfs = module?.FS?.filesystems?.MEMFS;
  if (typeof memfs?.resizeFileStorage !== 'function' || typeof memfs.expandFileStorage !== 'function') {
    return false;
  }
  tuneMemFsGrowth(memfs);
  return true;
}
