// Demo island used only by lib/islands tests: exercises hooks from @preact/signals in a bundle.
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
