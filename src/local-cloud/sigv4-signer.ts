// The SigV4 signature a client should have sent, computed by the SDK's own signer
// (@smithy/signature-v4: SignatureV4.sign, .presign) from the request as received, with
// the client's own date, region and service and exactly the headers it listed in
// SignedHeaders. Parsing and policy are sigv4.ts's.
import { createHash, createHmac } from 'node:crypto';
import { getCanonicalHeaders, SignatureV4 } from '@smithy/signature-v4';

export interface SignatureInput {
  readonly method: string;
  /** The path exactly as received (still percent-encoded), without the query. */
  readonly rawPath: string;
  /** Decoded query pairs, without X-Amz-Signature (presigned: without any X-Amz-* parameter the presigner writes). */
  readonly queryPairs: readonly (readonly [string, string])[];
  /** Lower-case header names, as received. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** 's3' signs the path as sent; other services (EC2) normalise and encode it again. */
  readonly service: 's3' | 'ec2';
  readonly accessKeyId: string;
  readonly secret: string;
  readonly signingDate: Date;
  /** Region and service of the client's credential scope. */
  readonly region: string;
  readonly scopeService: string;
  readonly signedHeaders: readonly string[];
  /** The payload hash the client signed (x-amz-content-sha256, UNSIGNED-PAYLOAD, the body's). */
  readonly payloadHash: string;
  /** X-Amz-Expires of a presigned URL; absent for the Authorization header. */
  readonly expiresSeconds?: number;
}

export interface ExpectedSignature {
  /** Lower-case hex. */
  readonly signature: string;
  /** Hex HMAC-SHA256 of `text` with the same signing key (aws-chunked chunk signatures). */
  readonly sign: (text: string) => Promise<string>;
}

type SignerInit = ConstructorParameters<typeof SignatureV4>[0];
type SignableRequest = Parameters<SignatureV4['presign']>[0];
type SourceData = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SHA-256, or HMAC-SHA256 given a key, from node:crypto in the shape SignatureV4 takes. */
class NodeSha256 {
  readonly #hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.#hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.#hash.digest());
  }
}

/**
 * The one valid signature SignatureV4 cannot reproduce by itself: a request that signs a
 * `Date` header as well as X-Amz-Date (SigV4 allows it; the signer drops `date` as a
 * header it generates, in prepareRequest). This puts the header back into the canonical
 * request, canonicalised by the library like the others. Used only for that case.
 */
class DateKeepingSignatureV4 extends SignatureV4 {
  readonly #date: Record<string, string>;
  constructor(init: SignerInit, request: SignableRequest) {
    super(init);
    const date = { ...request, headers: { date: request.headers.date ?? '' } };
    this.#date = getCanonicalHeaders(date, undefined, new Set(['date']));
  }
  protected override createCanonicalRequest(
    request: SignableRequest,
    canonicalHeaders: Record<string, string>,
    payloadHash: string,
  ): string {
    return super.createCanonicalRequest(
      request,
      { ...canonicalHeaders, ...this.#date },
      payloadHash,
    );
  }
}

/**
 * The request as the signer sees it: method, path, query, only the headers the client
 * signed (an absent one as empty, as the client must have signed it), and the payload
 * hash it signed as x-amz-content-sha256 (kept out of the canonical headers unless signed).
 */
function signable(input: SignatureInput): SignableRequest {
  const headers: Record<string, string> = {};
  for (const name of input.signedHeaders) headers[name] = input.headers[name] ?? '';
  headers['x-amz-content-sha256'] = input.payloadHash;
  const query = new Map<string, string[]>();
  for (const [k, v] of input.queryPairs) query.set(k, [...(query.get(k) ?? []), v]);
  return {
    method: input.method,
    protocol: 'http:',
    hostname: 'localhost', // not signed: the host header is
    path: input.rawPath,
    query: Object.fromEntries(query),
    headers,
  };
}

/** Computes the signature `input` should carry, with SignatureV4.sign (header) or .presign (query). */
export async function expectedSigV4(input: SignatureInput): Promise<ExpectedSignature> {
  const init: SignerInit = {
    service: input.scopeService,
    region: input.region,
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secret },
    sha256: NodeSha256,
    // S3 signs the path as sent; every other service (EC2) normalises and encodes it again.
    uriEscapePath: input.service !== 's3',
    // The payload hash is always given (x-amz-content-sha256), never computed by the signer.
    applyChecksum: false,
  };
  const request = signable(input);
  const signer = input.signedHeaders.includes('date')
    ? new DateKeepingSignatureV4(init, request)
    : new SignatureV4(init);
  // Exactly the client's SignedHeaders: what the signer adds (x-amz-date, the payload
  // hash) is left out unless signed; what it never signs by default (user-agent,
  // expect…) is signed when the client signed it.
  const signed = new Set(input.signedHeaders);
  const options = {
    signingDate: input.signingDate,
    signableHeaders: signed,
    unsignableHeaders: new Set(
      ['x-amz-date', 'x-amz-content-sha256'].filter((h) => !signed.has(h)),
    ),
  };
  let signature: string | undefined;
  if (input.expiresSeconds === undefined) {
    const out = await signer.sign(request, options);
    signature = /Signature=([0-9a-f]{64})$/.exec(out.headers.authorization ?? '')?.[1];
  } else {
    const out = await signer.presign(request, {
      ...options,
      expiresIn: input.expiresSeconds,
      // Headers the client signed stay headers (the presigner moves x-amz-* ones to the query).
      unhoistableHeaders: new Set(Object.keys(request.headers)),
    });
    const value = out.query?.['X-Amz-Signature'];
    signature = typeof value === 'string' ? value : undefined;
  }
  if (signature === undefined) throw new Error('SignatureV4 returned no signature');
  return { signature, sign: (text) => signer.sign(text, { signingDate: input.signingDate }) };
}
