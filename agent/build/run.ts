/**
 * The worker's side of `build.run`: clone the source into a private temporary directory, pick
 * the builder (a Dockerfile, a Nix expression, else a detected plan with a generated
 * Dockerfile), build the image through the local engine and stream what happens to the hub.
 * Every failure ends the stream with its class (lib/builds/failure.ts); the temporary directory
 * (and with it the checkout and any credential file) is removed whatever happens.
 */
import type { DockerClient } from "../../lib/docker/client.ts";
import { type BuildChunk, BuildRunParams } from "../../lib/protocol/build.ts";
import { BuildFailure, classifyBuildLog } from "../../lib/builds/failure.ts";
import { cloneSource } from "./git.ts";
import { contextTar } from "./context.ts";
import {
  baseImagesSchema,
  detectPlan,
  PLAN_CONTEXT_IGNORE,
  planDockerfile,
  planSummary,
} from "./plan.ts";
import { buildNix } from "./nix.ts";

/** Lines sent per log chunk at most, and how long a partial chunk waits. */
const BATCH_LINES = 200;
const BATCH_MS = 100;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Runs one build, handing chunks to `emit`; resolves when the stream should end. */
export async function runBuild(
  docker: DockerClient,
  rawParams: unknown,
  emit: (chunk: BuildChunk) => void,
  signal: AbortSignal,
  opts: { tmpRoot?: string } = {},
): Promise<void> {
  const p = BuildRunParams.parse(rawParams ?? {});
  let batch: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tail: string[] = [];
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (batch.length) emit({ kind: "log", lines: batch });
    batch = [];
  };
  // Every other chunk goes out after the log lines written before it, so a reader sees
  // "Cloning …" before the source it produced even when the clone beats the batch timer.
  const send = (chunk: Exclude<BuildChunk, { kind: "log" }>) => {
    flush();
    emit(chunk);
  };
  const log = (line: string) => {
    const l = line.length > 8192 ? `${line.slice(0, 8192)} …` : line;
    batch.push(l);
    tail.push(l);
    if (tail.length > 400) tail.splice(0, tail.length - 200);
    if (batch.length >= BATCH_LINES) flush();
    else timer ??= setTimeout(flush, BATCH_MS);
  };
  const deadline = AbortSignal.timeout(p.limits.timeout_s * 1000);
  const both = AbortSignal.any([signal, deadline]);
  const dir = await Deno.makeTempDir({ dir: opts.tmpRoot, prefix: "capstan-build-" });
  const started = performance.now();
  try {
    log(`Cloning ${p.source.url} (${p.source.commit ?? p.source.branch}) …`);
    const checkout = `${dir}/src`;
    await Deno.mkdir(checkout, { mode: 0o700 });
    const cloned = await cloneSource({
      url: p.source.url,
      branch: p.source.branch,
      commit: p.source.commit,
      auth: p.source.auth,
      into: checkout,
      timeoutMs: p.limits.timeout_s * 1000,
      maxCheckoutBytes: p.limits.max_checkout_bytes,
      signal: both,
      onLog: log,
    });
    send({
      kind: "source",
      commit: cloned.commit,
      author: cloned.author,
      message: cloned.message,
      ...(cloned.knownHost ? { known_host: cloned.knownHost } : {}),
    });
    log(`Checked out ${cloned.commit.slice(0, 12)}: ${cloned.message.split("\n")[0]}`);
    const context = p.source.subdir ? `${checkout}/${p.source.subdir}` : checkout;
    if (!(await exists(context))) {
      throw new BuildFailure("clone_failed", `The repository has no directory ${p.source.subdir}`);
    }
    const dockerfile = p.source.build_file || "Dockerfile";
    const hasDockerfile = await exists(`${context}/${dockerfile}`);
    const nixFile = ["default.nix", "flake.nix"].find((f) => f === p.source.build_file) ??
      (await exists(`${context}/flake.nix`)
        ? "flake.nix"
        : (await exists(`${context}/default.nix`) ? "default.nix" : undefined));
    const kind = p.builder === "auto"
      ? (hasDockerfile ? "dockerfile" : nixFile ? "nix" : "plan")
      : p.builder;
    const common = {
      tag: p.tag,
      labels: p.labels,
      signal: both,
      onLog: log,
    };
    let imageId: string;
    if (kind === "nix") {
      send({ kind: "plan", builder: "nix" });
      log(`Building ${nixFile ?? "default.nix"} with Nix …`);
      const r = await buildNix({
        dir: context,
        tag: p.tag,
        labels: p.labels,
        docker,
        cacheUrl: p.nix_cache_url,
        signal: both,
        timeoutMs: p.limits.timeout_s * 1000,
        onLog: log,
      });
      imageId = r.imageId;
    } else if (kind === "dockerfile") {
      if (!hasDockerfile) {
        throw new BuildFailure("dockerfile_syntax", `The repository has no ${dockerfile}`);
      }
      send({ kind: "plan", builder: "dockerfile" });
      log(`Building ${dockerfile} …`);
      const r = await docker.buildImage(
        contextTar(context, { dockerfile, maxBytes: p.limits.max_checkout_bytes }),
        {
          ...common,
          dockerfile,
          buildArgs: p.build_args,
          target: p.target,
          memoryBytes: p.limits.memory_bytes,
        },
      );
      imageId = r.imageId;
    } else {
      const plan = await detectPlan(context);
      if (!plan) throw new BuildFailure("no_build_plan", "No Dockerfile and no known project type");
      const bases = baseImagesSchema.parse(p.base_images ?? {});
      const generated = planDockerfile(plan, bases);
      const summary = planSummary(plan);
      send({ kind: "plan", builder: `plan:${plan.kind}`, summary, plan, dockerfile: generated });
      log(`Detected ${summary}`);
      const name = "Dockerfile.capstan";
      const r = await docker.buildImage(
        contextTar(context, {
          dockerfile: name,
          maxBytes: p.limits.max_checkout_bytes,
          ignore: PLAN_CONTEXT_IGNORE,
          extraFiles: { [name]: generated },
        }),
        {
          ...common,
          dockerfile: name,
          buildArgs: p.build_args,
          memoryBytes: p.limits.memory_bytes,
        },
      );
      imageId = r.imageId;
    }
    const image = await docker.inspectImage(imageId, { signal: AbortSignal.timeout(30_000) });
    log(
      `Built ${p.tag} (${imageId.slice(0, 19)}) in ${
        ((performance.now() - started) / 1000).toFixed(1)
      } s`,
    );
    send({ kind: "done", image_id: imageId, size_bytes: Number(image.Size ?? 0) });
  } catch (err) {
    const failure = signal.aborted
      ? "cancelled"
      : deadline.aborted
      ? "timeout"
      : err instanceof BuildFailure
      ? err.failure
      : classifyBuildLog(tail.join("\n"));
    const message = err instanceof Error ? err.message : String(err);
    log(`Build failed: ${message}`);
    send({ kind: "failed", failure, message: message.slice(0, 4000) });
  } finally {
    flush();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
