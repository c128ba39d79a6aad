import Outer from "../islands/Outer.tsx";

export default function NestedPage() {
  return <Outer />;
}
