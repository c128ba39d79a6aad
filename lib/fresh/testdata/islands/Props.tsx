import { type Signal } from "@preact/signals";

interface Props {
  id: string;
  text: string;
  sig: Signal<number>;
  nested: Record<string, unknown>;
  missing?: string;
}

export default function PropsIsland(props: Props) {
  const { id, text, sig, nested } = props;
  return (
    <div class="props" id={id}>
      <pre class="text">{text}</pre>
      <span class="sig">{sig}</span>
      <span class="missing">{String("missing" in props && props.missing === undefined)}</span>
      <span class="nested">{JSON.stringify(nested)}</span>
      <button type="button" class="sig-inc" onClick={() => sig.value++}>inc</button>
    </div>
  );
}
