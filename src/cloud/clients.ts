// The AWS SDK client factory: the one place that knows how to configure @aws-sdk clients
// for AWS, Eucalyptus and the local cloud. No requests are made here.
import { EC2Client } from '@aws-sdk/client-ec2';
import { S3Client } from '@aws-sdk/client-s3';
import type { CloudTarget } from './target.js';

export interface ClientOptions {
  /** Attempts per request inside the SDK (its standard retry strategy, with backoff). Default 4. */
  readonly maxAttempts?: number;
  /** Abort a request whose socket stays idle this long (a stalled server); default 120 s. */
  readonly requestTimeoutMs?: number;
  /** Give up connecting after this long; default 10 s. */
  readonly connectionTimeoutMs?: number;
  /** Concurrent sockets per client; at least the upload concurrency. Default 16. */
  readonly maxSockets?: number;
}

export interface CloudClients {
  readonly s3: S3Client;
  readonly ec2: EC2Client;
  /** Closes idle sockets so that the process can exit. */
  readonly destroy: () => void;
}

/**
 * The AWS SDK prints a multi-line Node-version deprecation warning on first use under
 * Node 20 (@aws-sdk/core emitWarningIfUnsupportedVersion); that noise would land in every
 * CLI run. The SDK's documented switch turns it off unless the user set it.
 */
function silenceNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * S3 and EC2 clients for `target`. For anything but Amazon's own endpoints:
 * `forcePathStyle` (Eucalyptus and the local cloud have no per-bucket host names) and
 * `requestChecksumCalculation`/`responseChecksumValidation: 'WHEN_REQUIRED'`: since
 * @aws-sdk/client-s3 3.729 the SDK otherwise sends CRC32 trailers with aws-chunked
 * bodies, which S3-compatible servers that predate it store corrupted or refuse
 * (https://github.com/aws/aws-sdk-js-v3/issues/6810).
 */
export function createCloudClients(target: CloudTarget, options: ClientOptions = {}): CloudClients {
  silenceNodeVersionWarning();
  const requestHandler = {
    requestTimeout: options.requestTimeoutMs ?? 120_000,
    // Without this @smithy/node-http-handler only logs a warning and keeps waiting on a
    // stalled socket; with it the request fails as a TimeoutError and is retried.
    throwOnRequestTimeout: true,
    connectionTimeout: options.connectionTimeoutMs ?? 10_000,
    httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 16 },
    httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 16 },
  };
  const common = {
    region: target.region,
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler,
    ...(target.credentials !== undefined ? { credentials: target.credentials } : {}),
  };
  const s3 = new S3Client({
    ...common,
    ...(target.endpoints.s3 !== undefined ? { endpoint: target.endpoints.s3 } : {}),
    ...(target.isAws
      ? {}
      : {
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }),
  });
  const ec2 = new EC2Client({
    ...common,
    ...(target.endpoints.ec2 !== undefined ? { endpoint: target.endpoints.ec2 } : {}),
  });
  return {
    s3,
    ec2,
    destroy: () => {
      s3.destroy();
      ec2.destroy();
    },
  };
}
