/**
 * Whether a path is machine-facing: JSON errors, bearer tokens accepted, 401 rather than a redirect
 * to sign-in. The API and the Prometheus scrape endpoint are.
 */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api/") || path === "/metrics";
}
