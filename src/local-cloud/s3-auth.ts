// Who sent an S3 request: Signature Version 4 (header, presigned query, aws-chunked) or
// Version 2 (`AWS key:sig` header, AWSAccessKeyId/Expires/Signature query), checked
// against the cloud's keys and clock. Routing and answers are s3-api.ts's.
import { err, ok, type Result } from '../core/result.js';
import { isSigV2, verifySigV2 } from './sigv2.js';
import { verifySigV4, type AuthError, type VerifiedAuth } from './sigv4.js';
import { headerMap, type S3ApiContext, type S3Request } from './s3-responses.js';

/** An authenticated S3 caller. */
export interface S3Caller {
  readonly accessKeyId: string;
  /** The payload hash a SigV4 client signed; `UNSIGNED-PAYLOAD` for SigV2 (it signs no body). */
  readonly payloadHash: string;
  /** SigV4 details (aws-chunked chunk signatures chain from them); absent for SigV2. */
  readonly sigv4?: VerifiedAuth;
}

/** True when the request carries no credentials at all (header or query). */
export function isAnonymous(s: S3Request): boolean {
  return (
    s.req.headers.authorization === undefined &&
    !/(^|&)(X-Amz-Signature|Signature|AWSAccessKeyId)=/.test(s.rawQuery)
  );
}

/**
 * Verifies the request's signature, SigV2 or SigV4, at `ctx.now()`. SigV2 clients sign
 * the path without the service prefix (euca2ools) or with it (boto with a path in its
 * endpoint): both spellings are tried.
 */
export async function authenticateS3(
  s: S3Request,
  ctx: S3ApiContext,
): Promise<Result<S3Caller, AuthError>> {
  const method = s.req.method ?? 'GET';
  const headers = headerMap(s.req);
  const now = ctx.now();
  if (isSigV2({ headers, rawQuery: s.rawQuery })) {
    const v2 = verifySigV2(
      {
        method,
        resourcePath: s.routePath,
        ...(s.rawPath !== s.routePath ? { alternativePaths: [s.rawPath] } : {}),
        rawQuery: s.rawQuery,
        headers,
      },
      ctx.secretFor,
      now,
    );
    return v2.ok ? ok({ accessKeyId: v2.value.accessKeyId, payloadHash: 'UNSIGNED-PAYLOAD' }) : v2;
  }
  const v4 = await verifySigV4(
    { method, rawPath: s.rawPath, rawQuery: s.rawQuery, headers, service: 's3' },
    ctx.secretFor,
    now,
  );
  if (!v4.ok) return err(v4.error);
  return ok({
    accessKeyId: v4.value.accessKeyId,
    payloadHash: v4.value.payloadHash,
    sigv4: v4.value,
  });
}
