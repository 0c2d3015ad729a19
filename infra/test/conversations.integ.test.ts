import { conversationSuite } from './support/conversation-suite.ts';

/** Conversations, members, roles and their system events through the twin on real PostgreSQL (node-postgres). */
conversationSuite({});
