import type { AppContext } from "../http/context.ts";

const SCRIPT_URL = new URL("../../agent/install.sh", import.meta.url);
let template: Promise<string> | undefined;

/**
 * The URL hosts reach this hub at. With port 0 (tests) the configured URL names no real port, so
 * the request's own origin is the better answer.
 */
export function hubUrlOf(c: AppContext): string {
  const configured = c.var.services.config.publicUrl;
  return /:0$/.test(configured) ? new URL(c.req.url).origin : configured;
}

/** Whether `host` (a name or an address, IPv6 with or without brackets) is this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The install script with this hub's URL as its default (HUB=… still overrides it). */
export async function installScript(hubUrl: string): Promise<string> {
  template ??= Deno.readTextFile(SCRIPT_URL);
  const text = await template;
  // The URL lands in single quotes: a configured URL is validated, but never trust it into sh.
  const safe = /^https?:\/\/[\][A-Za-z0-9._~:@%/-]+$/.test(hubUrl) ? hubUrl : "";
  return text.replace("DEFAULT_HUB=''", `DEFAULT_HUB='${safe}'`);
}

/** The copy-paste command an admin runs on a new host. */
export function installCommand(hubUrl: string, enrollmentToken: string): string {
  return `curl -fsSL ${hubUrl}/api/v1/agent/install.sh | sudo HUB=${hubUrl} TOKEN=${enrollmentToken} sh`;
}
