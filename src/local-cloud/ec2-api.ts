// The local cloud's EC2 Query API subset: RegisterImage, DescribeImages (ids, owners,
// executable-by, filters), DeregisterImage, ModifyImageAttribute (launch permission),
// SigV4- or SigV2-checked (ec2-sigv2.ts), answered in the EC2 XML the SDK parses.
// Here: body, authentication and dispatch; the actions are in ec2-actions.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Result } from '../core/result.js';
import { EC2_ACTIONS } from './ec2-actions.js';
import { sendError, type Ec2ApiContext } from './ec2-responses.js';
import { isEc2SigV2, verifyEc2SigV2 } from './ec2-sigv2.js';
import { parseQuery } from './query-string.js';
import { verifySigV4, type AuthError } from './sigv4.js';

export type { Ec2ApiContext } from './ec2-responses.js';

const MAX_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The caller's access key id, from a SigV2 (euca2ools) or SigV4 (SDK, awscli) signature. */
async function authenticateEc2(
  req: IncomingMessage,
  request: { rawPath: string; rawQuery: string; body: Buffer; pairs: [string, string][] },
  ctx: Ec2ApiContext,
): Promise<Result<{ accessKeyId: string }, AuthError>> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  const method = req.method ?? 'POST';
  return isEc2SigV2(request.pairs)
    ? verifyEc2SigV2(
        { method, host: headers.host ?? '', rawPath: request.rawPath, params: request.pairs },
        ctx.secretFor,
        ctx.now(),
      )
    : await verifySigV4(
        {
          method,
          rawPath: request.rawPath,
          rawQuery: request.rawQuery,
          headers,
          service: 'ec2',
          bodySha256: createHash('sha256').update(request.body).digest('hex'),
        },
        ctx.secretFor,
        ctx.now(),
      );
}

/** Serves one EC2 Query API request (GET or form POST). Every problem is an EC2 error response. */
export async function handleEc2(
  req: IncomingMessage,
  res: ServerResponse,
  request: { rawPath: string; rawQuery: string },
  ctx: Ec2ApiContext,
): Promise<void> {
  const requestId = randomUUID();
  const body = await readBody(req);
  if (body === undefined) {
    sendError(
      res,
      { code: 'InvalidRequest', message: 'The request body is too large.' },
      requestId,
    );
    return;
  }
  const pairs = [...parseQuery(request.rawQuery), ...parseQuery(body.toString('utf8'))];
  const auth = await authenticateEc2(req, { ...request, body, pairs }, ctx);
  if (!auth.ok) {
    sendError(
      res,
      { code: 'AuthFailure', message: `${auth.error.code}: ${auth.error.message}`, status: 401 },
      requestId,
    );
    return;
  }
  const params = new Map(pairs);
  const version = params.get('Version') ?? '2016-11-15';
  const action = params.get('Action') ?? '';
  const handler = EC2_ACTIONS.get(action);
  if (handler === undefined) {
    sendError(
      res,
      {
        code: 'InvalidAction',
        message: `The action '${action}' is not valid for this web service (the local cloud implements ${[...EC2_ACTIONS.keys()].join(', ')})`,
      },
      requestId,
    );
    return;
  }
  await handler(
    {
      res,
      requestId,
      params,
      account: ctx.accountFor(auth.value.accessKeyId),
      action,
      ns: `http://ec2.amazonaws.com/doc/${version}/`,
    },
    ctx,
  );
}
