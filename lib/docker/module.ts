/**
 * The Docker feature: containers, images, networks and volumes on every host, through the agents.
 * It adds no services of its own (the work is the hosts' use cases over the agent registry); it
 * owns pages, API routes, navigation and the containers settings.
 */
import { defineModule } from "../module.ts";

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
  settings: [{ id: "containers", title: "Containers", order: 20 }],
});
