/**
 * The KV caches one backend context made: a context computes only with its own (a foreign or
 * wrong-typed cache is a BackendError, checked by a type guard, never cast) and disposes them
 * all with itself. Shared by the CPU and HIP contexts.
 *
 * @module
 */
import type { KVStore } from "./backend.ts";
import { BackendError } from "./errors.ts";

/** A context's own KV caches of store type K. */
export class KVRegistry<K extends KVStore> {
  private readonly kvs = new Set<K>();
  private isClosed = false;

  /** `isOwnType`: narrows a KVStore to this backend's store type. */
  constructor(private readonly isOwnType: (kv: KVStore) => kv is K) {}

  /** True once close() ran. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Records a cache the context made; returns it. */
  add(kv: K): K {
    this.kvs.add(kv);
    return kv;
  }

  /** A request's cache as one of ours (undefined stays undefined). */
  own(kv: KVStore | undefined): K | undefined {
    if (kv === undefined) return undefined;
    if (!this.isOwnType(kv) || !this.kvs.has(kv)) {
      throw new BackendError("BACKEND_CALL_FAILED", "KV cache does not belong to this context", {
        actual: kv.backend,
      });
    }
    return kv;
  }

  /** Disposes every cache once; false when already closed. */
  close(): boolean {
    if (this.isClosed) return false;
    this.isClosed = true;
    for (const kv of this.kvs) kv.dispose();
    this.kvs.clear();
    return true;
  }
}
