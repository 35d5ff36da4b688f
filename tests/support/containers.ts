import type { ContainerState } from "../../lib/protocol/messages.ts";

/**
 * A running busybox httpd container as an agent's snapshot reports it, for tests that fill the
 * hub's container cache without an engine. `id` is repeated to the 64 hex digits of a real id
 * ("a" → "aaa…a"); a full id stays as it is.
 */
export function fakeContainer(
  id: string,
  name: string,
  labels: Record<string, string> = {},
): ContainerState {
  return {
    id: id.repeat(64 / id.length),
    name,
    image: "capstan-test/busybox:latest",
    image_id: "sha256:" + "0".repeat(64),
    command: "httpd",
    state: "running",
    status: "Up 1 minute",
    created: 1,
    labels,
    ports: [{ private_port: 8080, type: "tcp" }],
  };
}
