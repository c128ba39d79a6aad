/** Opening the Deno KV database the application runs on. */

/** Where KV lives: a file path, `:memory:`, or a KV Connect URL (later). */
export interface KvLocation {
  /** A file path or `:memory:`. `undefined` lets Deno pick (Deno Deploy's managed KV). */
  path?: string;
}

/** Opens KV at `location.path`, creating the parent folder of a file path when needed. */
export async function openKv(location: KvLocation): Promise<Deno.Kv> {
  const path = location.path;
  if (path && path !== ":memory:" && !path.includes("://")) {
    const slash = path.lastIndexOf("/");
    if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  }
  return await Deno.openKv(path);
}
