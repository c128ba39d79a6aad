/**
 * Command-line options of the single-purpose benches: `--name=value`, `--name value` or a bare
 * `--flag`; integers are checked against a range, with a message naming the option.
 */
export interface BenchArgs {
  /** Whether `--name` was given (with or without a value). */
  has(name: string): boolean;
  /** `--name` as an integer in [min, max]; `fallback` when absent. Throws when out of range. */
  int(name: string, fallback: number, min: number, max: number): number;
}

/** Reads `argv` (default `Deno.args`). */
export function benchArgs(argv: readonly string[] = Deno.args): BenchArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq >= 0) values.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      values.set(a.slice(2), argv[++i]);
    } else values.set(a.slice(2), "");
  }
  return {
    has: (name) => values.has(name),
    int(name, fallback, min, max) {
      const raw = values.get(name);
      if (raw === undefined) return fallback;
      const n = Number(raw);
      if (raw === "" || !Number.isInteger(n) || n < min || n > max) {
        throw new Error(
          `Cannot read --${name}: expected an integer in [${min}, ${max}], got "${
            raw.slice(0, 40)
          }"`,
        );
      }
      return n;
    },
  };
}
