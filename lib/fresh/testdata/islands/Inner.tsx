import { useState } from "preact/hooks";

export default function Inner({ label }: { label: string }) {
  const [clicks, setClicks] = useState(0);
  return (
    <button type="button" class="inner" onClick={() => setClicks(clicks + 1)}>
      {label} {clicks}
    </button>
  );
}
