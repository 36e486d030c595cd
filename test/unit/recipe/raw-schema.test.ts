// RawRecipe (src/recipe/raw.ts) mirrors schemas/recipe.schema.json by hand, and ajv's type
// guard (schema.ts) trusts it: every schema property must be a RawRecipe member and every
// member a schema property. The list below is checked both ways: against RawRecipe by the
// compiler (a missing or unknown path does not typecheck), against the schema by the test.
import { describe, expect, test } from '@jest/globals';
import type { RawRecipe } from '../../../src/recipe/raw.js';
import { readRecipeSchema } from '../../../src/recipe/schema.js';
import { schemaPropertyPaths } from '../../helpers/schema-paths.js';

/** The members below a value of type V at path Q: list items as `[]`, maps of any key not walked. */
type MemberPaths<V, Q extends string> = V extends readonly (infer U)[]
  ? MemberPaths<U, `${Q}[]`>
  : V extends object
    ? string extends keyof V
      ? never
      : PropertyPaths<V, `${Q}.`>
    : never;

/** Dotted paths of every property of T, as schemaPropertyPaths writes them. */
type PropertyPaths<T, P extends string = ''> = {
  [K in keyof T & string]-?: `${P}${K}` | MemberPaths<NonNullable<T[K]>, `${P}${K}`>;
}[keyof T & string];

const RAW_RECIPE_PATHS: Record<PropertyPaths<RawRecipe>, true> = {
  arch: true,
  bundle: true,
  'bundle.account': true,
  'bundle.blockDeviceMapping': true,
  'bundle.cert': true,
  'bundle.cloudCert': true,
  'bundle.partSize': true,
  'bundle.privateKey': true,
  customize: true,
  'customize.commands': true,
  'customize.files': true,
  'customize.files[].content': true,
  'customize.files[].mode': true,
  'customize.files[].owner': true,
  'customize.files[].path': true,
  'customize.files[].source': true,
  'customize.packages': true,
  'customize.rcLocal': true,
  'customize.sshHostKeyTypes': true,
  'customize.rcLocal.lines': true,
  'customize.rcLocal.metadataSshKey': true,
  'customize.rcLocal.metadataSshKey.timeout': true,
  'customize.rcLocal.metadataSshKey.url': true,
  'customize.rcLocal.metadataSshKey.user': true,
  'customize.rcLocal.modules': true,
  'customize.remove': true,
  'customize.users': true,
  'customize.users[].comment': true,
  'customize.users[].groups': true,
  'customize.users[].name': true,
  'customize.users[].shell': true,
  'customize.users[].sshAuthorizedKeys': true,
  'customize.users[].sudo': true,
  'customize.users[].uid': true,
  description: true,
  disk: true,
  'disk.format': true,
  'disk.size': true,
  extract: true,
  image: true,
  'image.virtualization': true,
  'extract.kernel': true,
  'extract.rootfsSize': true,
  install: true,
  'install.answerFile': true,
  'install.answers': true,
  'install.debootstrap': true,
  'install.debootstrap.components': true,
  'install.debootstrap.kernelPackage': true,
  'install.debootstrap.mirror': true,
  'install.debootstrap.packages': true,
  'install.debootstrap.suite': true,
  'install.debootstrap.variant': true,
  'install.iso': true,
  'install.iso.path': true,
  'install.iso.sha256': true,
  'install.iso.url': true,
  'install.kernelArgs': true,
  'install.locale': true,
  'install.swap': true,
  'install.timezone': true,
  'install.vm': true,
  'install.vm.accel': true,
  'install.vm.cpus': true,
  'install.vm.memory': true,
  'install.vm.timeout': true,
  name: true,
  publish: true,
  'publish.acl': true,
  'publish.bucket': true,
  'publish.cloud': true,
  'publish.credentials': true,
  'publish.credentials.accessKey': true,
  'publish.credentials.secretKey': true,
  'publish.description': true,
  'publish.endpoints': true,
  'publish.endpoints.ec2': true,
  'publish.endpoints.s3': true,
  'publish.names': true,
  'publish.names.kernel': true,
  'publish.names.machine': true,
  'publish.names.ramdisk': true,
  'publish.prefix': true,
  'publish.public': true,
  'publish.region': true,
  test: true,
  'test.accel': true,
  'test.boot': true,
  'test.commands': true,
  'test.cpus': true,
  'test.memory': true,
  'test.timeout': true,
  'test.user': true,
  store: true,
  'store.lease': true,
  'store.url': true,
};

describe('RawRecipe', () => {
  test('has exactly the properties of the schema', () => {
    expect(Object.keys(RAW_RECIPE_PATHS).sort()).toEqual(schemaPropertyPaths(readRecipeSchema()));
  });
});
