import { conversationSuite } from './support/conversation-suite.ts';

/** The conversation suite on the Data API driver, as in AWS: its typing of parameters is stricter than pg's. */
conversationSuite({ DB_DRIVER: 'data-api', JWT_SECRET: 'conversations-test-secret-conversations-test' });
