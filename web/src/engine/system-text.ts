import type { SystemEvent } from '@ciphertalk/shared/protocol';

/** A system event as a line in the timeline ("Ada added Bob and Carol"). */
export function systemText(event: SystemEvent, nameOf: (userId: string | null) => string): string {
  const list = (ids: readonly string[]) => {
    const names = ids.map(nameOf);
    return names.length <= 1 ? (names[0] ?? 'nobody') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  };
  switch (event.event) {
    case 'created':
      return `${nameOf(event.actorId)} created the conversation`;
    case 'updated':
      return event.name !== undefined
        ? `${nameOf(event.actorId)} renamed the group to “${event.name}”`
        : `${nameOf(event.actorId)} changed the group picture`;
    case 'members_added':
      return `${nameOf(event.actorId)} added ${list(event.userIds)}`;
    case 'member_removed':
      return `${nameOf(event.actorId)} removed ${nameOf(event.userId)}`;
    case 'member_left':
      return `${nameOf(event.userId)} left`;
    case 'role_changed':
      return event.actorId === null
        ? `${nameOf(event.userId)} is now the ${event.role}`
        : `${nameOf(event.actorId)} made ${nameOf(event.userId)} ${event.role === 'member' ? 'a member' : `an ${event.role}`}`;
  }
}
