// The local cloud's EC2 Query API subset: RegisterImage, DescribeImages (ids, owners,
// executable-by, filters), DeregisterImage, ModifyImageAttribute (launch permission),
// SigV4-checked, answered in the EC2 XML the SDK parses. Bundle checks: bundle-checks.ts.
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkRegistration, type CheckContext, type Ec2Error } from './bundle-checks.js';
import type { ImageRecord, ImageStore } from './image-store.js';
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

/** `Prefix.N` values in N order (ImageId.1, ImageId.2…). */
function listParam(params: Map<string, string>, prefix: string): string[] {
  const out: [number, string][] = [];
  for (const [name, value] of params) {
    const m = new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(name);
    if (m) out.push([Number(m[1]), value]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** Filter.N.Name + Filter.N.Value.M. */
function filters(params: Map<string, string>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [name, value] of params) {
    const m = /^Filter\.(\d+)\.Name$/.exec(name);
    if (m)
      out.set(value, [...(out.get(value) ?? []), ...listParam(params, `Filter.${m[1]}.Value`)]);
  }
  return out;
}

function glob(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

const FILTER_NAMES = new Set([
  'image-id',
  'name',
  'manifest-location',
  'image-type',
  'state',
  'architecture',
  'owner-id',
  'is-public',
  'kernel-id',
  'ramdisk-id',
  'description',
  'root-device-type',
  'virtualization-type',
]);

function filterValue(image: ImageRecord, name: string): string | undefined {
  switch (name) {
    case 'image-id':
      return image.imageId;
    case 'name':
      return image.name;
    case 'manifest-location':
      return image.imageLocation;
    case 'image-type':
      return image.imageType;
    case 'state':
      return image.state;
    case 'architecture':
      return image.architecture;
    case 'owner-id':
      return image.ownerId;
    case 'is-public':
      return String(image.isPublic);
    case 'kernel-id':
      return image.kernelId ?? '';
    case 'ramdisk-id':
      return image.ramdiskId ?? '';
    case 'description':
      return image.description ?? '';
    case 'root-device-type':
      return 'instance-store';
    case 'virtualization-type':
      return 'paravirtual';
    default:
      return undefined;
  }
}

function describe(
  params: Map<string, string>,
  ctx: Ec2ApiContext,
  account: string,
): XmlNode[] | Ec2Error {
  const ids = listParam(params, 'ImageId');
  const owners = listParam(params, 'Owner');
  const executableBy = listParam(params, 'ExecutableBy');
  const wanted = filters(params);
  for (const name of wanted.keys()) {
    if (!FILTER_NAMES.has(name) && !name.startsWith('tag'))
      return { code: 'InvalidParameterValue', message: `The filter '${name}' is invalid` };
  }
  const visible = ctx.images.list().filter((image) => image.ownerId === account || image.isPublic);
  const selected = visible.filter((image) => {
    if (ids.length > 0 && !ids.includes(image.imageId)) return false;
    if (
      owners.length > 0 &&
      !owners.some((o) => (o === 'self' ? image.ownerId === account : image.ownerId === o))
    )
      return false;
    if (
      executableBy.length > 0 &&
      !executableBy.some((e) =>
        e === 'all' ? image.isPublic : image.isPublic || image.ownerId === account,
      )
    )
      return false;
    for (const [name, values] of wanted) {
      const value = filterValue(image, name);
      if (value === undefined) return false;
      if (!values.some((v) => glob(v).test(value))) return false;
    }
    return true;
  });
  return selected.map((image): XmlNode => [
    'item',
    [
      ['imageId', image.imageId],
      ['imageLocation', image.imageLocation],
      ['imageState', image.state],
      ['imageOwnerId', image.ownerId],
      ['isPublic', image.isPublic],
      ['architecture', image.architecture],
      ['imageType', image.imageType],
      image.kernelId !== undefined ? ['kernelId', image.kernelId] : undefined,
      image.ramdiskId !== undefined ? ['ramdiskId', image.ramdiskId] : undefined,
      ['name', image.name],
      image.description !== undefined ? ['description', image.description] : undefined,
      ['rootDeviceType', 'instance-store'],
      ['virtualizationType', 'paravirtual'],
      ['hypervisor', 'xen'],
      ['creationDate', image.registeredAt],
      image.stateReason !== undefined
        ? [
            'stateReason',
            [
              ['code', 'Client.ImageFailed'],
              ['message', image.stateReason],
            ],
          ]
        : undefined,
    ],
  ]);
}

/** Serves one EC2 Query API request (POST form or GET query). Never throws. */
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
  const auth = verifySigV4(
    {
      method: req.method ?? 'POST',
      rawPath: request.rawPath,
      rawQuery: request.rawQuery,
      headers,
      service: 'ec2',
      bodySha256: createHash('sha256').update(body).digest('hex'),
    },
    ctx.secretFor,
  );
  if (!auth.ok) {
    sendError(
      res,
      { code: 'AuthFailure', message: `${auth.error.code}: ${auth.error.message}`, status: 401 },
      requestId,
    );
    return;
  }
  const params = new Map([...parseQuery(request.rawQuery), ...parseQuery(body.toString('utf8'))]);
  const account = ctx.accountFor(auth.value.accessKeyId);
  const version = params.get('Version') ?? '2016-11-15';
  const ns = `http://ec2.amazonaws.com/doc/${version}/`;
  const action = params.get('Action') ?? '';
  const reply = (children: XmlNode[]): void => {
    send(res, 200, xmlDocument(`${action}Response`, ns, [['requestId', requestId], ...children]));
  };
  switch (action) {
    case 'DescribeImages': {
      const items = describe(params, ctx, account);
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
        { ...ctx.checks(account), images: ctx.images.list() },
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
        registeredAt: new Date().toISOString(),
      });
      reply([['imageId', imageId]]);
      return;
    }
    case 'DeregisterImage': {
      const imageId = params.get('ImageId') ?? '';
      const image = ctx.images.get(imageId);
      if (image === undefined || image.ownerId !== account) {
        sendError(
          res,
          { code: 'InvalidAMIID.NotFound', message: `The image ID '${imageId}' does not exist` },
          requestId,
        );
        return;
      }
      await ctx.images.remove(imageId);
      reply([['return', true]]);
      return;
    }
    case 'ModifyImageAttribute': {
      const imageId = params.get('ImageId') ?? '';
      const image = ctx.images.get(imageId);
      if (image === undefined || image.ownerId !== account) {
        sendError(
          res,
          { code: 'InvalidAMIID.NotFound', message: `The image ID '${imageId}' does not exist` },
          requestId,
        );
        return;
      }
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
