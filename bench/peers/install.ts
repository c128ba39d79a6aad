/**
 * Installs the npm packages of the Node peer servers into `bench/.peers/` (gitignored):
 *
 *   deno run -A bench/peers/install.ts
 *
 * Idempotent: does nothing when the pinned versions are already there. The harness
 * imports `ensurePeers()` instead.
 */
export const PINNED = { "ws": "8.23.0", "socket.io": "4.8.4" } as const;

/** Absolute path of `bench/.peers/`. */
export const PEERS_DIR = new URL("../.peers/", import.meta.url).pathname;

async function installedVersion(name: string): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(`${PEERS_DIR}node_modules/${name}/package.json`);
    return JSON.parse(text).version ?? null;
  } catch {
    return null;
  }
}

/** Installs `ws` and `socket.io` at the pinned versions unless already present. */
export async function ensurePeers(): Promise<void> {
  const entries = Object.entries(PINNED);
  const versions = await Promise.all(entries.map(([name]) => installedVersion(name)));
  if (entries.every(([, version], i) => versions[i] === version)) return;
  await Deno.mkdir(PEERS_DIR, { recursive: true });
  const specs = entries.map(([name, version]) => `${name}@${version}`);
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("npm", {
      args: ["install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund", "--save-exact", ...specs],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new Error(`bench peers: cannot run npm (${error})`);
  }
  if (!result.success) {
    const stderr = new TextDecoder().decode(result.stderr).trim();
    throw new Error(
      `bench peers: npm install ${specs.join(" ")} failed (exit ${result.code}):\n${stderr}`,
    );
  }
}

if (import.meta.main) {
  try {
    await ensurePeers();
    console.log(
      `bench peers ready in ${PEERS_DIR}: ${
        Object.entries(PINNED).map(([n, v]) => `${n}@${v}`).join(", ")
      }`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(1);
  }
}
