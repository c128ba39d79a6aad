/**
 * A tiny EVM assembler, enough to write the demo chain's contracts (lib/wallet/contracts.ts)
 * by hand instead of embedding compiler output: the listing is the source, and the bytes
 * are assembled from it at run time, the same every time.
 *
 * One instruction per string: `"PUSH1 0x20"`, `"CALLER"`, `"PUSH @label"` (a two-byte
 * push of a label's offset), `"label:"` (a `JUMPDEST` named `label`), `"PUSH 0x…"` (the
 * shortest push holding the value; `PUSH0` for zero). Numbers are hex (`0x…`) or decimal.
 *
 * @module
 */

const OPCODES: Readonly<Record<string, number>> = {
  STOP: 0x00,
  ADD: 0x01,
  MUL: 0x02,
  SUB: 0x03,
  DIV: 0x04,
  LT: 0x10,
  GT: 0x11,
  EQ: 0x14,
  ISZERO: 0x15,
  AND: 0x16,
  OR: 0x17,
  XOR: 0x18,
  NOT: 0x19,
  SHL: 0x1b,
  SHR: 0x1c,
  SHA3: 0x20,
  ADDRESS: 0x30,
  CALLER: 0x33,
  CALLVALUE: 0x34,
  CALLDATALOAD: 0x35,
  CALLDATASIZE: 0x36,
  CODESIZE: 0x38,
  CODECOPY: 0x39,
  POP: 0x50,
  MLOAD: 0x51,
  MSTORE: 0x52,
  SLOAD: 0x54,
  SSTORE: 0x55,
  JUMP: 0x56,
  JUMPI: 0x57,
  JUMPDEST: 0x5b,
  PUSH0: 0x5f,
  LOG0: 0xa0,
  LOG1: 0xa1,
  LOG2: 0xa2,
  LOG3: 0xa3,
  LOG4: 0xa4,
  RETURN: 0xf3,
  REVERT: 0xfd,
  INVALID: 0xfe,
};
for (let i = 1; i <= 16; i++) {
  (OPCODES as Record<string, number>)[`DUP${i}`] = 0x7f + i;
  (OPCODES as Record<string, number>)[`SWAP${i}`] = 0x8f + i;
}

/** Big-endian bytes of `value`, exactly `size` of them. */
function toBytes(value: bigint, size: number): number[] {
  const out = new Array<number>(size).fill(0);
  let v = value;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (v !== 0n) throw new Error(`Cannot assemble: ${value} does not fit in ${size} bytes`);
  return out;
}

function parseNumber(text: string, line: string): bigint {
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(text)) {
    throw new Error(`Cannot assemble "${line}": "${text}" is not a number`);
  }
  return BigInt(text);
}

function minimalSize(value: bigint): number {
  let size = 1;
  while (value >> BigInt(size * 8) !== 0n) size++;
  if (size > 32) throw new Error(`Cannot assemble: ${value} does not fit in 32 bytes`);
  return size;
}

/** Assembles `program` (see the module's doc) into bytecode. */
export function assemble(program: readonly string[]): Uint8Array {
  type Item = { bytes: number[] } | { label: string; line: string };
  const items: Item[] = [];
  const labels = new Map<string, number>();
  let offset = 0;
  for (const raw of program) {
    const line = raw.trim();
    if (line === "") continue;
    if (line.endsWith(":")) {
      const name = line.slice(0, -1);
      if (labels.has(name)) throw new Error(`Cannot assemble: label "${name}" defined twice`);
      labels.set(name, offset);
      items.push({ bytes: [OPCODES.JUMPDEST] });
      offset += 1;
      continue;
    }
    const [mnemonic, arg, extra] = line.split(/\s+/);
    if (extra !== undefined) throw new Error(`Cannot assemble "${line}": one argument at most`);
    const push = /^PUSH([0-9]*)$/.exec(mnemonic);
    if (push && mnemonic !== "PUSH0") {
      if (arg === undefined) throw new Error(`Cannot assemble "${line}": a push needs a value`);
      if (arg.startsWith("@")) {
        if (push[1] !== "" && push[1] !== "2") {
          throw new Error(`Cannot assemble "${line}": labels are pushed with PUSH or PUSH2`);
        }
        items.push({ label: arg.slice(1), line });
        offset += 3;
        continue;
      }
      const value = parseNumber(arg, line);
      if (push[1] === "" && value === 0n) {
        items.push({ bytes: [OPCODES.PUSH0] });
        offset += 1;
        continue;
      }
      const size = push[1] === "" ? minimalSize(value) : Number(push[1]);
      if (size < 1 || size > 32) throw new Error(`Cannot assemble "${line}": no such push`);
      items.push({ bytes: [0x5f + size, ...toBytes(value, size)] });
      offset += 1 + size;
      continue;
    }
    const code = Object.hasOwn(OPCODES, mnemonic) ? OPCODES[mnemonic] : undefined;
    if (code === undefined) throw new Error(`Cannot assemble "${line}": unknown instruction`);
    if (arg !== undefined) throw new Error(`Cannot assemble "${line}": takes no argument`);
    items.push({ bytes: [code] });
    offset += 1;
  }
  const out: number[] = [];
  for (const item of items) {
    if ("bytes" in item) {
      out.push(...item.bytes);
      continue;
    }
    const target = labels.get(item.label);
    if (target === undefined) {
      throw new Error(`Cannot assemble "${item.line}": unknown label "${item.label}"`);
    }
    out.push(0x61, ...toBytes(BigInt(target), 2));
  }
  return new Uint8Array(out);
}

/** Lower-case hex of `bytes` with the `0x` prefix. */
export function toHexString(bytes: Uint8Array): `0x${string}` {
  let hex = "0x";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex as `0x${string}`;
}

/**
 * The creation code that deploys `runtime` after running `constructor` (instructions that
 * must leave the stack as they found it): copies the runtime code and returns it.
 */
export function creationCode(
  runtime: Uint8Array,
  constructor: readonly string[] = [],
): `0x${string}` {
  const size = runtime.length;
  if (size > 0xffff) throw new Error("Cannot assemble: runtime code over 64 KiB");
  const build = (at: number) =>
    assemble([
      ...constructor,
      `PUSH2 ${size}`,
      "DUP1",
      `PUSH2 ${at}`,
      "PUSH0",
      "CODECOPY",
      "PUSH0",
      "RETURN",
    ]);
  const head = build(0).length;
  const init = build(head);
  const code = new Uint8Array(init.length + size);
  code.set(init, 0);
  code.set(runtime, init.length);
  return toHexString(code);
}
