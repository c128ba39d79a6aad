import { useState } from "preact/hooks";

/** Same file name as islands/Counter.tsx, in a subfolder. */
export default function SubCounter({ label }: { label: string }) {
  const [count, setCount] = useState(0);
  return (
    <div class="sub-counter">
      <span class="sub-count">{label} {count}</span>
      <button type="button" onClick={() => setCount(count + 1)}>+1</button>
    </div>
  );
}
