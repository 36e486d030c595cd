// What the step kinds need from a loaded recipe beyond each step's params, derived once
// here where the recipe is loaded: the publishing target with its secret, the embedded
// cloud's data dir, the bundle identity files, and what pre-flight checks.
import { localCloudDataDir } from '../local-cloud/publish-target.js';
import type { PublishTargetParams } from '../plan/step-params.js';
import type { Recipe } from '../recipe/model.js';
import type { StepKindOptions } from '../steps/registry.js';

/**
 * The publishing target of `recipe` as the steps' params carry it (plan/default-graph.ts
 * builds the same value into every publishing step; a unit test holds them equal).
 */
export function publishTargetParams(recipe: Recipe): PublishTargetParams {
  const publish = recipe.publish;
  return {
    cloud: publish.cloud,
    ec2Endpoint: publish.endpoints.ec2 ?? null,
    s3Endpoint: publish.endpoints.s3 ?? null,
    region: publish.region,
    accessKeyId: publish.credentials?.accessKey ?? null,
  };
}

/** The options of createStepKinds for `recipe` (secrets included: never print them). */
export function stepKindOptions(recipe: Recipe): StepKindOptions {
  const bundle = recipe.bundle;
  return {
    publish: {
      target: publishTargetParams(recipe),
      secretKey: recipe.publish.credentials?.secretKey ?? null,
      localDataDir: localCloudDataDir(recipe.dir),
      identity: {
        account: bundle.account !== undefined && bundle.account !== '' ? bundle.account : null,
        certPath: bundle.cert?.path ?? null,
        privateKeyPath: bundle.privateKey?.path ?? null,
        cloudCertPath: bundle.cloudCert?.path ?? null,
      },
    },
    preflight: {
      bucket: recipe.publish.bucket,
      prefix: recipe.publish.prefix,
      // An hvm machine image is the whole disk, and registers no kernel or ramdisk.
      imageSizeBytes:
        recipe.image.virtualization === 'hvm'
          ? recipe.disk.sizeBytes
          : recipe.extract.rootfsSizeBytes,
      registersKernel: recipe.image.virtualization !== 'hvm',
    },
  };
}
