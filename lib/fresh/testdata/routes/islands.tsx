import { signal } from "@preact/signals";
import Counter from "../islands/Counter.tsx";
import SubCounter from "../islands/sub/Counter.tsx";
import SharedInc from "../islands/SharedInc.tsx";
import SharedView from "../islands/SharedView.tsx";
import Props from "../islands/Props.tsx";
import { Named } from "../islands/Named.tsx";

/** Strings that would break out of a naively embedded state script. */
export const BREAKOUT = "</script><script>alert(1)</script> <!-- \u2028\u2029 & <script>";

export default function IslandsPage() {
  const sig = signal(5);
  return (
    <main>
      <Counter start={3} />
      <SubCounter label="sub" />
      <SharedInc />
      <SharedView />
      <Props
        id="first"
        text={BREAKOUT}
        sig={sig}
        nested={{ list: [1, "two", null, undefined, -0], deep: { $t: "tag" } }}
        missing={undefined}
      />
      <Props id="second" text="second" sig={sig} nested={{}} />
      <Named />
    </main>
  );
}
