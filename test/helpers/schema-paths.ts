// Every property path a JSON Schema declares (`install.debootstrap.suite`,
// `customize.users[].name`), following $ref into $defs. For the docs check.

type Schema = Record<string, unknown>;

/** Dotted paths of all properties under `schema`, sorted; list items shown as `[]`. */
export function schemaPropertyPaths(root: Schema): string[] {
  const defs = (root.$defs ?? {}) as Record<string, Schema>;
  const out = new Set<string>();
  const resolve = (schema: Schema): Schema => {
    const ref = schema.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/$defs/')) {
      const target = defs[ref.slice('#/$defs/'.length)] ?? {};
      return { ...resolve(target), ...schema, $ref: undefined };
    }
    return schema;
  };
  const walk = (schema: Schema, prefix: string, depth: number): void => {
    if (depth > 10) return;
    const s = resolve(schema);
    const properties = (s.properties ?? {}) as Record<string, Schema>;
    for (const [name, child] of Object.entries(properties)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      out.add(path);
      walk(child, path, depth + 1);
    }
    if (s.items && typeof s.items === 'object') walk(s.items as Schema, `${prefix}[]`, depth + 1);
  };
  walk(root, '', 0);
  return [...out].sort();
}
