// Copies the text of another element (a freshly created token) to the clipboard. The value is
// read from the page rather than passed as a prop, so the secret is not written into the HTML twice.
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";

export interface CopyButtonProps {
  /** id of the element whose text is copied. */
  target: string;
  label?: string;
}

/** A copy-to-clipboard button; hidden until hydrated, since it does nothing without JS. */
export default function CopyButton({ target, label = "Copy" }: CopyButtonProps) {
  const ready = useSignal(false);
  const outcome = useSignal<"" | "copied" | "selected">("");
  useEffect(() => {
    ready.value = true;
  }, []);

  async function copy() {
    const el = document.getElementById(target);
    if (!el) return;
    try {
      await navigator.clipboard.writeText(el.textContent ?? "");
      outcome.value = "copied";
    } catch {
      // No clipboard access (plain http on a LAN address, or denied): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(el);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      outcome.value = "selected";
    }
  }

  return (
    <span class="copy" hidden={!ready.value}>
      <button type="button" class="btn" onClick={copy}>{label}</button>
      <span class="copy-status" role="status">
        {outcome.value === "copied"
          ? "Copied to the clipboard"
          : outcome.value === "selected"
          ? "Selected: press Ctrl+C to copy"
          : ""}
      </span>
    </span>
  );
}
