import Inner from "./Inner.tsx";

export default function Outer() {
  return (
    <div class="outer">
      <Inner label="nested" />
    </div>
  );
}
