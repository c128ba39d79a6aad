import { useSignal } from "@preact/signals";

export default function Counter({ start }: { start: number }) {
  const count = useSignal(start);
  return (
    <div class="counter">
      <span class="count">{count}</span>
      <button type="button" onClick={() => count.value++}>+1</button>
    </div>
  );
}
