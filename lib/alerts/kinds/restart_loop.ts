/**
 * restart_loop: N `die` events of one container within M minutes (event_count, event_window_s).
 * Resolves once a whole window passes without a `die`, or when the container is removed.
 */
import type { CompiledRule } from "../compile.ts";
import { pruneWindow } from "../evaluator.ts";
import type { EventRuleKind } from "./kind.ts";
import { containerFireInfo } from "./kind.ts";

const windowMs = (rule: CompiledRule) => (rule.spec.event_window_s ?? 300) * 1000;

/** The restart_loop kind. */
export const restartLoop: EventRuleKind = {
  containerEvent(c, rule, e) {
    if (e.event.action === "die") {
      const s = c.subject(rule, e.subject, e.host.id, e.event.id);
      const t = Math.floor(e.event.time_nano / 1e6);
      s.events ??= [];
      // Events replayed after a reconnect arrive again; count each engine time once.
      if (!s.events.includes(t)) s.events.push(t);
      s.events.sort((a, b) => a - b);
      pruneWindow(s.events, Math.max(t, s.events.at(-1)!), windowMs(rule));
      s.lastEventAt = c.now;
      if (s.state === "firing") c.sync(s);
      else if (s.events.length >= (rule.spec.event_count ?? 3)) {
        c.fire(s, s.events.length, containerFireInfo(rule, e, { value: s.events.length }));
      }
    } else if (e.gone) {
      const s = c.existing(rule, e.subject);
      if (s) c.resolve(s);
    }
  },

  tickSubject(c, rule, s) {
    if (s.state !== "firing" || c.now - (s.lastEventAt ?? s.since) < windowMs(rule)) return;
    s.events = [];
    c.resolve(s);
  },
};
