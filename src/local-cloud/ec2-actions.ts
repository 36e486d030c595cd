// The local cloud's EC2 actions, one handler each: DescribeImages, RegisterImage (bundle
// checks in bundle-checks.ts), DeregisterImage, ModifyImageAttribute (launch permission
// "all" only). Authentication and dispatch are ec2-api.ts's.
import { checkRegistration, type RegisterRequest } from './bundle-checks.js';
import { describe, listParam } from './ec2-describe.js';
import type { ImageRecord } from './image-store.js';
import { reply, sendError, type Ec2ApiContext, type Ec2Call } from './ec2-responses.js';

export type Ec2Action = (call: Ec2Call, ctx: Ec2ApiContext) => void | Promise<void>;

/** The caller's image, or undefined after answering InvalidAMIID.NotFound (as Eucalyptus does for others' images too). */
function ownImage(call: Ec2Call, ctx: Ec2ApiContext, imageId: string): ImageRecord | undefined {
  const image = ctx.images.get(imageId);
  if (image !== undefined && image.ownerId === call.account) return image;
  sendError(
    call.res,
    { code: 'InvalidAMIID.NotFound', message: `The image ID '${imageId}' does not exist` },
    call.requestId,
  );
  return undefined;
}

const describeImages: Ec2Action = (call, ctx) => {
  const items = describe(call.params, ctx.images, call.account);
  if (!Array.isArray(items)) sendError(call.res, items, call.requestId);
  else reply(call, [['imagesSet', items]]);
};

/** RegisterImage's parameters; an empty value counts as absent, a missing Name is the manifest's file name. */
function registerRequest(params: Map<string, string>, location: string): RegisterRequest {
  const given = (key: string): string | undefined => {
    const value = params.get(key);
    return value !== undefined && value !== '' ? value : undefined;
  };
  const optional = {
    description: given('Description'),
    architecture: given('Architecture'),
    kernelId: given('KernelId'),
    ramdiskId: given('RamdiskId'),
    virtualizationType: given('VirtualizationType'),
  };
  return {
    imageLocation: location,
    name:
      params.get('Name') ??
      location
        .split('/')
        .pop()
        ?.replace(/\.manifest\.xml$/, '') ??
      '',
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
  };
}

const registerImage: Ec2Action = async (call, ctx) => {
  const location = call.params.get('ImageLocation');
  if (location === undefined || location === '') {
    sendError(
      call.res,
      {
        code: 'MissingParameter',
        message:
          'The request must contain the parameter ImageLocation (EBS registration is not supported by the local cloud)',
      },
      call.requestId,
    );
    return;
  }
  const checked = await checkRegistration(registerRequest(call.params, location), {
    ...ctx.checks(call.account),
    images: ctx.images.list(),
    ...(ctx.defaultKernelId !== undefined ? { defaultKernelId: ctx.defaultKernelId } : {}),
    ...(ctx.defaultRamdiskId !== undefined ? { defaultRamdiskId: ctx.defaultRamdiskId } : {}),
  });
  if (!checked.ok) {
    sendError(call.res, checked.error, call.requestId);
    return;
  }
  const accepted = checked.value;
  const imageId = ctx.images.newId(accepted.imageType);
  const pendingMs = ctx.pendingMs ?? 0;
  await ctx.images.add({
    ...accepted,
    imageId,
    ownerId: call.account,
    state: pendingMs > 0 ? 'pending' : 'available',
    ...(pendingMs > 0 ? { pendingUntil: Date.now() + pendingMs } : {}),
    isPublic: false,
    registeredAt: new Date(ctx.now()).toISOString(),
  });
  reply(call, [['imageId', imageId]]);
};

const deregisterImage: Ec2Action = async (call, ctx) => {
  const imageId = call.params.get('ImageId') ?? '';
  if (ownImage(call, ctx, imageId) === undefined) return;
  await ctx.images.remove(imageId);
  reply(call, [['return', true]]);
};

/** Launch permission for group "all" only (public or not), new and legacy parameter styles. */
const modifyImageAttribute: Ec2Action = async (call, ctx) => {
  const { params } = call;
  const imageId = params.get('ImageId') ?? '';
  if (ownImage(call, ctx, imageId) === undefined) return;
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
  reply(call, [['return', true]]);
};

/** Action name -> handler; an action not here is answered InvalidAction. */
export const EC2_ACTIONS: ReadonlyMap<string, Ec2Action> = new Map([
  ['RegisterImage', registerImage],
  ['DescribeImages', describeImages],
  ['DeregisterImage', deregisterImage],
  ['ModifyImageAttribute', modifyImageAttribute],
]);
