// register-image: RegisterImage of an uploaded bundle, waiting until it is available.
// Idempotent: an image already registered from the same location (a crash after the
// call, before the state was written) is found and re-used, never registered twice.
// The previous build of the same image (same name, a location under this recipe's
// bucket/prefix) is deregistered and its bundle deleted first, since Eucalyptus
// refuses two available images with one name.
import { err, ok, type Result } from '../core/result.js';
import { describeCloudFailure } from '../cloud/aws-errors.js';
import {
  deregisterImage,
  describeImages,
  findImageByLocation,
  registerImage,
} from '../cloud/ec2-register.js';
import { deleteBundle } from '../cloud/s3-upload.js';
import type { CloudConnection } from '../cloud/connect.js';
import type { JsonValue, StepFailure, StepKind } from '../plan/step.js';
import type { RegisterParams } from '../plan/step-params.js';
import { targetLabel, type CloudSession } from './cloud-session.js';
import { stepFailure } from '../plan/step-failure.js';

const PREFIX = { kernel: 'eki', ramdisk: 'eri', machine: 'emi' } as const;

/** Deregisters earlier builds of this image (same name, under our bucket/prefix); refuses to touch anyone else's. */
async function replacePrevious(
  connection: CloudConnection,
  options: {
    name: string;
    location: string;
    ownPrefix: string;
    log: (line: string) => void;
    signal: AbortSignal;
  },
): Promise<Result<readonly string[], StepFailure>> {
  const found = await describeImages({
    registry: connection.registry,
    owners: ['self'],
    filters: { name: [options.name] },
    signal: options.signal,
  });
  if (!found.ok)
    return err(stepFailure('cloud', 'describe-failed', describeCloudFailure(found.error)));
  const replaced: string[] = [];
  // The same bundle registered under another name (publish.names changed): register it anew.
  const sameBundle = await findImageByLocation(
    connection.registry,
    options.location,
    options.signal,
  );
  if (!sameBundle.ok)
    return err(stepFailure('cloud', 'describe-failed', describeCloudFailure(sameBundle.error)));
  if (sameBundle.value && sameBundle.value.name !== options.name) {
    options.log(
      `deregistering ${sameBundle.value.imageId}: the same bundle registered as '${sameBundle.value.name}', now named '${options.name}'`,
    );
    const gone = await deregisterImage({
      registry: connection.registry,
      imageId: sameBundle.value.imageId,
      signal: options.signal,
    });
    if (!gone.ok)
      return err(stepFailure('cloud', 'deregister-failed', describeCloudFailure(gone.error)));
    replaced.push(sameBundle.value.imageId);
  }
  for (const image of found.value) {
    if (image.name !== options.name || image.state === 'deregistered') continue;
    const location = image.imageLocation.replace(/^\/+/, '');
    if (location === options.location) continue;
    if (!location.startsWith(options.ownPrefix)) {
      return err(
        stepFailure(
          'cloud',
          'name-taken',
          `the image name '${options.name}' is already used by ${image.imageId} (${location}), which this recipe did not make: choose another name in publish.names, or deregister it`,
        ),
      );
    }
    options.log(
      `deregistering ${image.imageId}, the previous build of '${options.name}' (${location})`,
    );
    const gone = await deregisterImage({
      registry: connection.registry,
      imageId: image.imageId,
      signal: options.signal,
    });
    if (!gone.ok) {
      return err(
        stepFailure(
          'cloud',
          'deregister-failed',
          `could not deregister ${image.imageId}, the previous build of '${options.name}': ${describeCloudFailure(gone.error)}. If instances still run from it, stop them, or choose another name in publish.names`,
        ),
      );
    }
    const slash = location.indexOf('/');
    const last = location.lastIndexOf('/');
    const removed = await deleteBundle({
      store: connection.store,
      bucket: location.slice(0, slash),
      prefix: location.slice(slash + 1, last),
      manifestName: location.slice(last + 1),
      signal: options.signal,
    });
    if (!removed.ok)
      options.log(
        `the old bundle ${location} could not be deleted (${describeCloudFailure(removed.error)}); it is left in place`,
      );
    replaced.push(image.imageId);
  }
  return ok(replaced);
}

