import type { ComponentChildren } from "preact";
import { FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { TextAreaField } from "./TextAreaField.tsx";
import { AppSecretsFields, type SecretChoice } from "./AppSecretsFields.tsx";

interface Props extends FormState {
  action: string;
  /** A new app names itself; an edit shows the name and keeps it. */
  mode: "new" | "edit";
  /** Whether the cluster has the routing mesh (IPVS); undefined without a cluster. */
  routingMesh?: boolean;
  /** The organization's secrets, offered to attach to the service. */
  secrets: SecretChoice[];
  /** The organization's Secrets page. */
  secretsHref: string;
  /** The cost estimate of what the form would run (routes/o/[org]/apps/_estimate.tsx), if priced. */
  estimate?: ComponentChildren;
  /** The submit buttons. */
  children: ComponentChildren;
}

/** Why published ports default to host mode, in this cluster's terms. */
function portModeHint(routingMesh: boolean | undefined) {
  const why = routingMesh === false
    ? "This cluster's kernel has no IPVS, so the routing mesh (ingress mode) cannot work here."
    : routingMesh
    ? "It works on every kernel; ingress mode publishes on every node through the routing mesh instead."
    : "It works on every kernel; the routing mesh (ingress mode) needs IPVS on every node.";
  return (
    <>
      Host mode is the default: each task publishes on the node it runs on. {why}{" "}
      A fixed published port serves one task per node, so leave it out (<code>80</code> instead of
      {" "}
      <code>80:8080</code>) to give each task a free port of its node; the app page shows which.
    </>
  );
}

/**
 * The form of one service of an app: image, command, environment, secrets, ports, replicas,
 * limits and reservations, health check. Lists are one item per line (never a shell line); errors of the
 * service sit next to their fields and the input is kept.
 */
export function AppForm(p: Props) {
  const common = { values: p.values, errors: p.errors, idPrefix: "app" };
  return (
    <form method="post" action={p.action} class="card form app-form">
      <FormAlert errors={p.errors} />
      <fieldset>
        <legend>App</legend>
        <div class="grid-2">
          {p.mode === "new"
            ? (
              <TextField
                name="name"
                label="Name"
                required
                autofocus
                maxLength={30}
                placeholder="shop"
                hint="Lowercase letters, digits and dashes, up to 30; unique in the organization."
                {...common}
              />
            )
            : <input type="hidden" name="name" value={p.values?.name ?? ""} />}
          <TextField
            name="priority"
            label="Priority"
            type="number"
            min={-1000}
            max={1000}
            hint="Higher is more important (default 0). If a quota is exceeded past its grace period and the platform stops apps, the lowest priority stops first."
            {...common}
          />
          <TextField
            name="service"
            label="Service name"
            required
            maxLength={20}
            placeholder="web"
            hint={
              <>
                Other services of the organization reach it as <code>service.app</code>.
              </>
            }
            {...common}
          />
          <TextField
            name="image"
            label="Image"
            required
            placeholder="nginx:1.27"
            hint="With a tag or digest; nodes without a registry must have it already."
            {...common}
          />
          <TextField
            name="replicas"
            label="Replicas"
            type="number"
            min={0}
            max={100}
            hint="Tasks to run, spread over the nodes."
            {...common}
          />
        </div>
        <TextAreaField
          name="command"
          label="Command"
          rows={4}
          placeholder={`httpd\n-f\n-p\n80`}
          hint="One argument per line, passed as they are (no shell unless you name one). Empty: the image's own."
          {...common}
        />
        <div class="grid-2">
          <TextAreaField
            name="env"
            label="Environment"
            placeholder={`LOG_LEVEL=info\nPORT=80`}
            hint="One KEY=value per line. Not for secrets: attach those below."
            {...common}
          />
          <div class="port-fields">
            <TextAreaField
              name="ports"
              label="Ports"
              placeholder={`80:8080\n53:5353/udp`}
              hint="The container's port, then : and the published port; /udp for UDP."
              {...common}
            />
            <SelectField
              name="port_mode"
              label="Publish ports in"
              options={[
                { value: "host", label: "Host mode (on the task's node)" },
                { value: "ingress", label: "Ingress mode (routing mesh, every node)" },
              ]}
              hint={portModeHint(p.routingMesh)}
              {...common}
            />
          </div>
        </div>
      </fieldset>
      <AppSecretsFields
        secrets={p.secrets}
        secretsHref={p.secretsHref}
        values={p.values}
        errors={p.errors}
      />
      <fieldset>
        <legend>Resources</legend>
        <p class="hint">
          Limits cap what each task may use; reservations are set aside for it, and a task is only
          placed on a node that has them free.
        </p>
        <div class="grid-4">
          <TextField
            name="cpu_limit"
            label="CPU limit"
            placeholder="1.5"
            hint="Cores."
            {...common}
          />
          <TextField
            name="memory_limit_mib"
            label="Memory limit (MiB)"
            placeholder="512"
            {...common}
          />
          <TextField
            name="cpu_reservation"
            label="CPU reservation"
            placeholder="0.25"
            hint="Cores."
            {...common}
          />
          <TextField
            name="memory_reservation_mib"
            label="Memory reservation (MiB)"
            placeholder="128"
            {...common}
          />
        </div>
      </fieldset>
      <fieldset>
        <legend>Health check</legend>
        <div class="grid-2">
          <TextAreaField
            name="health_cmd"
            label="Command"
            rows={3}
            placeholder={`test\n-f\n/www/index.html`}
            hint="Run inside each task, one argument per line; exit code 0 is healthy. Updates wait for new tasks to be healthy. Empty: the image's own check, if any."
            {...common}
          />
          <TextField
            name="health_interval_s"
            label="Every (seconds)"
            type="number"
            min={1}
            max={3600}
            {...common}
          />
        </div>
      </fieldset>
      {p.estimate}
      <div class="actions">{p.children}</div>
    </form>
  );
}
