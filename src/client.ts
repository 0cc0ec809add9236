/** Kept for imports of the old path: the kafkajs client lives in src/kafkajs/client.ts (the control-plane seam). */
export * from './kafkajs/client.js'
