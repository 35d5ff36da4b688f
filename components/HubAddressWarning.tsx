import { Alert } from "./Alert.tsx";

/**
 * Said beside an install command whose hub URL is a loopback address (CAPSTAN_PUBLIC_URL unset and
 * the hub on 127.0.0.1): the agent on another machine would dial itself, so say so and how to fix
 * it. `listensOnLoopback`: the hub itself accepts only local connections, so the URL alone is not
 * enough.
 */
export function HubAddressWarning(
  { hubUrl, listensOnLoopback }: { hubUrl: string; listensOnLoopback: boolean },
) {
  return (
    <Alert kind="warn">
      <p>
        <strong>Other machines cannot reach this address.</strong>{" "}
        The install command points agents at{" "}
        <code>{hubUrl}</code>, which on another machine means that machine itself, so it will not
        find this hub.
      </p>
      <p>
        Set <code>CAPSTAN_PUBLIC_URL</code>{" "}
        to the address other machines use to reach this hub (for example{" "}
        <code>https://hub.example.com</code>)
        {listensOnLoopback && (
          <>
            {" "}and <code>CAPSTAN_HOST=0.0.0.0</code>{" "}
            so the hub accepts connections from the network, or put a reverse proxy in front of it
          </>
        )}, then restart the hub.
      </p>
    </Alert>
  );
}
