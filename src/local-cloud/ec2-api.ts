// The local cloud's EC2 Query API subset: RegisterImage, DescribeImages (ids, owners,
// executable-by, filters), DeregisterImage, ModifyImageAttribute (launch permission),
// SigV4- or SigV2-checked (ec2-sigv2.ts), answered in the EC2 XML the SDK parses.
// Bundle checks: bundle-checks.ts.
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkRegistration, type CheckContext, type Ec2Error } from './bundle-checks.js';
import type { ImageStore } from './image-store.js';
import { describe, listParam } from './ec2-describe.js';
import { isEc2SigV2, verifyEc2SigV2 } from './ec2-sigv2.js';
import { parseQuery, verifySigV4 } from './sigv4.js';
import { xmlDocument, type XmlNode } from './xml.js';

export interface Ec2ApiContext {
  readonly images: ImageStore;
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly accountFor: (accessKeyId: string) => string;
  /** Everything the bundle checks need except the image list (taken from `images`). */
  readonly checks: (accountId: string) => Omit<CheckContext, 'images'>;
  /** Images stay `pending` this long after registration (default 0: available at once). */
  readonly pendingMs?: number;
  /** The clock signatures are checked against (ms since the epoch). */
  readonly now: () => number;
  /**
   * The kernel and ramdisk a machine image gets when neither RegisterImage nor its
   * manifest names one, as Eucalyptus' `cloud.images.defaultkernel`/`defaultramdisk`
   * (unset: such a registration is refused with MissingParameter).
   */
  readonly defaultKernelId?: string;
  readonly defaultRamdiskId?: string;
}

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

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml;charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendError(res: ServerResponse, error: Ec2Error, requestId: string): void {
  send(
    res,
    error.status ?? 400,
    xmlDocument('Response', undefined, [
      [
        'Errors',
        [
          [
            'Error',
            [
              ['Code', error.code],
              ['Message', error.message],
            ],
          ],
        ],
      ],
      ['RequestID', requestId],
    ]),
  );
}

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
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  const pairs = [...parseQuery(request.rawQuery), ...parseQuery(body.toString('utf8'))];
  const method = req.method ?? 'POST';
  const auth = isEc2SigV2(pairs)
    ? verifyEc2SigV2(
        { method, host: headers.host ?? '', rawPath: request.rawPath, params: pairs },
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
          bodySha256: createHash('sha256').update(body).digest('hex'),
        },
        ctx.secretFor,
        ctx.now(),
      );
  if (!auth.ok) {
    sendError(
      res,
      { code: 'AuthFailure', message: `${auth.error.code}: ${auth.error.message}`, status: 401 },
      requestId,
    );
    return;
  }
  const params = new Map(pairs);
  const account = ctx.accountFor(auth.value.accessKeyId);
  const version = params.get('Version') ?? '2016-11-15';
  const ns = `http://ec2.amazonaws.com/doc/${version}/`;
  const action = params.get('Action') ?? '';
  const reply = (children: XmlNode[]): void => {
    send(res, 200, xmlDocument(`${action}Response`, ns, [['requestId', requestId], ...children]));
  };
  /** The caller's image, or undefined after answering InvalidAMIID.NotFound (as Eucalyptus does for others' images too). */
  const ownImage = (imageId: string): ReturnType<typeof ctx.images.get> => {
    const image = ctx.images.get(imageId);
    if (image !== undefined && image.ownerId === account) return image;
    sendError(
      res,
      { code: 'InvalidAMIID.NotFound', message: `The image ID '${imageId}' does not exist` },
      requestId,
    );
    return undefined;
  };
  switch (action) {
    case 'DescribeImages': {
      const items = describe(params, ctx.images, account);
      if (!Array.isArray(items)) sendError(res, items, requestId);
      else reply([['imagesSet', items]]);
      return;
    }
    case 'RegisterImage': {
      const location = params.get('ImageLocation');
      const name = params.get('Name');
      if (location === undefined || location === '') {
        sendError(
          res,
          {
            code: 'MissingParameter',
            message:
              'The request must contain the parameter ImageLocation (EBS registration is not supported by the local cloud)',
          },
          requestId,
        );
        return;
      }
      const get = (key: string): Record<string, string> => {
        const value = params.get(key);
        return value !== undefined && value !== '' ? { [key]: value } : {};
      };
      const checked = await checkRegistration(
        {
          imageLocation: location,
          name:
            name ??
            location
              .split('/')
              .pop()
              ?.replace(/\.manifest\.xml$/, '') ??
            '',
          ...(get('Description').Description !== undefined
            ? { description: get('Description').Description }
            : {}),
          ...(get('Architecture').Architecture !== undefined
            ? { architecture: get('Architecture').Architecture }
            : {}),
          ...(get('KernelId').KernelId !== undefined ? { kernelId: get('KernelId').KernelId } : {}),
          ...(get('RamdiskId').RamdiskId !== undefined
            ? { ramdiskId: get('RamdiskId').RamdiskId }
            : {}),
          ...(get('VirtualizationType').VirtualizationType !== undefined
            ? { virtualizationType: get('VirtualizationType').VirtualizationType }
            : {}),
        },
        {
          ...ctx.checks(account),
          images: ctx.images.list(),
          ...(ctx.defaultKernelId !== undefined ? { defaultKernelId: ctx.defaultKernelId } : {}),
          ...(ctx.defaultRamdiskId !== undefined ? { defaultRamdiskId: ctx.defaultRamdiskId } : {}),
        },
      );
      if (!checked.ok) {
        sendError(res, checked.error, requestId);
        return;
      }
      const accepted = checked.value;
      const imageId = ctx.images.newId(accepted.imageType);
      const pendingMs = ctx.pendingMs ?? 0;
      await ctx.images.add({
        ...accepted,
        imageId,
        ownerId: account,
        state: pendingMs > 0 ? 'pending' : 'available',
        ...(pendingMs > 0 ? { pendingUntil: Date.now() + pendingMs } : {}),
        isPublic: false,
        registeredAt: new Date(ctx.now()).toISOString(),
      });
      reply([['imageId', imageId]]);
      return;
    }
    case 'DeregisterImage': {
      const imageId = params.get('ImageId') ?? '';
      const image = ownImage(imageId);
      if (image === undefined) return;
      await ctx.images.remove(imageId);
      reply([['return', true]]);
      return;
    }
    case 'ModifyImageAttribute': {
      const imageId = params.get('ImageId') ?? '';
      const image = ownImage(imageId);
      if (image === undefined) return;
      const adds = listParam(params, 'LaunchPermission.Add').concat(
        [...params]
          .filter(([k, v]) => /^LaunchPermission\.Add\.\d+\.Group$/.test(k) && v === 'all')
          .map(() => 'all'),
      );
      const removes = [...params].filter(
        ([k, v]) => /^LaunchPermission\.Remove\.\d+\.Group$/.test(k) && v === 'all',
      );
      const legacy = params.get('OperationType');
      const legacyAll = listParam(params, 'UserGroup').includes('all');
      if (adds.includes('all') || (legacy === 'add' && legacyAll))
        await ctx.images.update(imageId, { isPublic: true });
      else if (removes.length > 0 || (legacy === 'remove' && legacyAll))
        await ctx.images.update(imageId, { isPublic: false });
      reply([['return', true]]);
      return;
    }
    default:
      sendError(
        res,
        {
          code: 'InvalidAction',
          message: `The action '${action}' is not valid for this web service (the local cloud implements RegisterImage, DescribeImages, DeregisterImage, ModifyImageAttribute)`,
        },
        requestId,
      );
  }
}
