import { shared } from "../shared.ts";

export default function SharedInc() {
  return (
    <button type="button" class="shared-inc" onClick={() => shared.value++}>
      inc {shared}
    </button>
  );
}
