/**
 * The structure of Traefik v3's file-provider dynamic configuration, written from Traefik's
 * reference (docs/content/reference/dynamic-configuration/file.yaml of Traefik v3, and the
 * "routing configuration" pages for routers, services, middlewares and TLS). Every object is
 * `.strict()`, so a key Traefik v3 does not know — misspelled, or a v2 name such as `ipWhiteList`
 * (v3 says `ipAllowList`) — fails the test that parses Capstan's output with it. Only the parts of
 * the reference are spelled out in depth that Capstan can emit; the rest are listed with their keys
 * so that a valid hand-written config would also pass.
 */
import { z } from "zod";

/** A strict object: the `required` keys must be there, the `optional` ones may; no other key. */
function obj<R extends z.ZodRawShape, O extends z.ZodRawShape = Record<never, never>>(
  required: R,
  optional?: O,
) {
  return z.object(required).extend(z.object(optional ?? ({} as O)).partial().shape).strict();
}

/** A service or a middleware is one of its kinds, named by its only key. */
const exactlyOne = (o: object) => Object.keys(o).length === 1;

const str = z.string();
const int = z.number().int();
const bool = z.boolean();
const strs = z.array(str);
const duration = z.union([str, int]);
const record = <T extends z.ZodType>(v: T) => z.record(str, v);

const domains = z.array(obj({ main: str }, { sans: strs }));
const routerTls = obj({}, { options: str, certResolver: str, domains: domains });
const observability = obj({}, { accessLogs: bool, tracing: bool, metrics: bool });

const httpRouter = obj({ service: str, rule: str }, {
  entryPoints: strs,
  middlewares: strs,
  ruleSyntax: str,
  priority: int,
  tls: routerTls,
  observability,
});

const cookie = obj({}, {
  name: str,
  secure: bool,
  httpOnly: bool,
  sameSite: str,
  maxAge: int,
  path: str,
});
const sticky = obj({}, { cookie: cookie });
const healthCheck = obj({}, {
  scheme: str,
  mode: str,
  path: str,
  method: str,
  status: int,
  port: int,
  interval: duration,
  unhealthyInterval: duration,
  timeout: duration,
  hostname: str,
  followRedirects: bool,
  headers: record(str),
});
const loadBalancer = obj({
  servers: z.array(
    obj({ url: str }, { weight: int, preservePath: bool }),
  ),
}, {
  sticky,
  strategy: str,
  healthCheck,
  passHostHeader: bool,
  responseForwarding: obj({}, { flushInterval: duration }),
  serversTransport: str,
});
const weightedServices = z.array(obj({ name: str }, { weight: int }));
const httpService = obj({}, {
  loadBalancer,
  weighted: obj({ services: weightedServices }, { sticky, healthCheck: obj({}) }),
  mirroring: obj({ service: str }, {
    mirrorBody: bool,
    maxBodySize: int,
    mirrors: z.array(obj({ name: str, percent: int })),
    healthCheck: obj({}),
  }),
  failover: obj({ service: str, fallback: str }, { healthCheck: obj({}) }),
}).refine(exactlyOne, "a service has exactly one type");

const ipStrategy = obj({}, { depth: int, excludedIPs: strs, ipv6Subnet: int });
const sourceCriterion = obj({}, {
  ipStrategy,
  requestHeaderName: str,
  requestHost: bool,
});
const headersMiddleware = obj({}, {
  customRequestHeaders: record(str),
  customResponseHeaders: record(str),
  accessControlAllowCredentials: bool,
  accessControlAllowHeaders: strs,
  accessControlAllowMethods: strs,
  accessControlAllowOriginList: strs,
  accessControlAllowOriginListRegex: strs,
  accessControlExposeHeaders: strs,
  accessControlMaxAge: int,
  addVaryHeader: bool,
  allowedHosts: strs,
  hostsProxyHeaders: strs,
  sslProxyHeaders: record(str),
  stsSeconds: int,
  stsIncludeSubdomains: bool,
  stsPreload: bool,
  forceSTSHeader: bool,
  frameDeny: bool,
  customFrameOptionsValue: str,
  contentTypeNosniff: bool,
  browserXssFilter: bool,
  customBrowserXSSValue: str,
  contentSecurityPolicy: str,
  contentSecurityPolicyReportOnly: str,
  publicKey: str,
  referrerPolicy: str,
  permissionsPolicy: str,
  isDevelopment: bool,
});

