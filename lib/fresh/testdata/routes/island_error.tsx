import Counter from "../islands/Counter.tsx";

export default function IslandError() {
  const props = { start: 1, onClick: () => {} };
  return <Counter {...props} />;
}
