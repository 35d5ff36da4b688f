import { CheckboxField, FormAlert, type FormState, SelectField, TextField } from "./Field.tsx";
import { TextAreaField } from "./TextAreaField.tsx";

interface Props extends FormState {
  action: string;
  hosts: { id: string; name: string; online: boolean }[];
  /** Admins see the options that reach outside the container. */
  admin: boolean;
  /** Complete snapshots the first named volume may be restored from first (newest first). */
  snapshots?: { id: string; label: string }[];
}

/**
 * The create-container form. Lists are one item per line (a command is one argument per line,
 * never a shell string); the advanced fieldset is rendered for admins only.
 */
export function ContainerCreateForm(
  { action, hosts, admin, values, errors, snapshots = [] }: Props,
) {
  const common = { values, errors, idPrefix: "c" };
  const online = hosts.filter((h) => h.online);
  return (
    <form method="post" action={action} class="card form create-form">
      <FormAlert errors={errors} />
      <div class="grid-2">
        <SelectField
          name="host"
          label="Host"
          required
          options={[
            ...(online.length ? [] : [{ value: "", label: "No host is online" }]),
            ...online.map((h) => ({ value: h.id, label: h.name })),
          ]}
          {...common}
        />
        <TextField
          name="image"
          label="Image"
          required
          placeholder="nginx:1.27"
          hint="The image must be on the host; pull it on the Images page first."
          {...common}
        />
        <TextField
          name="name"
          label="Name"
          placeholder="web"
          hint="Optional; letters, digits and _ . - (Docker picks one otherwise)."
          {...common}
        />
        <SelectField
          name="restart_policy"
          label="Restart policy"
          options={[
            { value: "no", label: "Never restart" },
            { value: "unless-stopped", label: "Unless stopped" },
            { value: "always", label: "Always" },
            { value: "on-failure", label: "On failure" },
          ]}
          {...common}
        />
      </div>
      <TextAreaField
        name="cmd"
        label="Command"
        rows={3}
        placeholder={`sh\n-c\necho hello && sleep 3600`}
        hint="One argument per line, passed as they are (no shell unless you name one). Leave empty for the image's default."
        {...common}
      />
      <div class="grid-2">
        <TextAreaField
          name="env"
          label="Environment"
          placeholder={`LOG_LEVEL=info\nPORT=8080`}
          hint="One KEY=value per line."
          {...common}
        />
        <TextAreaField
          name="ports"
          label="Ports"
          placeholder={`8080:80/tcp\n127.0.0.1:5432:5432`}
          hint="host:container[/tcp|udp] per line; [ip:] limits the address; a bare port is exposed only."
          {...common}
        />
        <TextAreaField
          name="volumes"
          label="Named volumes"
          placeholder={`data:/var/lib/data\nconfig:/etc/app:ro`}
          hint="name:/path in the container, :ro for read-only; missing volumes are created."
          {...common}
        />
        {snapshots.length > 0 && (
          <SelectField
            name="restore_snapshot"
            label="Restore from snapshot"
            options={[
              { value: "", label: "No: start with empty volumes" },
              ...snapshots.map((x) => ({
                value: x.id,
                label: x.label,
              })),
            ]}
            hint="Its data is restored into the first named volume above (a new one, on the chosen host) before the container is made."
            {...common}
          />
        )}
        <TextAreaField
          name="labels"
          label="Labels"
          placeholder={`team=web\ntier=frontend`}
          hint="One key=value per line."
          {...common}
        />
        <TextField
          name="cpus"
          label="CPUs"
          type="text"
          placeholder="1.5"
          hint="Optional limit, in cores."
          {...common}
        />
        <TextField
          name="memory_mib"
          label="Memory (MiB)"
          type="text"
          placeholder="512"
          hint="Optional limit; at least 6 MiB."
          {...common}
        />
      </div>
      {admin && (
        <fieldset class="advanced">
          <legend>Advanced (admins only)</legend>
          <p class="hint">
            These reach outside the container into the host. Members cannot set them.
          </p>
          <div class="grid-2">
            <CheckboxField
              name="privileged"
              label="Privileged (full access to the host)"
              {...common}
            />
            <SelectField
              name="pid_mode"
              label="PID namespace"
              options={[
                { value: "", label: "Own (default)" },
                { value: "host", label: "Host's" },
              ]}
              {...common}
            />
            <TextField
              name="network_mode"
              label="Network"
              placeholder="bridge"
              hint="bridge (default), none, host, or a network's name."
              {...common}
            />
            <TextAreaField
              name="cap_add"
              label="Add capabilities"
              placeholder="NET_ADMIN"
              hint="One per line."
              {...common}
            />
            <TextAreaField
              name="devices"
              label="Devices"
              placeholder="/dev/fuse"
              hint="Host device paths, one per line."
              {...common}
            />
            <TextAreaField
              name="binds"
              label="Bind mounts"
              placeholder="/srv/data:/data:ro"
              hint="/host/path:/container/path[:ro] per line."
              {...common}
            />
          </div>
        </fieldset>
      )}
      <CheckboxField name="start" label="Start it now" {...common} />
      <div class="actions">
        <button class="btn btn-primary" type="submit" disabled={online.length === 0}>
          Create container
        </button>
      </div>
    </form>
  );
}
