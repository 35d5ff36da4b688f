/**
 * The one frame of the per-host resource pages (images, networks, volumes): the host picked and
 * its list asked of its agent, the header with the host picker, flash and error messages, the
 * no-hosts and offline states; and the steps their forms share: a target validated like the API,
 * an action that goes back to the list with a flash or shows the page with the error, a create
 * form whose refusals land next to their fields.
 */
import type { ComponentChildren } from "preact";
import type { Handler } from "hono";
import type { z } from "zod";
import { type AppContext, type AppEnv, orgScopeOf } from "../../../lib/http/context.ts";
import { dockerCaller } from "../../../lib/http/callers.ts";
import { type HttpError, validationError } from "../../../lib/http/errors.ts";
import type { DockerCaller } from "../../../lib/hosts/docker_actions.ts";
import type { Host } from "../../../lib/hosts/service.ts";
import { Alert } from "../../../components/Alert.tsx";
import type { FormState } from "../../../components/Field.tsx";
import { PageHeader } from "../../../components/PageHeader.tsx";
import { errorsOf, parseForm, readForm } from "../../_forms.ts";
import { render, seeOther } from "../../_render.tsx";
import { HostId } from "../../_schemas/docker.ts";
import {
  DockerFlash,
  type HostChoice,
  hostChoices,
  HostOffline,
  HostPicker,
  isOffline,
  NoHostsYet,
  orgBase,
  pageError,
  pickHost,
  withFlash,
} from "./_docker.tsx";

/** What a per-host resource page shows, loaded once. */
export interface HostResource<T> {
  hosts: HostChoice[];
  /** The host the page is about; none when the organization has no hosts. */
  host?: HostChoice;
  /** The host's list; undefined while the host is offline. */
  items?: T;
  offline: boolean;
}

/** What a page render may carry besides the list: a failed action, the create form's state. */
export interface ResourcePageState {
  error?: HttpError;
  create?: FormState;
  status?: number;
}

/**
 * Picks the page's host and asks its agent for the list; an agent that is not connected (or goes
 * away during the call) makes the page's offline state rather than an error page.
 */
export async function loadHostResource<T>(
  c: AppContext,
  hostId: string | undefined,
  list: (hostId: string) => Promise<T>,
): Promise<HostResource<T>> {
  const hosts = await hostChoices(c);
  const host = pickHost(hosts, hostId ?? c.req.query("host"));
  if (!host?.online) return { hosts, host, offline: Boolean(host) };
  try {
    return { hosts, host, items: await list(host.id), offline: false };
  } catch (err) {
    if (!isOffline(err)) throw err;
    return { hosts, host, offline: true };
  }
}

/**
 * The frame of a per-host resource page: header with the host picker, flash and error messages,
 * the no-hosts and offline states; `children` render only once the host's list is there.
 */
export function HostResourceFrame<T>(
  { c, title, path, res, sub, pickerHidden, actions, error, children }: {
    c: AppContext;
    title: string;
    /** The page's own path (the picker's action). */
    path: string;
    res: HostResource<T>;
    /** What follows the host name in the header, e.g. "3 networks". */
    sub?: ComponentChildren;
    /** Query parameters the host picker keeps. */
    pickerHidden?: Record<string, string>;
    /** Extra header buttons. */
    actions?: ComponentChildren;
    error?: HttpError;
    children: (host: HostChoice, items: T) => ComponentChildren;
  },
) {
  const base = orgBase(c);
  const { host, hosts, items } = res;
  return (
    <>
      <PageHeader
        title={title}
        sub={host ? <>{host.name}{sub && <>{" · "}{sub}</>}</> : orgScopeOf(c).org.name}
      >
        {host && hosts.length > 1 && (
          <HostPicker action={path} hosts={hosts} current={host} hidden={pickerHidden} />
        )}
        {actions}
      </PageHeader>
      <DockerFlash c={c} />
      {error && <Alert kind="error">{error.message}</Alert>}
      {!host && <NoHostsYet base={base} what={title} />}
      {host && res.offline && <HostOffline base={base} host={host} />}
      {host && items !== undefined && children(host, items)}
    </>
  );
}

/** A page's status: the form's, else the error's, else 503 while its host is offline. */
export function pageStatus(
  state: { status?: number; error?: HttpError },
  res: HostResource<unknown>,
): number {
  return state.status ?? state.error?.status ?? (res.offline ? 503 : 200);
}

/** What tells the resource pages apart. */
export interface ResourcePageSpec<T> {
  /** The page's path below the organization and its nav entry: "images", "networks", "volumes". */
  segment: "images" | "networks" | "volumes";
  title: string;
  /** The host's list, through its agent. */
  list: (caller: DockerCaller, hostId: string) => Promise<T>;
  /** What follows the host name in the header, once the list is there. */
  sub?: (items: T) => ComponentChildren;
  pickerHidden?: Record<string, string>;
  actions?: (res: HostResource<T>, path: string) => ComponentChildren;
  /** Islands manifest, for a page with an island. */
  manifest?: Parameters<typeof render>[2]["manifest"];
}

