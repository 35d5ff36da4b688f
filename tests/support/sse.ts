/** A small Server-Sent Events reader for tests: parses `event:`/`data:` blocks from a response body. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads events from an SSE response one at a time; `cancel()` drops the connection. */
export function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const queue: SseEvent[] = [];
  let done = false;

  async function fill(): Promise<void> {
    const r = await reader.read();
    if (r.done) {
      done = true;
      return;
    }
    buf += r.value;
    let i;
    while ((i = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      // Comments (heartbeats) and the retry hint carry no data.
      if (data.length) queue.push({ event, data: JSON.parse(data.join("\n")) });
    }
  }

  return {
    /** The next event, or undefined at the end of the stream. Times out after `ms`. */
    async next(ms = 10_000): Promise<SseEvent | undefined> {
      const until = Date.now() + ms;
      while (!queue.length && !done) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, rej) => {
          timer = setTimeout(
            () => rej(new Error("timed out waiting for an SSE event")),
            until - Date.now(),
          );
        });
        try {
          await Promise.race([fill(), timeout]);
        } finally {
          clearTimeout(timer);
        }
      }
      return queue.shift();
    },
    async cancel(): Promise<void> {
      await reader.cancel().catch(() => {});
    },
  };
}