export function registerImageKind(
  session: CloudSession,
): StepKind<RegisterParams, 'register-image'> {
  return {
    kind: 'register-image',
    tools: [],
    describe: (step) => {
      const endpoint = targetLabel(step.params.target, 'ec2');
      return {
        summary: `register the ${step.params.virtualization === 'hvm' ? 'hvm machine' : step.params.imageType} image '${step.params.name}' (${PREFIX[step.params.imageType]}-…${step.params.virtualization === 'hvm' ? `, no kernel or ramdisk${step.params.rootDeviceName !== undefined ? `, root device ${step.params.rootDeviceName}` : ''}` : ''})`,
        commands: [],
        effects: [
          { kind: 'register', imageType: step.params.imageType, name: step.params.name, endpoint },
        ],
        notes: [
          `an image already registered from the same bundle is re-used; an earlier build named '${step.params.name}' made by this recipe is deregistered and its bundle deleted`,
          ...(step.params.public ? ['launch permission: everyone'] : []),
        ],
      };
    },
    verify: async (_step, values, signal) => {
      const imageId = values.imageId;
      if (typeof imageId !== 'string') return undefined;
      const connection = await session.connection(signal);
      if (!connection.ok) return undefined;
      const found = await describeImages({
        registry: connection.value.registry,
        imageIds: [imageId],
        signal,
      });
      if (!found.ok)
        return found.error.code === 'InvalidAMIID.NotFound'
          ? `${imageId} is no longer registered`
          : undefined;
      const image = found.value.find((i) => i.imageId === imageId);
      if (!image || image.state === 'deregistered') return `${imageId} is no longer registered`;
      if (image.state !== 'available' && image.state !== 'pending')
        return `${imageId} is ${image.state}`;
      return undefined;
    },
    run: async (ctx) => {
      const upload = [...ctx.needs.values()].find(
        (n) => typeof n.values.imageLocation === 'string',
      );
      const location = upload?.values.imageLocation;
      const bucket = upload?.values.bucket;
      if (typeof location !== 'string' || typeof bucket !== 'string') {
        return err(
          stepFailure(
            'internal',
            'no-upload',
            `step ${ctx.step.id} found no uploaded bundle among its needs`,
          ),
        );
      }
      const connection = await session.connection(ctx.signal);
      if (!connection.ok) return connection;
      const p = ctx.step.params;
      const uploadedPrefix = typeof upload?.values.prefix === 'string' ? upload.values.prefix : '';
      const ownPrefix = `${bucket}/${uploadedPrefix.split('/').slice(0, -1).join('/')}/`;
      const replaced = await replacePrevious(connection.value, {
        name: p.name,
        location,
        ownPrefix,
        log: ctx.log,
        signal: ctx.signal,
      });
      if (!replaced.ok) return replaced;
      // An hvm image boots its own disk: no kernel or ramdisk is ever named.
      const hvm = p.imageType === 'machine' && p.virtualization === 'hvm';
      const kernelId = upload?.values.kernelId;
      const ramdiskId = upload?.values.ramdiskId;
      ctx.log(
        `registering ${location} as '${p.name}' at ${await session.label('ec2', ctx.signal)}`,
      );
      const registered = await registerImage({
        registry: connection.value.registry,
        imageLocation: location,
        name: p.name,
        ...(p.description !== null ? { description: p.description } : {}),
        architecture: p.arch,
        ...(hvm ? { virtualizationType: 'hvm' as const } : {}),
        ...(hvm && p.rootDeviceName !== undefined ? { rootDeviceName: p.rootDeviceName } : {}),
        ...(p.imageType === 'machine' && !hvm && typeof kernelId === 'string' ? { kernelId } : {}),
        ...(p.imageType === 'machine' && !hvm && typeof ramdiskId === 'string'
          ? { ramdiskId }
          : {}),
        isPublic: p.public,
        signal: ctx.signal,
        log: ctx.log,
      });
      if (!registered.ok)
        return err(stepFailure('cloud', 'register-failed', describeCloudFailure(registered.error)));
      const r = registered.value;
      ctx.log(`${r.reused ? 're-used' : 'registered'} ${r.imageId}`);
      const values: Record<string, JsonValue> = {
        imageId: r.imageId,
        imageLocation: location,
        name: p.name,
        replaced: replaced.value,
      };
      return ok({ artifacts: {}, values });
    },
  };
}
