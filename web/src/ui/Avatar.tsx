import { useContext } from 'preact/hooks';
import type { PresenceState } from '../engine/types.ts';
import { EngineContext } from './engine-context.ts';
import { colourIndex, initials } from './format.ts';

/**
 * The person's or group's picture when one was shared (decrypted by the engine, an object URL), else initials on a
 * colour derived from the id; a presence dot for people (not groups).
 */
export function Avatar(props: { id: string; name: string; presence?: PresenceState; size?: 'sm' | 'md' | 'lg' }) {
  const { id, name, presence, size = 'md' } = props;
  const picture = useContext(EngineContext)?.avatars.value[id];
  return (
    <span class={`avatar avatar--${size} avatar--c${colourIndex(id)}`} aria-hidden="true">
      {picture ? <img class="avatar__image" src={picture} alt="" data-testid="avatar-image" /> : initials(name)}
      {presence && presence !== 'unknown' && <span class={`presence-dot presence-dot--${presence}`} />}
    </span>
  );
}
