import { shared } from "../shared.ts";

export default function SharedView() {
  return <span class="shared-view">{shared}</span>;
}
