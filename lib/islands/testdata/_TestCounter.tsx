// Demo island used only by lib/islands tests: exercises hooks from @preact/signals in a bundle.
// Registered in lib/islands/test_islands.ts, not in the production registry; the build test
// copies it to islands/_TestCounter.tsx of a throw-away project.
import { useSignal } from "@preact/signals";

export interface TestCounterProps {
  start: number;
  label: string;
}

/** A button that counts clicks, starting at `start`. */
export default function TestCounter({ start, label }: TestCounterProps) {
  const count = useSignal(start);
  return (
    <button type="button" class="test-counter" onClick={() => count.value++}>
      {label}: <span class="test-counter-value">{count}</span>
    </button>
  );
}
