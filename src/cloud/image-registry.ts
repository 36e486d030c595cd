// The narrow port registration needs from the EC2 Query API, and its AWS SDK adapter.
// Every SDK exception becomes a CloudFailure here; callers never see a throw.
import {
  DeregisterImageCommand,
  DescribeImagesCommand,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  type ArchitectureValues,
  type EC2Client,
  type Image,
} from '@aws-sdk/client-ec2';
import { err, ok, type Result } from '../core/result.js';
import { toCloudFailure, type CloudFailure } from './aws-errors.js';

/** One image as DescribeImages reports it (the columns euca-describe-images prints). */
export interface ImageInfo {
  readonly imageId: string;
  /** `bucket/prefix/name.manifest.xml` for instance-store images. */
  readonly imageLocation: string;
  readonly ownerId: string;
  /** `available`, `pending`, `failed`, `deregistered`… */
  readonly state: string;
  readonly isPublic: boolean;
  readonly architecture: string;
  /** `machine`, `kernel` or `ramdisk`. */
  readonly imageType: string;
  readonly name: string;
  readonly description?: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  /** The cloud's reason when `state` is `failed`. */
  readonly stateReason?: string;
  readonly platform?: string;
  readonly rootDeviceType?: string;
  readonly rootDeviceName?: string;
  readonly virtualizationType?: string;
  readonly hypervisor?: string;
}

export interface DescribeImagesQuery {
  readonly imageIds?: readonly string[];
  /** `self`, an account id or `amazon`. */
  readonly owners?: readonly string[];
  readonly executableBy?: readonly string[];
  /** EC2 filters: `image-id`, `name`, `manifest-location`, `image-type`, `state`, `architecture`… */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
}

export interface RegisterImageRequest {
  readonly imageLocation: string;
  readonly name: string;
  readonly description?: string;
  readonly architecture?: string;
  readonly kernelId?: string;
  readonly ramdiskId?: string;
  /** `hvm` for a whole-disk image (sent as VirtualizationType); absent: the cloud's default. */
  readonly virtualizationType?: 'hvm' | 'paravirtual';
  /** Sent as RootDeviceName (hvm images: the root device their manifest implies). */
  readonly rootDeviceName?: string;
}

/** What registration needs from the EC2 API. */
export interface ImageRegistryPort {
  readonly endpoint: string;
  describeImages(
    query: DescribeImagesQuery,
    signal: AbortSignal,
  ): Promise<Result<readonly ImageInfo[], CloudFailure>>;
  registerImage(
    request: RegisterImageRequest,
    signal: AbortSignal,
  ): Promise<Result<string, CloudFailure>>;
  deregisterImage(imageId: string, signal: AbortSignal): Promise<Result<void, CloudFailure>>;
  /** Adds (or removes) the launch permission for everyone (`Group=all`). */
  setPublic(
    imageId: string,
    isPublic: boolean,
    signal: AbortSignal,
  ): Promise<Result<void, CloudFailure>>;
}

function toImageInfo(image: Image): ImageInfo {
  const opt = <K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> =>
    value !== undefined && value !== '' ? ({ [key]: value } as Record<K, string>) : {};
  return {
    imageId: image.ImageId ?? '',
    imageLocation: image.ImageLocation ?? '',
    ownerId: image.OwnerId ?? '',
    state: image.State ?? '',
    isPublic: image.Public === true,
    architecture: image.Architecture ?? '',
    imageType: image.ImageType ?? '',
    name: image.Name ?? '',
    ...opt('description', image.Description),
    ...opt('kernelId', image.KernelId),
    ...opt('ramdiskId', image.RamdiskId),
    ...opt('stateReason', image.StateReason?.Message ?? image.StateReason?.Code),
    ...opt('platform', image.Platform),
    ...opt('rootDeviceType', image.RootDeviceType),
    ...opt('rootDeviceName', image.RootDeviceName),
    ...opt('virtualizationType', image.VirtualizationType),
    ...opt('hypervisor', image.Hypervisor),
  };
}

/** The ImageRegistryPort over an @aws-sdk/client-ec2 client. */
export function sdkImageRegistry(ec2: EC2Client, endpoint: string): ImageRegistryPort {
  const fail = (
    error: unknown,
    operation: string,
    subject: string | undefined,
    signal: AbortSignal,
  ): CloudFailure =>
    toCloudFailure(error, {
      endpoint,
      service: 'ec2',
      operation,
      ...(subject !== undefined ? { subject } : {}),
      signal,
    });
  return {
    endpoint,
    async describeImages(query, signal) {
      const filters = Object.entries(query.filters ?? {}).map(([Name, Values]) => ({
        Name,
        Values: [...Values],
      }));
      try {
        const out = await ec2.send(
          new DescribeImagesCommand({
            ...(query.imageIds !== undefined ? { ImageIds: [...query.imageIds] } : {}),
            ...(query.owners !== undefined ? { Owners: [...query.owners] } : {}),
            ...(query.executableBy !== undefined
              ? { ExecutableUsers: [...query.executableBy] }
              : {}),
            ...(filters.length > 0 ? { Filters: filters } : {}),
          }),
          { abortSignal: signal },
        );
        return ok((out.Images ?? []).map(toImageInfo));
      } catch (error) {
        return err(fail(error, 'DescribeImages', query.imageIds?.join(','), signal));
      }
    },
    async registerImage(request, signal) {
      try {
        const out = await ec2.send(
          new RegisterImageCommand({
            ImageLocation: request.imageLocation,
            Name: request.name,
            ...(request.description !== undefined ? { Description: request.description } : {}),
            ...(request.architecture !== undefined
              ? { Architecture: request.architecture as ArchitectureValues }
              : {}),
            ...(request.kernelId !== undefined ? { KernelId: request.kernelId } : {}),
            ...(request.ramdiskId !== undefined ? { RamdiskId: request.ramdiskId } : {}),
            ...(request.virtualizationType !== undefined
              ? { VirtualizationType: request.virtualizationType }
              : {}),
            ...(request.rootDeviceName !== undefined
              ? { RootDeviceName: request.rootDeviceName }
              : {}),
          }),
          { abortSignal: signal },
        );
        if (out.ImageId === undefined || out.ImageId === '') {
          return err({
            reason: 'unexpected',
            endpoint,
            service: 'ec2',
            operation: 'RegisterImage',
            subject: request.imageLocation,
            cloudMessage: 'the answer holds no imageId',
          });
        }
        return ok(out.ImageId);
      } catch (error) {
        return err(fail(error, 'RegisterImage', request.imageLocation, signal));
      }
    },
    async deregisterImage(imageId, signal) {
      try {
        await ec2.send(new DeregisterImageCommand({ ImageId: imageId }), { abortSignal: signal });
        return ok(undefined);
      } catch (error) {
        return err(fail(error, 'DeregisterImage', imageId, signal));
      }
    },
    async setPublic(imageId, isPublic, signal) {
      const change = {
        LaunchPermission: { [isPublic ? 'Add' : 'Remove']: [{ Group: 'all' as const }] },
      };
      try {
        await ec2.send(new ModifyImageAttributeCommand({ ImageId: imageId, ...change }), {
          abortSignal: signal,
        });
        return ok(undefined);
      } catch (error) {
        return err(fail(error, 'ModifyImageAttribute', imageId, signal));
      }
    },
  };
}