/** Renders a per-host resource page: the frame, and `content` once the host's list is there. */
export async function resourcePage<T>(
  c: AppContext,
  hostId: string | undefined,
  state: ResourcePageState,
  spec: ResourcePageSpec<T>,
  content: (host: HostChoice, items: T, path: string) => ComponentChildren,
): Promise<Response> {
  const path = `${orgBase(c)}/${spec.segment}`;
  const res = await loadHostResource(c, hostId, (id) => spec.list(dockerCaller(c), id));
  return render(
    c,
    <HostResourceFrame
      c={c}
      title={spec.title}
      path={path}
      res={res}
      sub={res.items !== undefined && spec.sub?.(res.items)}
      pickerHidden={spec.pickerHidden}
      actions={spec.actions?.(res, path)}
      error={state.error}
    >
      {(host, items) => content(host, items, path)}
    </HostResourceFrame>,
    {
      title: `${spec.title} · ${orgScopeOf(c).org.name}`,
      active: spec.segment,
      status: pageStatus(state, res),
      manifest: spec.manifest,
    },
  );
}

/**
 * The host (and item) a query or form names, validated like the API (400 naming the field), the
 * host one of the organization's (404 otherwise).
 */
export async function resourceTarget<S extends z.ZodType<{ host: string }>>(
  c: AppContext,
  schema: S,
  values: unknown,
): Promise<{ data: z.infer<S>; host: Host }> {
  const parsed = schema.safeParse(values);
  if (!parsed.success) throw validationError(parsed.error);
  const data = parsed.data as z.infer<S>;
  return { data, host: await c.var.services.hosts.get(orgScopeOf(c).org.id, data.host) };
}

/**
 * Runs an action on a host's resources: back to the host's list with the flash `flash` when it
 * succeeds, else the page `failed` renders with the error (an offline host, a conflict).
 */
export async function resourceAction(
  c: AppContext,
  segment: ResourcePageSpec<unknown>["segment"],
  hostId: string,
  flash: string,
  action: () => Promise<unknown>,
  failed: (error: HttpError) => Promise<Response>,
): Promise<Response> {
  try {
    await action();
  } catch (err) {
    return await failed(pageError(err));
  }
  return seeOther(c, withFlash(`${orgBase(c)}/${segment}?host=${hostId}`, flash));
}

/**
 * The handler of a create form (`host` plus the resource's fields): invalid input and refusals
 * (a name in use lands on `name`) show on the page's form, success goes back with `flash`.
 */
export function createFormHandler<S extends z.ZodType<{ host: string }>>(spec: {
  segment: ResourcePageSpec<unknown>["segment"];
  form: S;
  flash: string;
  create: (c: AppContext, input: z.infer<S>) => Promise<unknown>;
  page: (c: AppContext, hostId: string | undefined, state: ResourcePageState) => Promise<Response>;
}): Handler<AppEnv> {
  return async (c) => {
    const values = await readForm(c);
    const parsed = parseForm(spec.form, values);
    if (!parsed.ok) {
      const hostId = HostId.safeParse(values.host).success ? values.host : undefined;
      return await spec.page(c, hostId, { create: { values, errors: parsed.errors }, status: 400 });
    }
    const host = parsed.data.host;
    return await resourceAction(
      c,
      spec.segment,
      host,
      spec.flash,
      () => spec.create(c, parsed.data),
      (e) =>
        spec.page(c, host, {
          create: { values, errors: errorsOf(e, e.status === 409 ? "name" : undefined) },
          status: e.status,
        }),
    );
  };
}

/**
 * The handler of a confirmed removal (`host` plus what names the resource): back with `flash` when
 * done, else the page showing why not (in use, offline).
 */
export function removeFormHandler<S extends z.ZodType<{ host: string }>>(spec: {
  segment: ResourcePageSpec<unknown>["segment"];
  input: S;
  flash: string;
  remove: (c: AppContext, input: z.infer<S>) => Promise<unknown>;
  page: (c: AppContext, hostId: string | undefined, state: ResourcePageState) => Promise<Response>;
}): Handler<AppEnv> {
  return async (c) => {
    const parsed = spec.input.safeParse(await readForm(c));
    if (!parsed.success) throw validationError(parsed.error);
    const input = parsed.data as z.infer<S>;
    return await resourceAction(
      c,
      spec.segment,
      input.host,
      spec.flash,
      () => spec.remove(c, input),
      (error) => spec.page(c, input.host, { error }),
    );
  };
}
