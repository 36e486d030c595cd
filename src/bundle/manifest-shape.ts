// Where each element a manifest reader looks at may stand, and how often: the shape of
// spec §2.9. A known element anywhere else, twice under one parent, with text where
// elements belong or elements where text belongs, is refused, so that every reader
// (ours, Eucalyptus' XPaths such as //user, the signature's slices) finds the same one.
// Unknown elements (ec2-ami-tools' kernel_name, ancestry) are let through untouched.
import { err, ok, type Result } from '../core/result.js';
import type { XmlElement } from './manifest-xml.js';

interface Rule {
  /** The element names it may stand in; empty for the root. */
  readonly parents: readonly string[];
  readonly kind: 'leaf' | 'container';
  /** May appear more than once under one parent. */
  readonly repeated?: boolean;
}

const leaf = (...parents: string[]): Rule => ({ parents, kind: 'leaf' });
const container = (...parents: string[]): Rule => ({ parents, kind: 'container' });

const RULES: Readonly<Record<string, Rule>> = {
  manifest: container(),
  version: leaf('manifest', 'bundler'),
  bundler: container('manifest'),
  name: leaf('bundler', 'image'),
  release: leaf('bundler'),
  machine_configuration: container('manifest'),
  architecture: leaf('machine_configuration'),
  block_device_mapping: container('machine_configuration'),
  mapping: { ...container('block_device_mapping'), repeated: true },
  virtual: leaf('mapping'),
  device: leaf('mapping'),
  product_codes: container('machine_configuration'),
  product_code: { ...leaf('product_codes'), repeated: true },
  kernel_id: leaf('machine_configuration'),
  ramdisk_id: leaf('machine_configuration'),
  image: container('manifest'),
  user: leaf('image'),
  type: leaf('image'),
  digest: leaf('image', 'part'),
  size: leaf('image'),
  bundled_size: leaf('image'),
  ec2_encrypted_key: leaf('image'),
  user_encrypted_key: leaf('image'),
  ec2_encrypted_iv: leaf('image'),
  user_encrypted_iv: leaf('image'),
  parts: container('image'),
  part: { ...container('parts'), repeated: true },
  filename: leaf('part'),
  signature: leaf('manifest'),
};

export interface ShapeProblem {
  /** Path of the offending element, e.g. `manifest/image/size[2]`. */
  readonly field: string;
  readonly problem: string;
}

/** Checks the whole tree under `root` against the rules above; the first problem found. */
export function checkManifestShape(root: XmlElement): Result<undefined, ShapeProblem> {
  if (root.name !== 'manifest')
    return err({ field: root.path, problem: 'the root element must be <manifest>' });
  const pending: { element: XmlElement; parent: string | undefined }[] = [
    { element: root, parent: undefined },
  ];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const { element, parent } = item;
    const rule = RULES[element.name];
    if (rule !== undefined) {
      if (parent !== undefined && !rule.parents.includes(parent))
        return err({
          field: element.path,
          problem: `<${element.name}> does not belong inside <${parent}> (expected in ${rule.parents.map((p) => `<${p}>`).join(' or ')})`,
        });
      if (rule.kind === 'leaf' && element.children.length > 0)
        return err({
          field: element.path,
          problem: `expected text only, found the element <${element.children[0]?.name ?? ''}>`,
        });
      if (rule.kind === 'container' && element.text.trim() !== '')
        return err({
          field: element.path,
          problem: `expected elements only, found the text '${element.text.trim().slice(0, 40)}'`,
        });
    }
    const seen = new Set<string>();
    for (const child of element.children) {
      const childRule = RULES[child.name];
      if (childRule !== undefined && childRule.repeated !== true && seen.has(child.name))
        return err({
          field: child.path,
          problem: `<${child.name}> appears more than once in <${element.name}>: readers could take either, so the manifest is refused`,
        });
      seen.add(child.name);
    }
    // Reversed onto the stack, so that problems are found in document order.
    for (const child of [...element.children].reverse())
      pending.push({ element: child, parent: element.name });
  }
  return ok(undefined);
}
