/**
 * Docker's status text ("Up 5 minutes (healthy)", "Exited (1) About a minute ago") is relative to
 * the moment the engine wrote it, and the hub's cache keeps it as the agent last reported it. Read
 * back later it would stay "About a minute ago" forever, so it is aged at read time: the duration
 * is parsed back (Docker's own wording, go-units HumanDuration), anchored at the time the cache row
 * was written, and written again for now in the same words.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A duration the way Docker words it (go-units HumanDuration). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / SECOND);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / HOUR + 0.5);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / HOUR / 24 / 365)} years`;
}

const DURATION = String
  .raw`Less than a second|About a minute|About an hour|\d+ (?:seconds?|minutes|hours|days|weeks|months|years)`;
const UNIT: Record<string, number> = {
  second: SECOND,
  seconds: SECOND,
  minutes: MINUTE,
  hours: HOUR,
  days: DAY,
  weeks: 7 * DAY,
  months: 30 * DAY,
  years: 365 * DAY,
};

/** The shortest duration Docker would word as `text`, in ms; undefined when it is not Docker's. */
export function parseHumanDuration(text: string): number | undefined {
  if (text === "Less than a second") return 0;
  if (text === "About a minute") return MINUTE;
  if (text === "About an hour") return HOUR;
  const m = /^(\d+) (\w+)$/.exec(text);
  return m && UNIT[m[2]] !== undefined ? Number(m[1]) * UNIT[m[2]] : undefined;
}

const RELATIVE = new RegExp(
  String.raw`^(Up |(?:Exited|Restarting) \(-?\d+\) )(${DURATION})( ago)?((?: \([^)]*\))?)$`,
);

/**
 * A cached status text as it reads at `now`, given that the engine wrote it at `writtenAt` (ms).
 * Texts without a duration ("Created", "Dead") and unknown ones come back unchanged.
 */
export function agedStatus(status: string, writtenAt: number, now: number): string {
  const m = RELATIVE.exec(status);
  if (!m || now <= writtenAt) return status;
  const [, head, duration, ago = "", tail] = m;
  const then = parseHumanDuration(duration);
  if (then === undefined) return status;
  return `${head}${humanDuration(then + (now - writtenAt))}${ago}${tail}`;
}
