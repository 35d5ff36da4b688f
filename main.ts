import { ConfigError, loadConfig } from "./lib/config.ts";
import { startHub } from "./lib/hub.ts";
import { StartupError } from "./lib/startup_error.ts";

// Composition root: config → hub (db, migrations, services, HTTP, jobs) → wait for a signal.
try {
  const hub = await startHub(loadConfig());
  const stop = async () => {
    await hub.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    Deno.exit(2);
  }
  // A database, address or directory to fix: one line naming it, no stack trace.
  if (err instanceof StartupError) {
    console.error(err.message);
    Deno.exit(1);
  }
  throw err;
}
