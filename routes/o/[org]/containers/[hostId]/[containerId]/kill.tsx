import type { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../../../../../lib/http/context.ts";
import { HttpError } from "../../../../../../lib/http/errors.ts";
import { page } from "../../../../../../lib/http/pages.ts";
import { ConfirmForm } from "../../../../../../components/ConfirmForm.tsx";
import { SelectField } from "../../../../../../components/Field.tsx";
import { parseForm, readForm } from "../../../../../_forms.ts";
import { type PageKit, render } from "../../../../../_render.tsx";
import { backTo, orgBase } from "../../../_docker.tsx";
import { act, ITEM, itemOf } from "./_item.ts";

const KillInput = z.object({
  signal: z.enum(["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"])
    .default("SIGKILL"),
  next: z.string().max(2000).optional(),
});

/** Killing a container (members): the signal is chosen on a confirmation page. */
export function register(app: Hono<AppEnv>, kit: PageKit): void {
  page(app, "GET", `${ITEM}/kill`, "org:member", async (c) => {
    const { host, name } = await itemOf(c);
    const base = orgBase(c);
    const back = backTo(c, c.req.query("next"), `${base}/containers`);
    return render(
      c,
      <ConfirmForm
        title={`Kill ${name}?`}
        action={c.req.path}
        confirm="Kill"
        cancelHref={back}
        hidden={{ next: back }}
        options={
          <SelectField
            name="signal"
            label="Signal"
            value="SIGKILL"
            options={KillInput.shape.signal.unwrap().options.map((s) => ({ value: s, label: s }))}
          />
        }
      >
        <p>
          The container on <strong>{host.name}</strong>{" "}
          gets the signal at once, without the grace period a stop allows. SIGKILL cannot be caught:
          unsaved work in it is lost.
        </p>
      </ConfirmForm>,
      { title: "Kill container", active: "containers" },
    );
  });

  page(app, "POST", `${ITEM}/kill`, "org:member", async (c) => {
    const parsed = parseForm(KillInput, await readForm(c));
    if (!parsed.ok) throw new HttpError(400, "validation", "Choose one of the listed signals");
    return await act(c, kit, "kill", parsed.data.next, { signal: parsed.data.signal });
  });
}
