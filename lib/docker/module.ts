/**
 * The Docker feature: containers, images, networks and volumes on every host, through the agents.
 * It adds no services of its own (the work is the hosts' use cases over the agent registry); it
 * owns pages, API routes, navigation and the containers settings.
 */
import { h } from "preact";
import { defineModule } from "../module.ts";
import { EnginesPanel } from "../../components/EnginesPanel.tsx";
import type { Hosts } from "../hosts/service.ts";
import type { AgentRegistry } from "../agents/registry.ts";
import type { Config } from "../config.ts";

export const dockerModule = defineModule({
  name: "docker",
  nav: [
    { key: "containers", group: "Docker", label: "Containers", scope: "org", path: "/containers" },
    { key: "images", group: "Docker", label: "Images", scope: "org", path: "/images", order: 10 },
    {
      key: "networks",
      group: "Docker",
      label: "Networks",
      scope: "org",
      path: "/networks",
      order: 20,
    },
    {
      key: "volumes",
      group: "Docker",
      label: "Volumes",
      scope: "org",
      path: "/volumes",
      order: 30,
    },
  ],
  settings: [{ id: "containers", title: "Containers", order: 20 }, {
    id: "engines",
    title: "Docker engines",
    order: 25,
    async render({ org, services }) {
      const all = services as { hosts: Hosts; agents: AgentRegistry; config: Config };
      const hosts = await all.hosts.list(org.id);
      return h(EnginesPanel, {
        hostsHref: `/o/${encodeURIComponent(org.slug)}/hosts`,
        rows: hosts.map((host) => ({
          host,
          online: all.agents.isOnline(host.id),
          socket: host.local ? all.config.dockerSocket : null,
        })),
      });
    },
  }],
});
