import { equal, throws } from "node:assert/strict";
import { assemble, creationCode, toHexString } from "./evm_asm.ts";

Deno.test("[evm_asm] pushes take the shortest size, labels are two-byte jumps", () => {
  equal(
    toHexString(assemble(["PUSH 0", "PUSH 1", "PUSH 0x0100", "PUSH1 0x20", "PUSH4 0x01"])),
    "0x5f6001610100602063" + "00000001",
  );
  equal(
    toHexString(assemble(["PUSH @end", "JUMP", "STOP", "end:", "STOP"])),
    "0x6100055600" + "5b00",
  );
  equal(toHexString(assemble(["CALLER", "DUP2", "SWAP16", "LOG4", "REVERT"])), "0x33819fa4fd");
});

Deno.test("[evm_asm] mistakes are named", () => {
  throws(() => assemble(["PUSH @nowhere"]), /unknown label "nowhere"/);
  throws(() => assemble(["FROB"]), /unknown instruction/);
  throws(() => assemble(["PUSH1 0x100"]), /does not fit in 1 bytes/);
  throws(() => assemble(["a:", "a:"]), /defined twice/);
  throws(() => assemble(["PUSH1"]), /needs a value/);
  throws(() => assemble(["STOP 1"]), /takes no argument/);
});

Deno.test("[evm_asm] creation code copies and returns the runtime after the constructor", () => {
  const runtime = assemble(["STOP"]);
  // PUSH2 1, DUP1, PUSH2 <offset>, PUSH0, CODECOPY, PUSH0, RETURN, then the runtime.
  equal(creationCode(runtime), "0x610001806100" + "0b5f395ff3" + "00");
});
