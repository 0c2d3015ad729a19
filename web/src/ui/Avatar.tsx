import type { PresenceState } from '../engine/types.ts';
import { colourIndex, initials } from './format.ts';

/** Initials on a colour derived from the id; a presence dot for people (not groups). */
export function Avatar(props: { id: string; name: string; presence?: PresenceState; size?: 'sm' | 'md' | 'lg' }) {
  const { id, name, presence, size = 'md' } = props;
  return (
    <span class={`avatar avatar--${size} avatar--c${colourIndex(id)}`} aria-hidden="true">
      {initials(name)}
      {presence && presence !== 'unknown' && <span class={`presence-dot presence-dot--${presence}`} />}
    </span>
  );
}
