import Counter from "../islands/Counter.tsx";

export default function CounterPage() {
  return <Counter start={0} />;
}
