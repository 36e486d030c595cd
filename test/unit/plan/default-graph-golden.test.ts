// The default graph of the shipped and test recipes, step by step (id, kind, needs, section,
// inputs, params in their written order, fingerprint), against a golden file: a refactoring
// of the recipe model or the graph builder must leave every step's fingerprint unchanged.
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, test } from '@jest/globals';
import { loadRecipeText } from '../../../src/recipe/load-recipe.js';
import { defaultGraphInput } from '../../../src/plan/default-graph.js';
import { fingerprintOf } from '../../../src/plan/fingerprint.js';
import { expectGolden } from '../../helpers/golden-text.js';
import { repoPath } from '../../helpers/paths.js';

/** Every value the recipe can set, away from its default, on a real (eucalyptus) cloud. */
const EVERYTHING = `name: every-key
description: all keys set
arch: i386
disk: { size: 3GiB, format: raw }
install:
  iso: { url: "https://example.org/x.iso", sha256: "ABCDEF0000000000000000000000000000000000000000000000000000000000" }
  answers: kickstart
  answerFile: ./answers/ks.cfg
  locale: de_DE.UTF-8
  timezone: Europe/Berlin
  swap: 512M
  kernelArgs: [priority=critical, quiet]
  vm: { memory: 2G, cpus: 3, accel: tcg, timeout: 1h30m }
customize:
  packages: [curl, less]
  users:
    - name: alice
      groups: [adm, sudo]
      shell: /bin/sh
      sudo: "ALL=(ALL) ALL"
      uid: 1001
      comment: Alice A
      sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGV4YW1wbGVrZXlleGFtcGxla2V5ZXhhbXBsZWtleQ alice@laptop"]
    - { name: bob }
  rcLocal:
    metadataSshKey: { user: alice, url: "http://10.0.0.1/key", timeout: 90s }
    modules: [acpiphp]
    lines: [depmod -a]
  files:
    - { path: /etc/motd, content: "hello\\n", mode: "0600", owner: "alice:adm" }
    - { path: /etc/issue, source: ./files/issue }
    - { path: /etc/banner, content: banner }
    - { path: /usr/local/bin/tool, source: ./files/tool, mode: "0755" }
  remove: [/etc/hostname]
  commands: [systemctl enable ssh]
extract: { kernel: 6.1.0-18-686-pae, rootfsSize: 2500M }
bundle:
  account: 1234-5678-9012
  cert: ./keys/cert.pem
  privateKey: ./keys/pk.pem
  cloudCert: ./keys/cloud-cert.pem
  partSize: 5MiB
  blockDeviceMapping: { ami: sda1, root: /dev/sda1, swap: sda3 }
publish:
  cloud: eucalyptus
  endpoints: { ec2: "https://ec2.example.org:8773/", s3: "https://s3.example.org:8773/" }
  region: eu-west-1
  credentials: { accessKey: AKIDEXAMPLE, secretKey: "\${env.SECRET}" }
  bucket: images
  prefix: images/every
  names: { kernel: every-eki, ramdisk: every-eri, machine: every-emi }
  description: "registered with kernel \${steps.extract-kernel.kernelVersion}"
  public: true
  acl: public-read
test: { boot: true, user: bob, commands: [uname -a], timeout: 7m, memory: 768M, cpus: 2, accel: kvm }
`;

/** An aws recipe whose bundle inputs come from the eucarc variables. */
const FROM_ENV = `name: from-env
disk: { size: 1G }
install: { iso: { path: ./x.iso }, answers: autoinstall }
customize: { rcLocal: { modules: [virtio] } }
image: { virtualization: hvm }
publish: { cloud: aws }
`;

const ENV = {
  SECRET: 'not-in-any-fingerprint',
  EC2_USER_ID: '210987654321',
  EC2_CERT: '/etc/euca/cert.pem',
  EC2_PRIVATE_KEY: '/etc/euca/pk.pem',
  EUCALYPTUS_CERT: '/etc/euca/cloud-cert.pem',
  EC2_ACCESS_KEY: 'AKIDENV',
  EC2_SECRET_KEY: 'secret-from-env',
  AWS_REGION: 'ap-south-1',
};

function describeGraph(file: string, text: string): string {
  const loaded = loadRecipeText(file, text, {
    env: ENV,
    strictInputs: false,
    fileExists: () => true,
  });
  if (!loaded.recipe) throw new Error(`${file}: ${JSON.stringify(loaded.diagnostics)}`);
  const dir = loaded.recipe.dir;
  const input = defaultGraphInput(loaded.recipe);
  const lines = [`# ${relative(repoPath(), loaded.recipe.path)}`];
  for (const step of input.steps) {
    const inputs = step.inputs.map((i) => ({
      ...i,
      path: i.path.startsWith('/etc/euca/') ? i.path : relative(dir, i.path),
    }));
    const digests = Object.fromEntries(step.inputs.map((i) => [i.name, `digest of ${i.name}`]));
    const fingerprint = fingerprintOf({
      kind: step.kind,
      params: step.params,
      inputs: digests,
      upstream: Object.fromEntries(step.needs.map((n) => [n, `outputs of ${n}`])),
      tools: {},
    });
    lines.push(
      `${step.id} ${step.kind} ${fingerprint}`,
      `  needs ${JSON.stringify(step.needs)} section ${JSON.stringify(step.section)}`,
      `  inputs ${JSON.stringify(inputs)}`,
      `  params ${JSON.stringify(step.params)}`,
    );
  }
  for (const [edge, location] of input.edgeLocations ?? []) {
    lines.push(`edge ${edge} at ${JSON.stringify(location.range.start)}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('default graph golden', () => {
  const shipped = readdirSync(repoPath('recipes'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => repoPath('recipes', f));
  const fixtures = [
    repoPath('test', 'fixtures', 'recipes', 'engine', 'demo.yaml'),
    repoPath('test', 'fixtures', 'recipes', 'valid', 'env-typed.yaml'),
    repoPath('test', 'fixtures', 'recipes', 'valid', 'minimal-debootstrap.yaml'),
  ];

  test('steps of the shipped and test recipes keep their params and fingerprints', () => {
    const text = [...shipped, ...fixtures]
      .map((file) => describeGraph(file, readFileSync(file, 'utf8')))
      .join('\n');
    expectGolden('plan/default-graph.golden', text);
  });

  test('a recipe that sets every key keeps its params and fingerprints', () => {
    const text = [
      describeGraph(repoPath('test', 'fixtures', 'plan', 'every-key.yaml'), EVERYTHING),
      describeGraph(repoPath('test', 'fixtures', 'plan', 'from-env.yaml'), FROM_ENV),
    ].join('\n');
    expectGolden('plan/default-graph-every-key.golden', text);
  });
});
