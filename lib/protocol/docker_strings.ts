/**
 * lib/docker/validate.ts's validators as zod string schemas, for the protocol's parameters (the
 * hub refuses what the agent would refuse, with the same message). Apart from ops.ts so that the
 * files ops.ts gathers can use them without an import cycle.
 */
import * as z from "zod";
import {
  containerName,
  containerRef,
  DockerInputError,
  imageRef,
  networkName,
  signalName,
  volumeName,
} from "../docker/validate.ts";

/** Wraps a validator of lib/docker/validate.ts as a zod string schema. */
function via(check: (v: unknown, field?: string) => string) {
  return z.string().superRefine((v, ctx) => {
    try {
      check(v);
    } catch (err) {
      ctx.addIssue({
        code: "custom",
        message: err instanceof DockerInputError ? err.message : String(err),
      });
    }
  });
}

export const ContainerRef = via(containerRef);
export const ContainerName = via(containerName);
export const ImageRef = via(imageRef);
export const NetworkName = via(networkName);
export const VolumeName = via(volumeName);
export const SignalName = via(signalName);