/** One HTTP middleware: exactly one of Traefik's middleware types. */
const httpMiddleware = obj({}, {
  addPrefix: obj({ prefix: str }),
  basicAuth: obj({}, {
    users: strs,
    usersFile: str,
    realm: str,
    removeHeader: bool,
    headerField: str,
  }),
  buffering: obj({}, {
    maxRequestBodyBytes: int,
    memRequestBodyBytes: int,
    maxResponseBodyBytes: int,
    memResponseBodyBytes: int,
    retryExpression: str,
  }),
  chain: obj({ middlewares: strs }),
  circuitBreaker: obj({ expression: str }, {
    checkPeriod: duration,
    fallbackDuration: duration,
    recoveryDuration: duration,
    responseCode: int,
  }),
  compress: obj({}, {
    excludedContentTypes: strs,
    includedContentTypes: strs,
    minResponseBodyBytes: int,
    defaultEncoding: str,
    encodings: strs,
  }),
  contentType: obj({}, { autoDetect: bool }),
  digestAuth: obj({}, {
    users: strs,
    usersFile: str,
    removeHeader: bool,
    realm: str,
    headerField: str,
  }),
  errors: obj({ status: strs, service: str }, { statusRewrites: record(int), query: str }),
  forwardAuth: obj({ address: str }, {
    tls: obj({}, { ca: str, cert: str, key: str, insecureSkipVerify: bool }),
    trustForwardHeader: bool,
    authResponseHeaders: strs,
    authResponseHeadersRegex: str,
    authRequestHeaders: strs,
    addAuthCookiesToResponse: strs,
    headerField: str,
    forwardBody: bool,
    maxBodySize: int,
    preserveLocationHeader: bool,
  }),
  grpcWeb: obj({}, { allowOrigins: strs }),
  headers: headersMiddleware,
  ipAllowList: obj({ sourceRange: strs }, { ipStrategy, rejectStatusCode: int }),
  inFlightReq: obj({ amount: int }, { sourceCriterion: sourceCriterion }),
  passTLSClientCert: obj({}, { pem: bool, info: z.unknown() }),
  plugin: record(z.unknown()),
  rateLimit: obj({ average: int }, {
    period: duration,
    burst: int,
    sourceCriterion,
  }),
  redirectRegex: obj({ regex: str, replacement: str }, { permanent: bool }),
  redirectScheme: obj({ scheme: str }, { port: str, permanent: bool }),
  replacePath: obj({ path: str }),
  replacePathRegex: obj({ regex: str, replacement: str }),
  retry: obj({ attempts: int }, { initialInterval: duration }),
  stripPrefix: obj({ prefixes: strs }, { forceSlash: bool }),
  stripPrefixRegex: obj({ regex: strs }),
}).refine(exactlyOne, "a middleware has exactly one type");

const serversTransport = obj({}, {
  serverName: str,
  insecureSkipVerify: bool,
  rootCAs: strs,
  certificates: z.array(obj({ certFile: str, keyFile: str })),
  maxIdleConnsPerHost: int,
  forwardingTimeouts: obj({}, {
    dialTimeout: duration,
    responseHeaderTimeout: duration,
    idleConnTimeout: duration,
    readIdleTimeout: duration,
    pingTimeout: duration,
  }),
  disableHTTP2: bool,
  peerCertURI: str,
  spiffe: obj({}, { ids: strs, trustDomain: str }),
});

const tcpRouter = obj({ service: str, rule: str }, {
  entryPoints: strs,
  middlewares: strs,
  ruleSyntax: str,
  priority: int,
  tls: routerTls.extend({ passthrough: bool.optional() }).strict(),
});
const addressServers = z.array(
  obj({ address: str }, { weight: int, tls: bool }),
);
const tcpService = obj({}, {
  loadBalancer: obj({ servers: addressServers }, {
    proxyProtocol: obj({}, { version: int }),
    terminationDelay: int,
    serversTransport: str,
  }),
  weighted: obj({ services: weightedServices }),
}).refine(exactlyOne, "a service has exactly one type");
const tcpMiddleware = obj({}, {
  ipAllowList: obj({ sourceRange: strs }),
  inFlightConn: obj({ amount: int }),
}).refine(exactlyOne, "a middleware has exactly one type");

const udpRouter = obj({ service: str }, { entryPoints: strs });
const udpService = obj({}, {
  loadBalancer: obj({ servers: z.array(obj({ address: str })) }),
  weighted: obj({ services: weightedServices }),
}).refine(exactlyOne, "a service has exactly one type");

const certificate = obj({ certFile: str, keyFile: str }, { stores: strs });
const tls = obj({}, {
  certificates: z.array(certificate),
  options: record(
    obj({}, {
      minVersion: str,
      maxVersion: str,
      cipherSuites: strs,
      curvePreferences: strs,
      clientAuth: obj({}, { caFiles: strs, clientAuthType: str }),
      sniStrict: bool,
      alpnProtocols: strs,
    }),
  ),
  stores: record(
    obj({}, {
      defaultCertificate: obj({ certFile: str, keyFile: str }),
      defaultGeneratedCert: obj({ resolver: str }, { domain: obj({ main: str }, { sans: strs }) }),
    }),
  ),
});

/** A whole dynamic-configuration file. */
export const TraefikDynamicConfig = obj({}, {
  http: obj({}, {
    routers: record(httpRouter),
    services: record(httpService),
    middlewares: record(httpMiddleware),
    serversTransports: record(serversTransport),
  }),
  tcp: obj({}, {
    routers: record(tcpRouter),
    services: record(tcpService),
    middlewares: record(tcpMiddleware),
  }),
  udp: obj({}, { routers: record(udpRouter), services: record(udpService) }),
  tls,
});
export type TraefikDynamicConfig = z.output<typeof TraefikDynamicConfig>;
