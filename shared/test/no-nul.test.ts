import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as protocol from '../src/protocol/index.ts';

/**
 * PostgreSQL cannot store U+0000 in text, so a NUL that passed validation used to be a 500. Every string a
 * shared schema accepts must refuse it. The string fields are found by walking every exported schema, so a
 * field added later is covered without touching this test.
 */
type Node = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string }; bag: Record<string, unknown> } };

function stringLeaves(schema: Node, path: string, seen: Set<unknown>, out: [string, Node][]): void {
  const def = schema._zod.def;
  const walk = (child: unknown, suffix: string) => {
    if (child && typeof child === 'object' && '_zod' in child)
      stringLeaves(child as Node, `${path}${suffix}`, seen, out);
  };
  switch (def.type) {
    case 'string':
      out.push([path, schema]);
      return;
    case 'pipe': {
      // A string normalised before its final check (an email trimmed, then checked): the pipe as a whole.
      const input = def.in as Node;
      if (input._zod.def.type === 'string') out.push([path, schema]);
      else walk(def.in, '');
      walk(def.out, '');
      return;
    }
    case 'object':
      for (const [key, child] of Object.entries(def.shape as Record<string, unknown>)) walk(child, `.${key}`);
      walk(def.catchall, '.*');
      return;
    case 'array':
      walk(def.element, '[]');
      return;
    case 'record':
      walk(def.keyType, '{key}');
      walk(def.valueType, '{}');
      return;
    case 'union':
      for (const [i, option] of (def.options as unknown[]).entries()) walk(option, `|${i}`);
      return;
    case 'intersection':
      walk(def.left, '&');
      walk(def.right, '&');
      return;
    case 'tuple':
      for (const [i, item] of (def.items as unknown[]).entries()) walk(item, `[${i}]`);
      walk(def.rest, '[...]');
      return;
    case 'lazy':
      if (seen.has(schema)) return;
      seen.add(schema);
      walk((def.getter as () => unknown)(), '');
      return;
    default:
      walk(def.innerType, '');
  }
}

const leaves: [string, Node][] = [];
const seen = new Set<unknown>();
for (const [name, value] of Object.entries(protocol)) {
  if (value && typeof value === 'object' && '_zod' in value) stringLeaves(value as unknown as Node, name, seen, leaves);
}

/** A value of an acceptable length with a NUL in it. */
function withNul(leaf: Node): string {
  const bag = (leaf._zod.def.type === 'pipe' ? (leaf._zod.def.in as Node) : leaf)._zod.bag;
  const min = Number(bag.minimum ?? 0);
  return `${'a'.repeat(Math.max(0, min - 2))}\u0000a`;
}

describe('U+0000 in shared schemas', () => {
  it('finds the string fields of the protocol (display names, search queries, device and group names...)', () => {
    const paths = leaves.map(([path]) => path);
    expect(paths.length).toBeGreaterThan(30);
    expect(paths).toEqual(expect.arrayContaining(['RegisterRequest.displayName', 'UserSearchQuery.query']));
    expect(paths.some((path) => path.startsWith('RegisterDeviceRequest.name'))).toBe(true);
    expect(paths.some((path) => path.startsWith('CreateConversationRequest') && path.endsWith('.name'))).toBe(true);
  });

  it.each(leaves)('%s refuses a string containing U+0000', (_, leaf) => {
    expect(leaf.safeParse(withNul(leaf)).success).toBe(false);
  });

  it('still accepts ordinary text, including other control-free Unicode', () => {
    expect(protocol.DisplayName.parse('Ada Lovelace 🚀 Zoë')).toBe('Ada Lovelace 🚀 Zoë');
    expect(
      protocol.RegisterRequest.safeParse({ email: 'a@b.co', password: 'x'.repeat(12), displayName: 'A' }).success,
    ).toBe(true);
  });
});
